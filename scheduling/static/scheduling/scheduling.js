// Beside a time shown in the provider's zone, add the viewer's own time when their
// browser is in another zone. Without JavaScript the page already names the zone.
(function () {
  "use strict";
  var own;
  try { own = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!own) { return; }
  var format = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });
  document.querySelectorAll("time[data-zone]").forEach(function (el) {
    var zone = el.getAttribute("data-zone");
    var when = new Date(el.getAttribute("datetime"));
    if (!zone || zone === own || isNaN(when.getTime())) { return; }
    var note = document.createElement("span");
    note.className = "your-time";
    note.textContent = " (" + format.format(when) + " your time)";
    el.insertAdjacentElement("afterend", note);
  });
})();
