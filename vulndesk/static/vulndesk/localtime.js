// Adds the viewer's own local time after every <time data-local>; without JavaScript the page
// still shows the time in UTC and in the project's timezone.
document.querySelectorAll("time[data-local]").forEach(function (element) {
  var moment = new Date(element.getAttribute("datetime"));
  if (isNaN(moment.getTime())) { return; }
  var local = document.createElement("span");
  local.className = "muted";
  local.textContent = " (your time: " + moment.toLocaleString(undefined, {
    weekday: "short", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  }) + ")";
  // After the project's time when it follows, so the line reads UTC, project, then yours.
  var next = element.nextElementSibling;
  (next && next.classList.contains("muted") ? next : element).after(local);
});
