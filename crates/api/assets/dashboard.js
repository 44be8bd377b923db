// Reloads a running job's report every few seconds (the page works without it).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const live = document.querySelector("[data-refresh]");
  if (live) {
    const seconds = Number(live.getAttribute("data-refresh")) || 3;
    setTimeout(() => window.location.reload(), seconds * 1000);
  }
});
