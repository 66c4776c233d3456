// Evidence files panels (templates/attachments/panel.html): a file over the size limit is refused before it is
// sent (the server refuses it too), with the same words.
(function () {
  if (window.evidenceFilesReady) return; // the script is included once per embedded panel
  window.evidenceFilesReady = true;
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(".evidence-form input[type=file]")) return;
    var form = input.closest(".evidence-form");
    var max = parseInt(form.dataset.maxBytes, 10);
    var file = input.files && input.files[0];
    if (file && max && file.size > max) {
      input.setCustomValidity("“" + file.name + "” is larger than the " + form.dataset.limit + " limit for evidence files.");
      input.reportValidity();
    } else {
      input.setCustomValidity("");
    }
  });
})();
