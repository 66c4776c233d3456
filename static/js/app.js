// Small progressive enhancements shared by every page.
document.addEventListener("htmx:responseError", (event) => {
  // Show server-side errors of htmx requests instead of failing silently.
  const box = document.getElementById("messages");
  if (!box) return;
  const div = document.createElement("div");
  div.className = "flash flash-error";
  div.setAttribute("role", "alert");
  div.textContent = event.detail.xhr.status === 403
    ? "You may not do that. Nothing was changed."
    : "The change could not be saved (error " + event.detail.xhr.status + "). Please try again.";
  box.appendChild(div);
});

document.addEventListener("htmx:beforeRequest", (event) => {
  // A region that reloads itself (a score table after a recompute) waits while something in it is being
  // edited: data-refresh-paused-by names what (e.g. "details[open]" for an open recalibration form).
  const region = event.detail.elt;
  const pausedBy = region.dataset && region.dataset.refreshPausedBy;
  if (pausedBy && region.querySelector(pausedBy)) event.preventDefault();
});

document.addEventListener("focusin", (event) => {
  // Read-only fields to copy from (a calendar feed link) select their whole text when focused.
  if (event.target.matches && event.target.matches("input[data-select-on-focus]")) event.target.select();
});
