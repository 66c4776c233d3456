// Small progressive enhancements shared by every page.
document.addEventListener("htmx:responseError", (event) => {
  // Show server-side errors of htmx requests instead of failing silently.
  const box = document.getElementById("messages");
  if (!box) return;
  const div = document.createElement("div");
  div.className = "flash flash-error";
  div.setAttribute("role", "alert");
  const status = event.detail.xhr.status;
  div.textContent = status === 403
    ? "You may not do that. Nothing was changed."
    : status === 503
      ? "The database is unavailable: the change may not have been saved. Please try again in a moment."
      : "The change could not be saved (error " + status + "). Please try again.";
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

// A list that htmx swaps after one of its buttons (Mark done on Home) keeps the keyboard user's place: focus
// goes to the button now at the same position (the next item's), or to the region's heading when none is left.
let keepFocus = null;
document.addEventListener("htmx:beforeRequest", (event) => {
  const region = event.detail.elt.closest && event.detail.elt.closest("[data-keep-focus]");
  if (!region) return;
  const buttons = Array.from(region.querySelectorAll("button"));
  keepFocus = { region, index: buttons.indexOf(document.activeElement) };
});
document.addEventListener("htmx:afterRequest", (event) => {
  if (!event.detail.successful) keepFocus = null; // nothing swapped: focus is still where it was
});
document.addEventListener("htmx:afterSettle", () => {
  if (!keepFocus) return;
  const region = document.getElementById(keepFocus.region.id);
  if (region === keepFocus.region) return; // another swap settled first; the region is not back yet
  const { index } = keepFocus;
  keepFocus = null;
  if (!region || index < 0) return;
  const next = region.querySelectorAll("button")[index] || region.querySelector("h2, h3");
  next?.focus();
});

// The top bar's menus (organizations, account) are <details>: one open at a time, since they overlap; Escape
// or a click elsewhere closes them, and Escape gives the focus back to the menu's button.
const topMenus = () => Array.from(document.querySelectorAll(".usermenu details"));
document.addEventListener("toggle", (event) => {
  const menu = event.target;
  if (!menu.open || !menu.matches?.(".usermenu details")) return;
  for (const other of topMenus()) if (other !== menu) other.open = false;
}, true); // "toggle" does not bubble
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of topMenus()) {
    if (!menu.open) continue;
    menu.open = false;
    if (menu.contains(document.activeElement)) menu.querySelector("summary")?.focus();
  }
});
document.addEventListener("click", (event) => {
  for (const menu of topMenus()) if (menu.open && !menu.contains(event.target)) menu.open = false;
});

// A table too wide for the screen scrolls sideways inside its .table-wrap; keyboard users reach that scroll
// only if the wrapper takes the focus, so while it scrolls it is a named, focusable region (arrow keys scroll
// it), and when it fits it is left out of the Tab order.
function scrollRegionsFocusable() {
  for (const wrap of document.querySelectorAll(".table-wrap")) {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      if (wrap.hasAttribute("tabindex")) continue;
      const table = wrap.querySelector("table");
      const named = table && (table.caption || table.getAttribute("aria-label")
        || document.getElementById(table.getAttribute("aria-labelledby") || ""));
      const name = typeof named === "string" ? named : named?.textContent;
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", `${(name || "Table").trim()} (scrolls sideways)`);
      wrap.dataset.scrollRegion = "";
    } else if (wrap.hasAttribute("data-scroll-region")) {
      for (const attribute of ["tabindex", "role", "aria-label", "data-scroll-region"]) wrap.removeAttribute(attribute);
    }
  }
}
document.addEventListener("DOMContentLoaded", scrollRegionsFocusable);
document.addEventListener("htmx:afterSettle", scrollRegionsFocusable);
let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(scrollRegionsFocusable, 150);
});
