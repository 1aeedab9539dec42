// The advisory editor's repeatable rows (advisories/editor.py). Without this script, "Add another"
// posts the form back and the page returns with one more empty row, nothing typed lost. With it,
// the button adds the row in place: a copy of the last row, emptied, numbered one further.
document.querySelectorAll("fieldset[data-rows]").forEach(function (list) {
  var button = list.querySelector("[data-add-row]");
  var prefix = list.getAttribute("data-rows");
  if (!button) {
    return;
  }
  button.addEventListener("click", function (event) {
    var rows = list.querySelectorAll("[data-row]");
    var last = rows[rows.length - 1];
    if (!last) {
      return; // nothing to copy: let the form add the row
    }
    event.preventDefault();
    var index = rows.length;
    var row = last.cloneNode(true);
    var numbered = new RegExp("^" + prefix + "-\\d+-");
    row.querySelectorAll("input, select, label").forEach(function (element) {
      ["id", "name", "for"].forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value && numbered.test(value)) {
          element.setAttribute(attribute, value.replace(numbered, prefix + "-" + index + "-"));
        }
      });
      if (element.tagName === "INPUT") {
        element.value = "";
      } else if (element.tagName === "SELECT") {
        element.value = element.getAttribute("data-default") || element.options[0].value;
      }
    });
    row.querySelectorAll(".visually-hidden").forEach(function (hidden) {
      hidden.textContent = hidden.textContent.replace(/\d+$/, String(index + 1));
    });
    last.after(row);
    var first = row.querySelector("input, select");
    if (first) {
      first.focus();
    }
  });
});
