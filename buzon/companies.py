"""The companies of one install: the first is the configuration's top level, each ``[[companies]]`` table another.

A company's table is laid out like the top level (``[companies.company]``, ``[companies.certificate]``,
``[companies.dian]``, ``[companies.issuing]``…). What it does not set, it takes from the top level, section by
section and key by key (a group often shares its DIAN software provider, its SMTP server and its policies), except
what can only be its own: ``company`` (NIT, name, address), ``database``, ``data_dir``, ``inbox`` and ``imap``. Its
data folder is ``<data_dir>/empresas/<NIT>`` unless it names one, so its SQLite database, its blob files, its
mailbox folder and its trust folder are apart from every other company's by default.

Each company has a database of its own (Buzón's isolation: a query cannot reach another company's rows because it
runs on another database), and the shell builds a Runtime per company (buzon/group.py). buzon/config.py's
``parse_settings`` reads the tables with these rules into ``Settings.companies``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Sections a company never takes from the top level: who it is and where its own data and mail are.
OWN = frozenset({"company", "database", "data_dir", "inbox", "imap"})


def company_table(top: Mapping[str, Any], entry: Mapping[str, Any], first: Any) -> dict[str, Any]:
    """One company's configuration: the top level's shared sections with the company's own values over them; its
    data folder ``<data_dir>/empresas/<NIT>`` unless it names one; the local DIAN simulator's state the first
    company's (``first``: its parsed settings), for there is one DIAN. (A ``dian.trust_store`` set at the top level
    is shared like any key; unset, each company's default folder is its own.)"""
    merged: dict[str, Any] = {k: v for k, v in top.items() if k not in OWN and k != "companies"}
    for key, value in entry.items():
        shared = merged.get(key)
        merged[key] = {**shared, **value} if isinstance(shared, dict) and isinstance(value, dict) else value
    nit = entry["company"]["nit"]
    merged.setdefault("data_dir", (Path(first.data_dir) / "empresas" / nit.partition("-")[0]).as_posix())
    simulator = first.dian.simulator_dir or (Path(first.data_dir) / "dian-sim").as_posix()
    merged["dian"] = {"simulator_dir": simulator, **merged.get("dian", {})}
    return merged


def entry_problem(entry: Any) -> str | None:
    """Why a [[companies]] entry cannot be read as a company, after its ``companies[N]`` (it is not a table, or it
    names no NIT), else None."""
    if not isinstance(entry, dict):
        return ": expected a [[companies]] table"
    company = entry.get("company")
    nit = company.get("nit") if isinstance(company, dict) else None
    return None if isinstance(nit, str) and nit else ".company.nit: each company names its NIT (900123456-8)"


def clashes(group: tuple[Any, ...]) -> list[str]:
    """Two companies may not share a NIT, a database or a data folder (one would read the other's rows)."""
    problems = []
    for label, value in (("company.nit", lambda s: s.key), ("database.url", lambda s: s.database_url),
                         ("data_dir", lambda s: s.data_dir)):  # fmt: skip
        seen: dict[str, int] = {}
        for number, settings in enumerate(group, start=1):
            found = value(settings)
            if found in seen:
                problems.append(f"companies[{number}].{label}: the same as company {seen[found]}'s ({found})")
            seen.setdefault(found, number)
    return problems
