"""The printed invoice's settings, end to end: [issuing] pdf_logo, pdf_business_line, pdf_footer and
mail_business_line read by buzon.config (relative logo path resolved, bad values named), checked by
`buzon check-config` (a missing, unreadable or non-image logo names the key, exit 2), handed by the Runtime into
issuing.pdf.PdfOptions and issuing.delivery.MailSettings, and printed: the PDF rendered with them has the logo on
every page (pdfimages), the footer and the business line (pdftotext), and page 1 is rasterized (pdftoppm) under
test-artifacts/pdf/ to be looked at; the buyer's mail subject ends with the business line (dian-facts 4.1)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from buzon.config import ConfigError, load_file
from buzon.runtime import Runtime
from issuing.pdf import render_pdf
from tests.conftest import missing
from tests.integration.test_cli import run
from tests.unit.test_issuing_pdf import INVOICE, LONG, VALIDATED, _issue, issuer  # noqa: F401 - issuer: fixture

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pdf"
FOOTER = "Consigne en la cuenta de ahorros 123-456789-00 del Banco Ejemplo · www.ejemplo.com.co"
LINE = "Comercio al por mayor de computadores y equipo periférico (CIIU 4651)"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} not installed (poppler-utils: scripts/install-test-services)")
    return path  # type: ignore[return-value]


def _logo(path: Path) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 120), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 110, 110), fill=(20, 90, 170))
    draw.rectangle((130, 40, 290, 80), fill=(230, 120, 20))
    image.save(path)
    return path


def _config(tmp_path: Path, issuing: str) -> Path:
    path = tmp_path / "buzon.toml"
    path.write_text(f'data_dir = "var"\ndemo = true\n[issuing]\n{issuing}\n', encoding="utf-8")
    return path


def test_settings_are_read_resolved_and_bad_values_named(tmp_path: Path) -> None:
    _logo(tmp_path / "logo.png")
    settings = load_file(_config(tmp_path, f'pdf_logo = "logo.png"\npdf_footer = "{FOOTER}"\n'
                                           f'pdf_business_line = "{LINE}"\nmail_business_line = "ContabilidadBog"'))
    assert settings.issuing.pdf_logo == str(tmp_path / "logo.png")  # relative to the file's folder
    runtime = Runtime.from_settings(settings)
    options = runtime.pdf_options()
    assert (options.logo, options.footer, options.business_line) == (tmp_path / "logo.png", FOOTER, LINE)
    mail = runtime.buyer_mail_settings()
    assert mail.business_line == "ContabilidadBog" and mail.pdf == options
    plain = Runtime.from_settings(load_file(_config(tmp_path, ""))).pdf_options()
    assert (plain.logo, plain.footer, plain.business_line) == (None, None, None)

    for issuing, message in [
        ('pdf_logo = "logo.gif"', "issuing.pdf_logo: expected a .png, .jpg or .jpeg file, got 'logo.gif'"),
        ('pdf_footer = "uno\\ndos"', "issuing.pdf_footer: expected one line of text"),
        (f'pdf_business_line = "{"x" * 121}"', "issuing.pdf_business_line: expected at most 120 characters, got 121"),
        ('mail_business_line = "a;b"', "issuing.mail_business_line: ';' separates the subject's fields"),
    ]:
        with pytest.raises(ConfigError) as caught:
            load_file(_config(tmp_path, issuing))
        assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems


def test_check_config_opens_the_logo_and_names_the_key(tmp_path: Path) -> None:
    _logo(tmp_path / "logo.png")
    _config(tmp_path, 'pdf_logo = "logo.png"')
    good = run(["check-config", "--config", "buzon.toml"], tmp_path)
    assert good.returncode == 0, good.stderr
    assert f"PDF logo: {tmp_path / 'logo.png'} (300x120 px" in good.stdout

    _config(tmp_path, 'pdf_logo = "falta.png"')
    gone = run(["check-config", "--config", "buzon.toml"], tmp_path)
    assert gone.returncode == 2
    assert gone.stderr.strip().startswith(f"error: issuing.pdf_logo: cannot read {tmp_path / 'falta.png'}")
    (tmp_path / "texto.png").write_text("no soy una imagen")
    _config(tmp_path, 'pdf_logo = "texto.png"')
    text = run(["check-config", "--config", "buzon.toml"], tmp_path)
    assert text.returncode == 2 and "issuing.pdf_logo:" in text.stderr and "not a PNG or JPEG" in text.stderr
    (tmp_path / "roto.png").write_bytes((tmp_path / "logo.png").read_bytes()[:40])  # a PNG cut short
    _config(tmp_path, 'pdf_logo = "roto.png"')
    cut = run(["check-config", "--config", "buzon.toml"], tmp_path)
    assert cut.returncode == 2 and cut.stderr.startswith("error: issuing.pdf_logo:") and "Traceback" not in cut.stderr


def test_the_pdf_prints_the_logo_footer_and_business_line_on_every_page(issuer, tmp_path: Path) -> None:  # noqa: F811
    _logo(tmp_path / "logo.png")
    settings = load_file(_config(tmp_path, f'pdf_logo = "logo.png"\npdf_footer = "{FOOTER}"\n'
                                           f'pdf_business_line = "{LINE}"'))
    options = Runtime.from_settings(settings).pdf_options()
    long = dict(INVOICE, lines=[dict(INVOICE["lines"][0], description=f"Servicio {i}") for i in range(LONG)])
    doc = _issue(long, issuer)
    pdf = tmp_path / "con-logo.pdf"
    pdf.write_bytes(render_pdf(doc.xml, validated_at=VALIDATED, options=options))

    listing = subprocess.run([_tool("pdfimages"), "-list", str(pdf)], capture_output=True, check=True, text=True)
    images = [line.split() for line in listing.stdout.splitlines()[2:] if line.strip()]
    info = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, check=True, text=True).stdout
    count = int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))
    assert count > 1 and [row[0] for row in images] == [str(n) for n in range(1, count + 1)], listing.stdout
    assert {(row[3], row[4]) for row in images} == {("300", "120")}  # the logo's own pixels, nothing else
    assert len({row[10] for row in images}) == 1  # one image object, placed on every page

    text = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, check=True,
                          text=True).stdout  # fmt: skip
    flat = " ".join(text.split())
    assert flat.count("Consigne en la cuenta de ahorros 123-456789-00") == count  # the footer on every page
    assert flat.count("Comercio al por mayor de computadores") == count  # the line under the name, every page
    plain = tmp_path / "sin-logo.pdf"
    plain.write_bytes(render_pdf(doc.xml, validated_at=VALIDATED))
    assert subprocess.run([_tool("pdfimages"), "-list", str(plain)], capture_output=True, text=True,
                          check=True).stdout.count("\n") == 2  # header lines only: no image  # fmt: skip

    subprocess.run([_tool("pdftoppm"), "-png", "-r", "100", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")],
                   check=True)  # fmt: skip
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(next(tmp_path.glob("p-*1.png")), ARTIFACTS / "logo-footer-p1.png")


def test_the_buyer_mail_subject_ends_with_the_business_line(issuer) -> None:  # noqa: F811
    from dian.ubl import parse_document
    from issuing.delivery import mail_subject

    document = parse_document(_issue(INVOICE, issuer).xml)
    assert mail_subject(document, "ContabilidadBog").split(";")[-1] == "ContabilidadBog"
    assert len(mail_subject(document).split(";")) == 5
