// The health summary's Print button: shown only where JavaScript runs (the browser's own
// print command works without it; static/css/print.css lays the page out for paper).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
