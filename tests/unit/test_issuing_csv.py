"""The CSV input of `buzon issue` (issuing/csv_input.py): rows grouped into documents by their key, read into the same
native request as a JSON file and checked by the same validation, every problem named by row and column."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from buzon.commands.issue import CSV_HELP
from issuing.csv_input import COLUMNS, read_csv

HEADER = ("document,type,customer_id_type,customer_id,customer_dv,customer_name,customer_email,customer_address,"
          "customer_city_code,payment_form,payment_method,due_date,reteiva,description,quantity,unit_price,iva,"
          "discount_percent,inc_bolsas")  # fmt: skip
ROWS = (
    "F-1,01,31,900654321,0,EMPRESA COMPRADORA S.A.S.,fe@compradora.test,Cl 10 # 5-20,05001,2,42,2027-01-30,15,"
    "Consultoría,2,50000,19,10,",
    "F-1,,,,,,,,,,,,,Bolsa,3,0,,,50",
    'F-2,,13,1020304050,,Ana Pérez,,,,1,10,,,"Libro, tapa dura",1,30000,0,,',
)
GOOD = "\n".join((HEADER, *ROWS)) + "\n"


def test_rows_become_the_native_request_of_each_document() -> None:
    documents, problems = read_csv(GOOD)
    assert problems == ()
    first, second = documents
    assert (first.key, first.line_rows, second.key, second.line_rows) == ("F-1", [2, 3], "F-2", [4])
    invoice = first.request.payload
    assert (
        invoice.type.value == "01"
        and invoice.customer.id == "900654321"
        and invoice.customer.address.city_code == "05001"
    )
    assert invoice.payment.form == "2" and str(invoice.payment.due_date) == "2027-01-30"
    assert [(w.scheme, w.rate) for w in invoice.withholdings] == [("05", Decimal(15))]
    consulting, bag = invoice.lines
    assert consulting.adjustments[0].percent == Decimal(10) and consulting.adjustments[0].reason == "Descuento"
    assert [(t.scheme, t.rate) for t in consulting.taxes] == [("01", Decimal(19))]
    assert [(t.scheme, t.per_unit) for t in bag.taxes] == [("22", Decimal(50))]
    book = second.request.payload
    assert book.type.value == "01" and book.lines[0].description == "Libro, tapa dura" and book.payment.form == "1"
    # A spreadsheet saved in Spanish: semicolons, and a byte-order mark.
    spanish = "\ufeff" + GOOD.replace(",", ";").replace('"Libro; tapa dura"', '"Libro, tapa dura"')
    again, problems = read_csv(spanish)
    assert problems == () and again[1].request.payload.lines[0].description == "Libro, tapa dura"


def _problems(text: str) -> list[str]:
    _, problems = read_csv(text)
    return [str(p) for p in problems]


def test_each_problem_names_its_row_and_column() -> None:
    bad = GOOD.replace("900654321,0", "900654321,7").replace("Bolsa,3,0", "Bolsa,x,0").replace(",1,10,,,", ",9,10,,,")
    assert _problems(bad) == [
        "fila 2, columna customer_dv: no corresponde al NIT 900654321 (debería ser 0)",
        "fila 3, columna quantity: no es un número con dígitos ASCII y punto decimal (llegó 'x')",
        "fila 4, columna payment_form: forma de pago desconocido ('9'); valores admitidos: 1, 2",
    ]
    missing = GOOD.replace(",Consultoría,2,", ",,2,").replace(",Ana Pérez,", ",,")
    found = _problems(missing)
    assert found[0].startswith("fila 2, columna description: ") and found[1].startswith("fila 4, columna customer_name")
    # A later row of the same document that contradicts its first row.
    contradicting = GOOD.replace("F-1,,,,,,,,,,,,,Bolsa", "F-1,02,,,,,,,,,,,,Bolsa")
    assert _problems(contradicting) == ["fila 3, columna type: dice '02' y la fila 2 del documento F-1 dice '01'"]
    assert _problems(GOOD.replace("document,", "documento,", 1))[-1] == (
        "fila 1: falta la columna document, que agrupa las filas en documentos"
    )
    assert _problems(GOOD.replace(",iva,", ",iva_19,", 1)) == [
        "fila 1, columna iva_19: columna desconocida; vea `buzon issue --help`"
    ]
    assert _problems(GOOD.replace("\nF-2,", "\n,", 1)) == ["fila 4, columna document: cada fila nombra su documento"]
    assert _problems("") == ["fila 1: el archivo no tiene encabezado con los nombres de las columnas"]
    assert _problems(HEADER + "\n") == ["fila 2: el archivo no trae ninguna línea"]
    unclosed = HEADER + '\nF-1,"sin cerrar\n'
    assert _problems(unclosed)[0].startswith("archivo CSV: no se puede leer")


def test_the_columns_are_documented_in_the_help_and_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"[a-z_]+", CSV_HELP))
    for column in COLUMNS:
        assert column in listed, column
        assert re.search(rf"\b{column}\b", readme), column
