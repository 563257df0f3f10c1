// The console's only script: the Copy button, the Cluster token management
// warning, the custom expiry date and closing the user menu. Everything works without it, except
// copying with one click.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // Copy: put the named field's value on the clipboard.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById("copy-status");
      var said = function (msg) { if (status) { status.textContent = msg; } };
      field.focus();
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { said("Copied to the clipboard."); },
          function () { said("Press Ctrl+C (or ⌘C) to copy the selected token."); });
      } else {
        try {
          said(document.execCommand("copy") ? "Copied to the clipboard." : "Press Ctrl+C (or ⌘C) to copy the selected token.");
        } catch (e) {
          said("Press Ctrl+C (or ⌘C) to copy the selected token.");
        }
      }
    });
  });

  // The user menu closes on Escape and on a click elsewhere.
  var menu = document.querySelector("details.user-menu");
  if (menu) {
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", function (e) {
      if (menu.open && !menu.contains(e.target)) { menu.open = false; }
    });
  }

  // Warnings shown only while their checkbox is ticked.
  document.querySelectorAll("input[data-warn]").forEach(function (box) {
    var warning = document.getElementById(box.getAttribute("data-warn"));
    var sync = function () { warning.hidden = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  });

  // The custom date only matters with the "Custom date" preset.
  var custom = document.getElementById("expiry-custom");
  var date = document.getElementById("expires_on");
  if (custom && date) {
    var radios = document.querySelectorAll("input[name=expiry]");
    var syncDate = function () {
      date.closest(".custom-date").hidden = !custom.checked;
      date.required = custom.checked;
    };
    radios.forEach(function (r) { r.addEventListener("change", syncDate); });
    syncDate();
  }
});
