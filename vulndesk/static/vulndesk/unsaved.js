// Warns before leaving a page while a form holds input that was not saved. Each form on the case
// pages saves only its own fields, so typing in one and pressing another would lose the first.
// Without JavaScript the pages keep each free-text form on a page of its own instead.
(function () {
  var dirty = new Set();
  var submitting = null;
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("input", function () { dirty.add(form); });
    form.addEventListener("submit", function () { submitting = form; });
  });
  window.addEventListener("beforeunload", function (event) {
    var unsaved = Array.from(dirty).some(function (form) { return form !== submitting; });
    submitting = null;
    if (unsaved) {
      event.preventDefault();
      event.returnValue = "";  // older browsers need a value to show their own warning
    }
  });
})();
