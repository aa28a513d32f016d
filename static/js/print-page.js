// A "Print" button for pages worth keeping on paper (recovery codes). Without
// JavaScript the button stays hidden and the browser's own print still works.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-print-page]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
