// The running estimate of the hand-issuing forms while typing (web/static/issued.js for invoices and notes,
// web/static/support.js for the documento soporte): display only. The totals that go into a document are the
// server's ("Calcular"); this sum rounds each line to cents like it but is not authoritative, and says so.
// buzonEstimate(formId, lineTotal): lineTotal(get, cents) gives one line's total from its figures (get("precio") is
// the figure typed in the line's field ending in _precio, read in Colombian or plain style; NaN when unreadable).
window.buzonEstimate = function (formId, lineTotal) {
  "use strict";
  const form = document.getElementById(formId);
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
      const get = (name) => { const el = row.querySelector("[name$='_" + name + "']"); return number(el ? el.value : ""); };
      const line = lineTotal(get, cents);
      if (Number.isNaN(line)) { ok = false; return; }
      total += line;
    });
    document.getElementById("estimado").hidden = false;
    document.getElementById("estimado-total").textContent = ok ? pesos(cents(total)) : "revise las cifras";
  };
  form.addEventListener("input", update);
};
