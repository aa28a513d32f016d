// Session end, seen from the page. The server forgets a session after
// data-idle-seconds without a request, after 12 hours, or when the user signs
// out everywhere; the page then goes to the sign-in screen so PHI does not stay
// on an unattended screen.
(function () {
  "use strict";
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-idle-seconds"), 10);
  var loginUrl = body.getAttribute("data-login-url");
  if (!seconds || !loginUrl) { return; }

  function toSignIn() {
    window.location.assign(loginUrl + "?next=" + encodeURIComponent(window.location.pathname) + "&expired=1");
  }

  window.setTimeout(toSignIn, (seconds + 1) * 1000);

  // The session socket reports an end that the idle timer cannot see.
  if (!("WebSocket" in window)) { return; }
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var socket = new WebSocket(scheme + window.location.host + "/ws/session/");
  socket.addEventListener("message", function (event) {
    try {
      if (JSON.parse(event.data).type === "session.ended") { toSignIn(); }
    } catch (e) { /* not ours */ }
  });
  socket.addEventListener("close", function (event) {
    if (event.code === 4401) { toSignIn(); }
  });
})();
