// "Add row" for the repeatable row groups of the scenario form: clones the last row with the next index.
(function () {
  document.querySelectorAll("button.add-row").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var set = document.querySelector('fieldset[data-rows="' + btn.getAttribute("data-target") + '"]');
      var rows = set.querySelectorAll(".row");
      var last = rows[rows.length - 1];
      var next = rows.length;
      var clone = last.cloneNode(true);
      clone.setAttribute("data-index", String(next));
      clone.querySelectorAll("input, select").forEach(function (inp) {
        inp.name = inp.name.replace(/-\d+-/, "-" + next + "-");
        if (inp.tagName === "INPUT") { inp.value = ""; } else { inp.selectedIndex = 0; }
      });
      clone.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
      last.after(clone);
    });
  });
})();
