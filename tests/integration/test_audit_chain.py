"""The audit log's hash chain (issue 20) on real SQLite and PostgreSQL: sealed at commit or by the seal, verified
end to end, and a changed, removed or reordered entry found by `buzon audit verify` — the tampering done as an
attacker with the database's rights would (triggers dropped or disabled, plain SQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from buzon.cli import main
from store import audit
from store.audit_chain import GENESIS, Verdict, link
from store.db import session_factory
from store.models import AuditEntry
from tests.services import fresh_postgres_database, migrated_database

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def own_db(request, tmp_path) -> Iterator[sa.Engine]:
    """A migrated database of this test's own: these tests commit, and tamper, for real."""
    with migrated_database(request.param, tmp_path) as engine:
        yield engine


def write(engine: sa.Engine, count: int, *, actor: str = "user:ana") -> None:
    """``count`` entries, each committed through the ORM as the web does."""
    sessions = session_factory(engine)
    for i in range(count):
        with sessions() as s:
            audit.record(s, actor=actor, action="document.viewed", subject=f"FE{i}", data={"n": i, "texto": "ñandú"})
            s.commit()


def rows(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(AuditEntry.id, AuditEntry.chain_seq, AuditEntry.chain_hash).order_by(AuditEntry.id)
        ).all()


