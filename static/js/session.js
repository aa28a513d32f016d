// Session end, seen from the page. The server forgets a session after
// data-idle-seconds without a request, after 12 hours, or when the user signs
// out everywhere; the page then goes to the sign-in screen so PHI does not stay
// on an unattended screen.
//
// Before the idle limit the page warns (WCAG 2.2.1, timing adjustable):
// data-idle-warning-seconds before it, a modal dialog offers "Stay signed in".
// Typing in any field counts as activity and reaches the server through a
// small keep-alive request (throttled), so nobody is signed out mid-message.
// Tabs share the time of the last contact through localStorage, so activity in
// one tab keeps the others from signing out.
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds"), 10);
  var loginUrl = body.getAttribute("data-login-url");
  if (!idle || !loginUrl) { return; }
  var warnBefore = parseInt(body.getAttribute("data-idle-warning-seconds"), 10);
  if (!(warnBefore > 0) || warnBefore >= idle) { warnBefore = Math.floor(idle / 2); }
  var keepAliveUrl = body.getAttribute("data-keepalive-url");
  var logoutUrl = body.getAttribute("data-logout-url");
  var csrfToken = body.getAttribute("data-csrf-token");
  // Often enough that activity renews the session before a warning would show.
  var pingEvery = Math.max(1000, Math.min(60000, (idle - warnBefore) * 500));
  var STORE = "portal.session.lastContact";

  var lastContact = Date.now(); // loading this page was a request
  var lastPing = 0;
  var activitySincePing = false;
  var leaving = false;
  var dialog = document.getElementById("idle-warning");
  var remaining = dialog ? dialog.querySelector("[data-idle-remaining]") : null;
  var returnFocus = null;

  function sharedContact() {
    try { return parseInt(window.localStorage.getItem(STORE), 10) || 0; } catch (e) { return 0; }
  }

  function recordContact(time) {
    lastContact = Math.max(lastContact, time);
    try { window.localStorage.setItem(STORE, String(lastContact)); } catch (e) { /* private mode */ }
  }

  function deadline() { return Math.max(lastContact, sharedContact()) + idle * 1000; }

  function toSignIn() {
    if (leaving) { return; }
    leaving = true;
    window.location.assign(loginUrl + "?next=" + encodeURIComponent(window.location.pathname) + "&expired=1");
  }

  function keepAlive() {
    if (!keepAliveUrl || !window.fetch) { return; }
    lastPing = Date.now();
    activitySincePing = false;
    window.fetch(keepAliveUrl, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "X-CSRFToken": csrfToken || "", "Accept": "application/json" }
    }).then(function (response) {
      if (response.ok) {
        recordContact(Date.now());
        tick();
      } else if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
        toSignIn(); // the session had already ended
      }
    }).catch(function () { /* offline: the timer decides */ });
  }

  function activity() {
    if (leaving) { return; }
    if (Date.now() - lastPing >= pingEvery) { keepAlive(); } else { activitySincePing = true; }
  }

  function format(ms) {
    var seconds = Math.max(0, Math.ceil(ms / 1000));
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function showWarning(left) {
    if (!dialog) { return; }
    if (remaining) { remaining.textContent = format(left); }
    if (dialog.open) { return; }
    returnFocus = document.activeElement;
    if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    var stay = dialog.querySelector("[data-idle-stay]");
    if (stay) { stay.focus(); }
  }

  function hideWarning() {
    if (!dialog || !dialog.open) { return; }
    if (typeof dialog.close === "function") { dialog.close(); } else { dialog.removeAttribute("open"); }
    if (returnFocus && typeof returnFocus.focus === "function") { returnFocus.focus(); }
    returnFocus = null;
  }

  function tick() {
    if (leaving) { return; }
    var now = Date.now();
    if (activitySincePing && now - lastPing >= pingEvery) { keepAlive(); }
    var left = deadline() - now;
    if (left <= 0) { toSignIn(); return; }
    if (left <= warnBefore * 1000) { showWarning(left); } else { hideWarning(); }
  }

  recordContact(Date.now());
  // Typing in any field is activity (keydown covers keys that change nothing, input covers
  // dictation and paste).
  document.addEventListener("keydown", activity, true);
  document.addEventListener("input", activity, true);
  if (dialog) {
    var stayButton = dialog.querySelector("[data-idle-stay]");
    if (stayButton) { stayButton.addEventListener("click", keepAlive); }
    // Escape closes a modal dialog: the person is clearly there.
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); keepAlive(); });
  }
  // An explicit sign-out is not an expiry: nothing here may send the page to
  // the "signed out after a period of inactivity" screen meanwhile.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (logoutUrl && form && form.getAttribute && form.getAttribute("action") === logoutUrl) { leaving = true; }
  }, true);
  window.setInterval(tick, 1000);

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
