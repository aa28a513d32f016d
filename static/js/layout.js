// Layout helpers for every page: the phone menu and tables that read as cards on
// a narrow screen. Both only add to server-rendered HTML that works without them.
(function () {
  "use strict";
  document.documentElement.classList.add("has-js");

  // Phone menu: the button names the current page and carries the unread count,
  // so both stay visible while the navigation is folded away.
  var toggle = document.querySelector(".menu-toggle");
  var nav = document.getElementById("site-nav");
  var account = document.querySelector(".account-menu");
  if (toggle && nav) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
      if (account) { account.classList.toggle("open", open); }
    });
  }

  // Each cell learns its column's heading, which the stacked layout shows beside it.
  document.querySelectorAll("main table").forEach(function (table) {
    var headings = Array.prototype.map.call(
      table.querySelectorAll("thead th"),
      function (th) { return th.textContent.trim(); }
    );
    if (!headings.length) { return; }
    table.classList.add("stacked");
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (!cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", headings[index] || "");
        }
      });
    });
  });
})();
