"""The companies of one install: the first is the configuration's top level, each ``[[companies]]`` table another.

A company's table is laid out like the top level (``[companies.company]``, ``[companies.certificate]``,
``[companies.dian]``, ``[companies.issuing]``…). What it does not set, it takes from the top level, section by
section and key by key (a group often shares its DIAN software provider, its SMTP server and its policies), except
what can only be its own: ``company`` (NIT, name, address), ``database``, ``data_dir``, ``inbox`` and ``imap``. Its
data folder is ``<data_dir>/empresas/<NIT>`` unless it names one, so its SQLite database, its blob files, its
mailbox folder and its trust folder are apart from every other company's by default.

Each company has a database of its own (Buzón's isolation: a query cannot reach another company's rows because it
runs on another database), and the shell builds a Runtime per company (buzon/group.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from buzon import local_dian
from buzon.config import ConfigError, Settings, parse_settings

# Sections a company never takes from the top level: who it is and where its own data and mail are.
OWN = frozenset({"company", "database", "data_dir", "inbox", "imap"})


def company_table(top: Mapping[str, Any], entry: Mapping[str, Any], *, data_dir: str) -> dict[str, Any]:
    """One company's configuration: the top level's shared sections with the company's own values over them."""
    merged: dict[str, Any] = {k: v for k, v in top.items() if k not in OWN and k != "companies"}
    for key, value in entry.items():
        shared = merged.get(key)
        merged[key] = {**shared, **value} if isinstance(shared, dict) and isinstance(value, dict) else value
    merged.setdefault("data_dir", data_dir)
    return merged


def with_companies(data: Mapping[str, Any], *, base: Path, env: Mapping[str, str] | None, source: str) -> Settings:
    """The first company's settings (the top level) holding the others' in ``companies``; a ConfigError names the
    company (``companies[2]``) and the key of every problem."""
    top = {k: v for k, v in data.items() if k != "companies"}
    entries = data["companies"]
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError("companies: expected [[companies]] tables, one per company")
    first = parse_settings(top, base=base, env=env, source=source)
    others: list[Settings] = []
    problems: list[str] = []
    for number, entry in enumerate(entries, start=2):
        where = f"companies[{number}]"
        nit = entry.get("company", {}).get("nit") if isinstance(entry.get("company"), dict) else None
        if not isinstance(nit, str) or not nit:
            problems.append(f"{where}.company.nit: each company names its NIT (900123456-8)")
            continue
        folder = (Path(first.data_dir) / "empresas" / nit.partition("-")[0]).as_posix()
        table = company_table(top, entry, data_dir=folder)
        # One DIAN for every company: a local simulator keeps its state in the first company's folder.
        table["dian"] = {"simulator_dir": local_dian.data_dir(first).as_posix(), **table.get("dian", {})}
        try:
            others.append(parse_settings(table, base=base, env=env, source=source))
        except ConfigError as exc:
            problems.extend(f"{where}.{problem}" for problem in exc.problems)
    problems.extend(_clashes((first, *others)))
    if problems:
        raise ConfigError(*problems)
    return dataclasses.replace(first, companies=tuple(others))


def _clashes(group: tuple[Settings, ...]) -> list[str]:
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
