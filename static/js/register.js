// Registration: the browser's own time zone, so every time in the portal is
// shown in it from the first page on (the patient can change it in the profile).
(function () {
  "use strict";
  var field = document.querySelector('input[name="time_zone"]');
  if (!field || field.value) { return; }
  try {
    field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) { /* an old browser: the practice's zone applies */ }
})();
