// Live preview of a sample email on the Brand step: every option updates the preview as it changes.
(function () {
  "use strict";
  var preview = document.querySelector("[data-email-preview]");
  if (!preview) return;
  var form = preview.closest("form");
  var FONTS = {
    system: "Helvetica, Arial, sans-serif",
    georgia: "Georgia, 'Times New Roman', serif",
    verdana: "Verdana, Geneva, sans-serif",
    trebuchet: "'Trebuchet MS', Helvetica, sans-serif",
    courier: "'Courier New', Courier, monospace"
  };
  var RADIUS = { rounded: ".375rem", square: "0", pill: "999px", outline: ".375rem" };
  var HEX = /^#[0-9a-fA-F]{6}$/;

  function value(name) {
    var field = form.elements[name];
    return field ? field.value : "";
  }
  function setColour(property, name) {
    var colour = value(name);
    if (HEX.test(colour)) preview.style.setProperty(property, colour);
  }
  function update() {
    setColour("--brand-primary", "primary_color");
    setColour("--brand-bg", "background_color");
    setColour("--brand-text", "text_color");
    preview.style.setProperty("--brand-font", FONTS[value("font")] || FONTS.system);
    var button = value("button_style") || "rounded";
    preview.style.setProperty("--brand-radius", RADIUS[button] || RADIUS.rounded);
    preview.setAttribute("data-button", button);
  }
  var logoInput = form.elements.logo;
  var logo = preview.querySelector("[data-preview-logo]");
  var placeholder = preview.querySelector("[data-preview-logo-placeholder]");
  var objectUrl = null;
  if (logoInput && logo) {
    logoInput.addEventListener("change", function () {
      var file = logoInput.files && logoInput.files[0];
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      if (file && /^image\/(png|jpeg|gif|webp)$/.test(file.type)) {
        objectUrl = URL.createObjectURL(file);
        logo.src = objectUrl;
        logo.hidden = false;
        if (placeholder) placeholder.hidden = true;
      }
    });
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
