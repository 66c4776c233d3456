// Data entry: Enter in a value or comment cell moves to the next KPI's value (the last one to "Save all"),
// and the decimal-separator toggle is remembered in this browser, converting the values already shown.
// Keyboard users keep their place: after a refused "Save all" focus starts on the first value in error (the
// summary at the top links to each); after a row's own Save (htmx swaps the row), focus moves on to the next
// KPI's value as Enter does when the row was saved, and back to the row's value when it was refused.
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

  const focusValue = (input) => {
    if (!input) return false;
    input.focus();
    input.select();
    return true;
  };

  focusValue(form.querySelector('input.entry-value[aria-invalid="true"]')); // after a refused "Save all"

  document.getElementById("entry-errors")?.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#value-']");
    if (!link) return;
    event.preventDefault();
    focusValue(document.getElementById(link.getAttribute("href").slice(1)));
  });

  let savingRow = null; // the row whose Save button sent the request in flight (htmx replaces it)
  const isRowSave = (elt) => elt.matches?.(".entry-row button[hx-post]");
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (isRowSave(event.detail.elt)) savingRow = event.detail.elt.closest("tbody");
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (!event.detail.successful && isRowSave(event.detail.elt)) savingRow = null;
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!savingRow) return;
    const row = document.getElementById(savingRow.id);
    if (row === savingRow) return; // another swap (a status preview) settled first; the row is not back yet
    savingRow = null;
    const lost = !document.activeElement || document.activeElement === document.body || !document.activeElement.isConnected;
    if (!row || !lost) return; // the person moved on meanwhile: leave them there
    if (row.classList.contains("row-invalid")) {
      focusValue(row.querySelector("input.entry-value"));
      return;
    }
    const all = valueInputs();
    const here = all.findIndex((v) => v.closest("tbody") === row);
    if (!focusValue(all[here + 1])) document.getElementById("save-all")?.focus();
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
