// The print button of a printable page: shown only where scripts run.
for (const b of document.querySelectorAll("[data-print]")) {
  b.hidden = false;
  b.addEventListener("click", () => window.print());
}
