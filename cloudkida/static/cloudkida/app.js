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

// The branding form's live preview: the preview follows the fields as they are typed (nothing is saved
// until the form is submitted). CSSOM changes, not inline style attributes, so the CSP allows them.
function readableOn(hex) {
  const value = /^#[0-9a-f]{6}$/i.test(hex) ? hex : "#000000";
  const channel = (i) => {
    const c = parseInt(value.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return luminance > 0.179 ? "#1b1f24" : "#ffffff";
}
const brandingForm = document.getElementById("branding-form");
const preview = document.querySelector("[data-brand-preview]");
if (brandingForm && preview) {
  const update = () => {
    const field = (name) => brandingForm.elements.namedItem(name);
    preview.querySelectorAll("[data-preview]").forEach((node) => {
      const input = field(node.dataset.preview);
      if (input) node.textContent = input.value;
    });
    const bar = preview.querySelector("[data-preview-bar]");
    const button = preview.querySelector("[data-preview-button]");
    const primary = field("primary_color").value;
    const accent = field("accent_color").value;
    bar.style.setProperty("background", primary);
    bar.style.setProperty("color", readableOn(primary));
    button.style.setProperty("background", accent);
    button.style.setProperty("color", readableOn(accent));
  };
  brandingForm.addEventListener("input", update);
}
