// Confirmation for destructive forms, and auto-submitting filters; kept in a
// file because the Content-Security-Policy forbids inline scripts.
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) e.preventDefault();
});
document.addEventListener("change", function (e) {
  if (e.target.hasAttribute("data-autosubmit")) e.target.form.submit();
});
// Upload progress of the catalog import form (htmx posts it with XHR).
document.addEventListener("htmx:xhr:progress", function (e) {
  var bar = document.getElementById("upload-progress");
  if (bar && e.detail.lengthComputable) {
    bar.hidden = false;
    bar.value = (e.detail.loaded / e.detail.total) * 100;
  }
});
