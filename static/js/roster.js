/* Roster pages: select-all for bulk actions, and the credential form's type switch.
   Everything works without it; this only saves clicks. */
(function () {
  "use strict";

  // <input type=checkbox data-check-all="provider"> toggles every name=provider box.
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-check-all]");
    if (!all) return;
    var name = all.getAttribute("data-check-all");
    var form = all.form || document;
    form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
