// On a narrow screen each table row is shown as a block of its cells (site.css); this names each
// cell after its column's heading, so that a date or a "—" still says what it is. Without
// JavaScript the table works the same, without the names.
document.querySelectorAll("table.table").forEach(function (table) {
  var names = Array.prototype.map.call(table.querySelectorAll("thead th"), function (heading) {
    // A heading only screen readers see (an "Actions" column) names nothing on screen either.
    return heading.querySelector(".visually-hidden") ? "" : heading.textContent.trim();
  });
  table.querySelectorAll("tbody tr").forEach(function (row) {
    var column = 0;
    Array.prototype.forEach.call(row.children, function (cell) {
      var span = cell.colSpan || 1;
      if (span === 1 && names[column] && !cell.hasAttribute("data-label")) {
        cell.setAttribute("data-label", names[column]);
      }
      column += span;
    });
  });
});
