// Data entry: Enter in a value or comment cell moves to the next KPI's value (the last one to "Save all"),
// and the decimal-separator toggle is remembered in this browser, converting the values already shown.
(() => {
  const form = document.getElementById("entry-form");
  const select = document.getElementById("decimal-separator");
  if (!form || !select) return;
  const KEY = "bsc.decimalSeparator";
  const valueInputs = () => Array.from(form.querySelectorAll("input.entry-value"));
  const PLAIN = /^-?\d+([.,]\d+)?$/; // a number as the server prints it, without grouping

  const convert = (from, to) => {
    if (from === to) return;
    for (const input of valueInputs()) {
      if (PLAIN.test(input.value.trim())) input.value = input.value.trim().replace(from, to);
    }
  };

  let current = select.value;
  let stored = null;
  try { stored = localStorage.getItem(KEY); } catch (e) { /* storage may be disabled */ }
  if ((stored === "." || stored === ",") && stored !== current) {
    select.value = stored;
    convert(current, stored);
    current = stored;
  }

  select.addEventListener("change", () => {
    convert(current, select.value);
    current = select.value;
    try { localStorage.setItem(KEY, current); } catch (e) { /* not remembered, still used */ }
    for (const input of valueInputs()) {
      if (input.value.trim() && window.htmx) htmx.trigger(input, "change"); // refresh the status previews
    }
  });

  form.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.matches(".entry-value, .entry-comment")) return;
    event.preventDefault(); // Enter moves on; saving is the row's button or "Save all"
    const all = valueInputs();
    const here = all.findIndex((v) => v.closest("tbody") === input.closest("tbody"));
    const next = all[here + 1];
    if (next) {
      next.focus();
      next.select();
    } else {
      document.getElementById("save-all")?.focus();
    }
  });
})();
