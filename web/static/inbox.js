// The inbox's select-all for the page and the count of ticked rows; the bulk result page's summary gets the focus.
// Without script everything still works: rows are ticked one by one, or "los N que coinciden" is chosen.
(function () {
  "use strict";
  var summary = document.getElementById("resultado-resumen");
  if (summary) { summary.focus(); }
  var all = document.getElementById("marcar-pagina");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=ids][form=acciones-masivas]"));
  var count = document.getElementById("marcados");
  var scope = document.querySelector("#acciones-masivas input[name=scope][value=selected]");
  function update() {
    var ticked = boxes.filter(function (b) { return b.checked; }).length;
    if (count) { count.textContent = String(ticked); }
    if (all) {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  }
  if (all && boxes.length) {
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      if (scope) { scope.checked = true; }
      update();
    });
  }
  boxes.forEach(function (b) {
    b.addEventListener("change", function () { if (scope) { scope.checked = true; } update(); });
  });
  update();
})();
