"""Several companies in one install: the [[companies]] tables, what a company takes from the top level and what it
never does, the problems named per company, and --company's choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from buzon.commands.options import company_settings
from buzon.config import ConfigError, parse_settings

TOP = {
    "company": {"nit": "900123456-8", "name": "Uno S.A.S."},
    "dian": {"software_id": "11111111-1111-1111-1111-111111111111"},
    "smtp": {"from_address": "facturas@uno.test"},
    "approvals": {"enabled": True, "amount_threshold": 5000000},
}
SECOND = {"company": {"nit": "800197268-4", "name": "Dos S.A.S."}, "smtp": {"from_address": "facturas@dos.test"}}


def parsed(tmp_path: Path, *companies: dict, **top: object) -> object:
    return parse_settings({**TOP, "data_dir": str(tmp_path / "var"), **top, "companies": list(companies)},
                          base=tmp_path)  # fmt: skip


def test_a_company_takes_the_shared_sections_and_keeps_its_own(tmp_path: Path) -> None:
    first = parsed(tmp_path, SECOND)
    (second,) = first.companies
    assert [s.company.nit for s in first.group] == ["900123456-8", "800197268-4"]
    # Its own: who it is, its data folder (so its SQLite database, blobs and mailbox), its sender.
    assert second.company.name == "Dos S.A.S."
    assert Path(second.data_dir) == tmp_path / "var" / "empresas" / "800197268"
    assert second.database_url != first.database_url and "empresas/800197268" in second.database_url
    assert second.blob_dir != first.blob_dir and second.mailbox_path != first.mailbox_path
    assert second.smtp.from_address == "facturas@dos.test"
    # Shared unless it says otherwise: the DIAN software, the policies; one local DIAN simulator for both.
    assert second.dian.software_id == first.dian.software_id
    assert second.approvals.enabled and second.approvals.amount_threshold == 5000000
    assert Path(second.dian.simulator_dir) == Path(first.data_dir) / "dian-sim"
    shared = parsed(tmp_path, SECOND, dian={"trust_store": str(tmp_path / "ca")}).companies[0]
    assert shared.trust_store_path == tmp_path / "ca"  # set at the top level: one group, the same CAs
    own = parsed(tmp_path, {**SECOND, "dian": {"trust_store": str(tmp_path / "dos-ca")}}).companies[0]
    assert own.trust_store_path == tmp_path / "dos-ca" and own.dian.software_id == first.dian.software_id
    assert not first.dian.simulator_dir


def test_the_top_levels_company_and_mailbox_are_never_inherited(tmp_path: Path) -> None:
    first = parsed(tmp_path, SECOND, inbox={"source": "maildir", "path": str(tmp_path / "uno-mail")})
    (second,) = first.companies
    assert first.inbox.source == "maildir"
    assert second.inbox.source == "folder" and second.mailbox_path != first.mailbox_path
    assert second.company.reception_email != "" and second.company.name != first.company.name


def test_problems_name_the_company_and_the_key(tmp_path: Path) -> None:
    bad = {"company": {"nit": "800197268-5", "name": "Dos"}, "smtp": {"port": 0}, "inbxo": {}}
    with pytest.raises(ConfigError) as caught:
        parsed(tmp_path, bad, {"company": {"name": "Sin NIT"}})
    problems = caught.value.problems
    assert any(p.startswith("companies[2].inbxo: unknown key") for p in problems), problems
    assert any(p.startswith("companies[2].company.nit: check digit 5") for p in problems), problems
    assert any(p.startswith("companies[2].smtp.port") for p in problems), problems
    assert any(p.startswith("companies[3].company.nit: each company names its NIT") for p in problems), problems


def test_two_companies_may_not_share_a_nit_or_a_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.sqlite3'}"
    with pytest.raises(ConfigError) as caught:
        parsed(tmp_path, {"company": {"nit": "900123456-8", "name": "Copia"}, "data_dir": str(tmp_path / "x")})
    assert any("companies[2].company.nit: the same as company 1's" in p for p in caught.value.problems)
    with pytest.raises(ConfigError) as caught:
        parsed(tmp_path, {**SECOND, "database": {"url": url}}, database={"url": url})
    assert any("companies[2].database.url: the same as company 1's" in p for p in caught.value.problems)


def test_companies_must_be_tables(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"companies\[2\]: expected a \[\[companies\]\] table"):
        parse_settings({**TOP, "companies": ["800197268-4"]}, base=tmp_path)
    with pytest.raises(ConfigError, match=r"companies: expected \[\[companies\]\] tables"):
        parse_settings({**TOP, "companies": {"nit": "800197268-4"}}, base=tmp_path)


def test_company_option_picks_by_nit_with_or_without_check_digit(tmp_path: Path) -> None:
    first = parsed(tmp_path, SECOND)
    assert company_settings(first, None) is first
    for nit in ("800197268", "800197268-4", " 800197268-4 "):
        chosen = company_settings(first, nit)
        assert chosen.company.name == "Dos S.A.S."
        # The others stay beside it: a mail addressed to the first is routed there.
        assert [s.key for s in chosen.group] == ["800197268", "900123456"]
    with pytest.raises(ConfigError, match="no company with NIT 811111111 in this install"):
        company_settings(first, "811111111")


def test_one_company_has_no_others(tmp_path: Path) -> None:
    alone = parse_settings({**TOP, "data_dir": str(tmp_path)}, base=tmp_path)
    assert alone.companies == () and alone.group == (alone,) and alone.key == "900123456"
