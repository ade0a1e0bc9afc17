// The hand-issuing form's running estimate while typing (web/issued_form.py): display only. The totals that go into
// the document are the server's ("Calcular", issuing/totals.py, Decimal with DIAN's rounding); this sum rounds each
// line to cents like it but is not authoritative, and says so.
(function () {
  "use strict";
  const form = document.getElementById("factura-form");
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
      const get = (name) => row.querySelector("[name$='_" + name + "']").value;
      const qty = number(get("cantidad")); const price = number(get("precio"));
      const disc = number(get("descuento")); const iva = number(get("iva")); const inc = number(get("inc"));
      if ([qty, price, disc, iva, inc].some(Number.isNaN)) { ok = false; return; }
      const base = cents(qty * price) - cents(cents(qty * price) * disc / 100);
      total += base + cents(base * iva / 100) + cents(base * inc / 100);
    });
    const box = document.getElementById("estimado");
    box.hidden = false;
    document.getElementById("estimado-total").textContent = ok ? pesos(cents(total)) : "revise las cifras";
  };
  form.addEventListener("input", update);
})();
