// Idle timeout: the server forgets the session after data-idle-seconds without a request.
// Go to the sign-in page when that happens, so PHI does not stay on an unattended screen.
(function () {
  "use strict";
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-idle-seconds"), 10);
  var loginUrl = body.getAttribute("data-login-url");
  if (!seconds || !loginUrl) { return; }
  window.setTimeout(function () {
    window.location.assign(loginUrl + "?next=" + encodeURIComponent(window.location.pathname) + "&expired=1");
  }, (seconds + 1) * 1000);
})();
