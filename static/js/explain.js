// 'Why this score?' (templates/kpis/includes/explain_button.html): a button shows or hides the panel it controls;
// htmx loads the calculation into the panel on the first click.
document.addEventListener("click", (event) => {
  const button = event.target.closest(".explain-toggle");
  if (!button) return;
  const panel = document.getElementById(button.getAttribute("aria-controls"));
  if (!panel) return;
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  panel.hidden = !open;
});
