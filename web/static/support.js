// The documento soporte form's running estimate while typing (web/support_form.py): display only. The totals that go
// into the document are the server's ("Calcular", issuing/support_document.py); withholdings do not lower the total.
(function () {
  "use strict";
  const form = document.getElementById("soporte-form");
  if (!form) { return; }
  const number = (text) => {
    let v = (text || "").replace(/[\s$%]/g, "");
    if (v.indexOf(",") >= 0) { v = v.replace(/\./g, "").replace(",", "."); }
    else if (/^-?\d{1,3}(\.\d{3})+$/.test(v)) { v = v.replace(/\./g, ""); }
    return v === "" ? 0 : Number(v);
  };
  const cents = (x) => Math.round((x + Number.EPSILON) * 100) / 100;
  const pesos = (x) => "$ " + x.toLocaleString("es-CO", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const update = () => {
    let total = 0; let ok = true;
    form.querySelectorAll("tr.line").forEach((row) => {
      const get = (name) => { const el = row.querySelector("[name$='_" + name + "']"); return el ? el.value : ""; };
      const qty = number(get("cantidad")); const price = number(get("precio")); const iva = number(get("iva"));
      if ([qty, price, iva].some(Number.isNaN)) { ok = false; return; }
      const base = cents(qty * price);
      total += base + cents(base * iva / 100);
    });
    document.getElementById("estimado").hidden = false;
    document.getElementById("estimado-total").textContent = ok ? pesos(cents(total)) : "revise las cifras";
  };
  form.addEventListener("input", update);
})();
