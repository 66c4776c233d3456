// KPI form: show the band fields only for band KPIs, the formula only for formula KPIs, the roll-up method
// only for roll-up KPIs. Without JavaScript every field stays visible (their help says when they apply).
document.addEventListener("DOMContentLoaded", () => {
  const dependents = document.querySelectorAll("[data-show-when]");
  const update = () => {
    dependents.forEach((box) => {
      const control = document.getElementById(box.dataset.showWhen);
      if (control) box.hidden = control.value !== box.dataset.showValue;
    });
  };
  const controls = new Set([...dependents].map((box) => box.dataset.showWhen));
  controls.forEach((id) => document.getElementById(id)?.addEventListener("change", update));
  update();
});
