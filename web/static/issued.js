// The hand-issuing form's running estimate while typing (web/issued_form.py; the sum is web/static/figures.js's):
// display only. The totals that go into the document are the server's ("Calcular", issuing/totals.py, Decimal with
// DIAN's rounding). A line: quantity × price less its discount, plus IVA and INC on that base.
window.buzonEstimate("factura-form", (get, cents) => {
  "use strict";
  const qty = get("cantidad"); const price = get("precio");
  const disc = get("descuento"); const iva = get("iva"); const inc = get("inc");
  const base = cents(qty * price) - cents(cents(qty * price) * disc / 100);
  return base + cents(base * iva / 100) + cents(base * inc / 100);
});
