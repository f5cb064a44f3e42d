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
// Fields that matter for one choice only (data-show-when="NAME=VALUE"): a
// promotion's brand or SKUs, a feed format's options. Without script every
// field shows.
function showWhen() {
  document.querySelectorAll("[data-show-when]").forEach(function (el) {
    var rule = el.getAttribute("data-show-when").split("=");
    var field = el.closest("form") && el.closest("form").elements[rule[0]];
    if (!field) return;
    var values = rule[1].split("|");
    el.hidden = values.indexOf(field.value) < 0;
  });
}
document.addEventListener("DOMContentLoaded", showWhen);
document.addEventListener("change", function (e) {
  if (e.target.form && e.target.form.querySelector("[data-show-when]")) showWhen();
});
// Live length counters of the search ads (data-line-limit="30"): each line
// counted as the ad platforms count it, double-width characters (CJK,
// fullwidth forms) twice. The server checks again on save.
var wide = /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]|[\u{20000}-\u{3FFFD}]/u;
function adWidth(s) {
  var n = 0;
  for (var ch of s) n += wide.test(ch) ? 2 : 1;
  return n;
}
function countLines(el) {
  var limit = +el.dataset.lineLimit, out = el.tagName === "TEXTAREA" ? el.closest("label").nextElementSibling : null;
  var lines = el.value.split("\n").filter(function (l) { return l.trim() !== ""; });
  var over = lines.some(function (l) { return adWidth(l.trim()) > limit; });
  el.classList.toggle("over", over);
  if (out && out.classList.contains("counters")) {
    out.textContent = lines.map(function (l, i) { var w = adWidth(l.trim()); return (i + 1) + ": " + w + "/" + limit + (w > limit ? " ✗" : ""); }).join(" · ");
  }
}
document.addEventListener("input", function (e) { if (e.target.dataset && e.target.dataset.lineLimit) countLines(e.target); });
document.addEventListener("DOMContentLoaded", function () { document.querySelectorAll("[data-line-limit]").forEach(countLines); });
