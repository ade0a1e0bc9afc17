// The documento soporte form's running estimate while typing (web/support_form.py; the sum is web/static/figures.js's):
// display only. The totals that go into the document are the server's ("Calcular", issuing/support_document.py);
// withholdings do not lower the total. A line: quantity × price plus its IVA.
window.buzonEstimate("soporte-form", (get, cents) => {
  "use strict";
  const base = cents(get("cantidad") * get("precio"));
  return base + cents(base * get("iva") / 100);
});
