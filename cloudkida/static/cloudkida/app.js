// CloudKida's few behaviours, without inline scripts (the Content-Security-Policy forbids them).
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const source = document.getElementById(copy.dataset.copy);
    navigator.clipboard.writeText(source.textContent.trim()).then(() => {
      copy.textContent = "Copied";
    });
  }
  const confirmer = event.target.closest("[data-confirm]");
  if (confirmer && !window.confirm(confirmer.dataset.confirm)) {
    event.preventDefault();
  }
});
document.querySelectorAll(".toasts .alert").forEach((toast) => {
  window.setTimeout(() => toast.remove(), 8000);
});
