// Data entry: Enter in a value or comment cell moves to the next KPI's value (the last one to "Save all"),
// and the decimal-separator switch converts the values already shown, then sends ONE request for the whole
// page: it keeps the person's choice (across log-ins) and answers every row's status preview (swapped out of
// band), instead of one status request per row.
// Keyboard users keep their place: after a refused "Save all" focus starts on the first value in error (the
// summary at the top links to each); after a row's own Save (htmx swaps the row), focus moves on to the next
// KPI's value as Enter does when the row was saved, and back to the row's value when it was refused.
// Values typed but not saved make leaving the page ask first (beforeunload), until they are saved.
(() => {
  const form = document.getElementById("entry-form");
  const select = document.getElementById("decimal-separator");
  if (!form || !select) return;
  const valueInputs = () => Array.from(form.querySelectorAll("input.entry-value"));
  const PLAIN = /^-?\d+([.,]\d+)?$/; // a number as the server prints it, without grouping

  let current = select.value;
  select.addEventListener("change", () => {
    for (const input of valueInputs()) {
      if (PLAIN.test(input.value.trim())) input.value = input.value.trim().replace(current, select.value);
    }
    current = select.value;
    if (window.htmx) htmx.trigger(select, "separator-changed"); // hx-post on the select: one request
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
  // The error summary of a refused "Save all" forgets a row once its own Save went through, and goes when
  // no row is left to fix (it would otherwise still say "Nothing was saved" over saved rows).
  const pruneErrorSummary = () => {
    const summary = document.getElementById("entry-errors");
    if (!summary) return;
    let pruned = false;
    for (const link of summary.querySelectorAll("a[href^='#value-']")) {
      const row = document.getElementById(link.getAttribute("href").slice(1))?.closest("tbody");
      if (!row || !row.classList.contains("row-invalid")) {
        link.closest("li").remove();
        pruned = true;
      }
    }
    const left = summary.querySelectorAll("li").length;
    if (!left) summary.remove();
    else if (pruned) summary.querySelector("h2").textContent = left === 1 ? "Still to fix: this value" : `Still to fix: these ${left} values`;
  };
  document.addEventListener("htmx:afterSettle", pruneErrorSummary);

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

  // Leaving with values typed but not saved asks first. "Saved" is what the server rendered as data-stored on
  // each input (a refused "Save all" shows the typed values, but they are not saved).
  const unsaved = () => Array.from(form.querySelectorAll("input.entry-value, input.entry-comment")).some((input) => {
    const typed = input.value.trim();
    const stored = input.dataset.stored ?? ""; // a value with '.', as the server prints it
    return typed !== (input.classList.contains("entry-value") ? stored.replace(".", select.value) : stored);
  });
  let submitting = false; // "Save all" (or a row's Save without htmx) leaves the page to save
  form.addEventListener("submit", () => { submitting = true; });
  window.addEventListener("pageshow", () => { submitting = false; }); // back from the bfcache
  window.addEventListener("beforeunload", (event) => {
    if (submitting || !unsaved()) return;
    event.preventDefault();
    event.returnValue = ""; // older Chromium asks for it; the browser shows its own wording
  });

  // A red value's comment is its cause (kpis/causes.py): the status preview says whether the value asks for one
  // (data-cause), and the comment input reads as "Cause" then, on desktop and in the phone card's label.
  document.addEventListener("htmx:afterSettle", () => {
    for (const status of form.querySelectorAll(".entry-status[data-cause]")) {
      const comment = document.getElementById(`comment-${status.id.replace("status-", "")}`);
      if (!comment) continue;
      const cause = status.dataset.cause !== "";
      comment.placeholder = cause ? "Cause (required)" : "";
      comment.setAttribute("aria-label", cause ? comment.dataset.causeLabel : comment.dataset.commentLabel);
      comment.closest("td")?.setAttribute("data-label", cause ? "Cause" : "Comment");
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
