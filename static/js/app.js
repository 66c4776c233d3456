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