def tamper(engine: sa.Engine, *statements: str, **params: int) -> None:
    """Run statements (with ``params``) with the audit log's UPDATE/DELETE trigger out of the way, as its owner
    could."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_change")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_entries_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_entries_no_delete")
        for statement in statements:
            conn.execute(sa.text(statement), params)
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_change")


def verify(engine: sa.Engine, **kwargs) -> Verdict:
    with engine.connect() as conn:
        return audit.verify(conn, **kwargs)


def test_entries_written_by_the_orm_and_by_core_are_sealed_at_their_commit(own_db):
    write(own_db, 3)
    with own_db.connect() as conn:  # intake's and the sweeps' way: Core inserts on a connection
        audit.insert_entries(conn, [audit.entry(actor="inbox", action="mail.filed", subject=f"m{i}") for i in range(4)])
        conn.commit()
    sealed = rows(own_db)
    assert [r.chain_seq for r in sealed] == [1, 2, 3, 4, 5, 6, 7]
    with own_db.connect() as conn:
        first = conn.execute(sa.select(AuditEntry.__table__).where(AuditEntry.id == sealed[0].id)).one()
        assert sealed[0].chain_hash == link(1, GENESIS, first)
        verdict = audit.verify(conn)
        assert (verdict.ok, verdict.count, verdict.unsealed) == (True, 7, 0)
        assert verdict.head == audit.chain_head(conn) == (7, sealed[-1].chain_hash)


def test_a_rolled_back_transaction_seals_nothing_and_an_entry_left_unsealed_is_sealed_later(own_db):
    with own_db.connect() as conn:
        audit.insert_entries(conn, [audit.entry(actor="x", action="login")])
        conn.rollback()
        # Written on a connection in autocommit: no transaction to seal in; the seal job takes it.
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        audit.insert_entries(auto, [audit.entry(actor="x", action="login")])
    assert [r.chain_seq for r in rows(own_db)] == [None]
    assert verify(own_db).unsealed == 1
    assert audit.seal(own_db) == 1
    assert verify(own_db).ok and verify(own_db).count == 1


def test_the_database_lets_the_chain_columns_be_set_once_and_nothing_else(own_db):
    write(own_db, 1)
    with own_db.connect() as conn:
        conn.execute(sa.insert(AuditEntry.__table__).values(audit.entry(actor="x", action="login")))
        unsealed = conn.execute(sa.select(sa.func.max(AuditEntry.id))).scalar_one()
        for statement in (
            "UPDATE audit_entries SET chain_hash = 'f' WHERE chain_seq = 1",  # a sealed hash
            "UPDATE audit_entries SET chain_seq = NULL, chain_hash = NULL WHERE chain_seq = 1",
            "UPDATE audit_entries SET chain_seq = 9, chain_hash = 'a', actor = 'mallory' WHERE id = :id",
            "UPDATE audit_entries SET actor = 'mallory' WHERE id = :id",
            "DELETE FROM audit_entries",
        ):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), conn.begin_nested():
                conn.execute(sa.text(statement), {"id": unsealed})
        conn.execute(
            sa.text("UPDATE audit_entries SET chain_seq = 2, chain_hash = 'a' WHERE id = :id"), {"id": unsealed}
        )
        conn.rollback()


def test_a_changed_entry_is_found_and_named(own_db):
    write(own_db, 5)
    entry_id = rows(own_db)[2].id
    tamper(own_db, "UPDATE audit_entries SET actor = 'user:mallory' WHERE id = :id", id=entry_id)
    verdict = verify(own_db)
    assert not verdict.ok and verdict.count == 2 and verdict.head[0] == 2
    assert (verdict.broken.position, verdict.broken.entry_id) == (3, entry_id)
    assert "changed after it was sealed" in verdict.broken.problem


def test_a_removed_entry_is_found(own_db):
    write(own_db, 5)
    removed, after = rows(own_db)[1].id, rows(own_db)[2].id
    tamper(own_db, "DELETE FROM audit_entries WHERE id = :id", id=removed)
    verdict = verify(own_db)
    assert (verdict.broken.position, verdict.broken.entry_id) == (2, after)
    assert "position 2 is missing" in verdict.broken.problem and "removed" in verdict.broken.problem


def test_reordered_entries_are_found(own_db):
    write(own_db, 5)
    second, third = rows(own_db)[1].id, rows(own_db)[2].id
    tamper(
        own_db,
        "UPDATE audit_entries SET chain_seq = -1 WHERE id = :second",
        "UPDATE audit_entries SET chain_seq = 2 WHERE id = :third",
        "UPDATE audit_entries SET chain_seq = 3 WHERE id = :second",
        second=second,
        third=third,
    )
    verdict = verify(own_db)
    assert (verdict.broken.position, verdict.broken.entry_id) == (2, third)
    assert "does not follow position 1" in verdict.broken.problem


def test_a_chain_rewritten_from_a_change_on_is_caught_by_the_head_recorded_earlier(own_db):
    write(own_db, 4)
    recorded = verify(own_db).head
    # The attacker changes entry 2, then unseals it and everything after it so that the seal chains them again.
    second = rows(own_db)[1].id
    tamper(
        own_db,
        "UPDATE audit_entries SET subject = 'otro' WHERE id = :id",
        "UPDATE audit_entries SET chain_seq = NULL, chain_hash = NULL WHERE chain_seq >= 2",
        id=second,
    )
    audit.seal(own_db)
    assert verify(own_db).ok  # consistent in itself…
    verdict = verify(own_db, expect=recorded)  # …but not with the head an export pack kept
    assert verdict.broken.position == 4 and "no longer has the hash recorded earlier" in verdict.broken.problem
    tamper(own_db, "DELETE FROM audit_entries WHERE chain_seq = :last", last=recorded[0])  # the tail cut off
    verdict = verify(own_db, expect=recorded)
    assert verdict.broken.entry_id is None and "entries at its end were removed" in verdict.broken.problem


@pytest.fixture(params=["sqlite", "postgresql"])
def config(request, tmp_path) -> Iterator[Path]:
    path = tmp_path / "buzon.toml"
    if request.param == "sqlite":
        path.write_text(f'demo = false\ndata_dir = "{tmp_path / "var"}"\n')
        yield path
    else:
        with fresh_postgres_database() as url:
            path.write_text(f'demo = false\ndata_dir = "{tmp_path / "var"}"\n[database]\nurl = "{url}"\n')
            yield path


def test_buzon_audit_verify_prints_the_head_or_names_the_first_broken_link(config):
    from buzon.config import load_settings
    from store.db import make_engine

    assert CliRunner().invoke(main, ["init", "--config", str(config)]).exit_code == 0
    engine = make_engine(load_settings(str(config)).database_url)
    try:
        with engine.connect() as conn:  # left unsealed (autocommit): verify seals them first
            auto = conn.execution_options(isolation_level="AUTOCOMMIT")
            audit.insert_entries(auto, [audit.entry(actor="x", action="login", subject=str(i)) for i in range(3)])
        result = CliRunner().invoke(main, ["audit", "verify", "--config", str(config)])
        assert result.exit_code == 0, result.output
        head = rows(engine)[-1].chain_hash
        assert f"audit chain verified: 3 entries, head 3:{head}" in result.output
        assert (
            CliRunner().invoke(main, ["audit", "verify", "--expect", f"3:{head}", "--config", str(config)]).exit_code
            == 0
        )
        bad = CliRunner().invoke(main, ["audit", "verify", "--expect", "3:zz", "--config", str(config)])
        assert bad.exit_code == 2 and "--expect" in bad.output
        entry_id = rows(engine)[1].id
        tamper(engine, "UPDATE audit_entries SET subject = 'otro' WHERE id = :id", id=entry_id)
        result = CliRunner().invoke(main, ["audit", "verify", "--config", str(config)])
        assert result.exit_code == 1
        assert f"audit chain BROKEN at position 2 (entry {entry_id})" in result.output
        assert "the 1 entries before it verify" in result.output
    finally:
        engine.dispose()


def test_concurrent_writers_on_postgresql_give_one_valid_chain(tmp_path):
    with migrated_database("postgresql", tmp_path) as engine:
        errors: list[BaseException] = []

        def writer(n: int) -> None:
            try:
                sessions = session_factory(engine)
                for i in range(40):
                    with sessions() as s:
                        for j in range(1 + i % 3):
                            audit.record(s, actor=f"worker:{n}", action="login", subject=f"{n}-{i}-{j}")
                        s.commit()
                    if i % 10 == 0:
                        audit.seal(engine)  # the job, running meanwhile
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        audit.seal(engine)
        verdict = verify(engine)
        written = 4 * sum(1 + i % 3 for i in range(40))
        assert (verdict.ok, verdict.count, verdict.unsealed) == (True, written, 0)
        assert sorted(r.chain_seq for r in rows(engine)) == list(range(1, written + 1))


def test_a_seal_that_fails_at_commit_leaves_the_entries_committed_unsealed(own_db, monkeypatch):
    import store.audit_chain

    def broken(*args):
        raise ValueError("a hash that cannot be computed")

    monkeypatch.setattr(store.audit_chain, "link", broken)
    write(own_db, 2)  # committed all the same
    assert [r.chain_seq for r in rows(own_db)] == [None, None]
    monkeypatch.undo()
    assert audit.seal(own_db) == 2 and verify(own_db).ok


def test_a_writer_that_finds_the_chain_locked_commits_without_waiting_and_leaves_its_entry_unsealed(tmp_path):
    from store.audit_chain import lock_chain

    with migrated_database("postgresql", tmp_path) as engine, engine.connect() as holder:
        lock_chain(holder)  # another seal, in progress
        write(engine, 1)  # returns at once: no wait on the lock
        assert [r.chain_seq for r in rows(engine)] == [None]
        holder.rollback()
        write(engine, 1)  # the next commit seals both
        assert [r.chain_seq for r in rows(engine)] == [1, 2] and verify(engine).ok


def _writer_process(url: str, name: str, commits: int) -> None:
    """One process of its own (spawned): its engine, its commits, each sealed at commit when the lock is free."""
    from store.db import make_engine

    engine = make_engine(url)
    try:
        write(engine, commits, actor=f"worker:{name}")
    finally:
        engine.dispose()


def test_two_writer_processes_on_postgresql_give_one_valid_chain(tmp_path):
    import multiprocessing

    with migrated_database("postgresql", tmp_path) as engine:
        url = engine.url.render_as_string(hide_password=False)
        spawn = multiprocessing.get_context("spawn")
        workers = [spawn.Process(target=_writer_process, args=(url, str(n), 60)) for n in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
        assert [w.exitcode for w in workers] == [0, 0]
        assert verify(engine).unsealed < 120  # their commits sealed (most of) them
        audit.seal(engine)  # what a writer left while the other held the lock
        verdict = verify(engine)
        assert (verdict.ok, verdict.count, verdict.unsealed) == (True, 120, 0)
        with engine.connect() as conn:
            actors = conn.execute(sa.select(AuditEntry.actor, sa.func.count()).group_by(AuditEntry.actor)).all()
        assert sorted(actors) == [("worker:0", 60), ("worker:1", 60)]
