"""Fuzzing as a habit (issue 14): property-based tests over parse_mail -> unpack -> verify_received -> parse_document
that fail on any exception outside the declared UnpackError and ParseError (verify_received may raise nothing, nor
hide an undeclared exception in its report), run for a bounded time in the suite; and every input a fuzzer ever found
(tests/fuzz_corpus/), replayed. The strategies and the oracle are in tests/fuzzing.py; benchmarks/fuzz_intake.py runs
them far longer and saves what it finds into the corpus.

The number of examples per property is BUZON_FUZZ_EXAMPLES times each property's share (default 1: about 10 s in
all); under CI the examples are derandomized, so a red build always names an input that fails again on a rerun.
"""

from __future__ import annotations

import os
import tomllib
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dian.reception import verify_received
from dian.xades import Verdict
from inbox.unpack import UnpackError
from tests.fuzzing import (
    CORPUS,
    MEMBER_NAMES,
    Input,
    attached,
    byte_edits,
    corpus_files,
    corpus_name,
    dian_answer,
    documents,
    header_injection,
    inputs,
    mailed,
    pipeline,
    signed_event,
    signed_invoice,
    trust,
    zip_edits,
    zipped,
)
from tests.pki import COMPANY_NIT

SCALE = float(os.environ.get("BUZON_FUZZ_EXAMPLES", "1"))


def bounded(examples: int) -> settings:
    """Settings of one property: ``examples`` (times SCALE) examples, no deadline (the first signature of a run is
    slow), no example database (the corpus keeps what matters), derandomized under CI."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        database=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


def test_the_seeds_are_what_intake_files() -> None:
    """The inputs the fuzzer mutates are real-shaped: unmutated, the container verifies valid end to end."""
    report = verify_received(attached(), trust=trust(), our_nit=COMPANY_NIT)
    assert report.verdict in {Verdict.VALID, Verdict.VALID_WITH_WARNINGS}, report.checks
    assert report.document is not None and report.dian_response is not None
    assert verify_received(signed_invoice(), trust=trust(), our_nit=COMPANY_NIT).document is not None
    assert pipeline(mailed(("z.zip", zipped(("ad.xml", attached()), ("fv.pdf", b"%PDF-1.4\n"))))) == 1
    assert pipeline(dian_answer(), "ar.xml") == 1 and pipeline(signed_event("031"), "ar.xml") == 1


@bounded(500)
@given(inputs())
def test_a_mutated_message_raises_only_declared_errors(example: Input) -> None:
    pipeline(example.data, example.name)


@bounded(200)
@given(st.data())
def test_a_zip_with_edited_headers_and_names_is_read_or_refused_as_unreadable(data: st.DataObject) -> None:
    name, xml = data.draw(documents(), label="document")
    member = data.draw(st.one_of(st.just(name), MEMBER_NAMES), label="member name")
    method = data.draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_LZMA]), label="method")
    try:
        archive = zipped((member, xml), method=method)
    except (ValueError, OSError):  # a name zipfile will not write
        archive = zipped((name, xml), method=method)
    pipeline(data.draw(zip_edits(archive), label="edited"), "z.zip")


@bounded(150)
@given(st.data())
def test_a_mail_with_injected_headers_keeps_going(data: st.DataObject) -> None:
    name, xml = data.draw(documents(), label="document")
    message = data.draw(header_injection(mailed(("z.zip", zipped((name, xml))))), label="mail")
    if data.draw(st.booleans(), label="bytes edited"):
        message = data.draw(byte_edits(message))
    pipeline(message, "correo.eml")


@bounded(250)
@given(documents())
def test_a_signed_document_with_a_hostile_field_is_verified_or_refused(document: tuple[str, bytes]) -> None:
    name, xml = document
    pipeline(xml, name)


# --- the corpus: every input a fuzzer found, as a regression test ---------------------------------------------------


def _known() -> dict[str, str]:
    """Corpus inputs that still fail, with the reason (tests/fuzz_corpus/known.toml), while their owner fixes them."""
    path = CORPUS / "known.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")).get("failing", {}) if path.exists() else {}


def _cases() -> list[object]:
    known = _known()
    return [
        pytest.param(path, marks=pytest.mark.xfail(reason=known[path.name], strict=False)) if path.name in known
        else pytest.param(path)
        for path in corpus_files()
    ]  # fmt: skip


@pytest.mark.parametrize("path", _cases(), ids=lambda path: path.name)
def test_every_input_the_fuzzer_found_raises_only_declared_errors(path: Path) -> None:
    pipeline(path.read_bytes(), corpus_name(path))


def test_the_corpus_holds_the_findings_of_issue_14() -> None:
    names = {p.name for p in corpus_files()}
    assert len(names) >= 6, names
    assert set(_known()) <= names  # no stale entry in known.toml


def test_a_corpus_zip_with_an_empty_member_name_is_refused_with_a_reason() -> None:
    """The corpus is replayed through the oracle; one entry checked by hand against the reason a clerk reads."""
    (path,) = [p for p in corpus_files() if "empty-member-name" in p.name]
    from inbox.unpack import unpack

    with pytest.raises(UnpackError, match="un archivo interno no tiene nombre"):
        unpack(path.read_bytes(), corpus_name(path))
