"""Two `buzon poll` processes on one Dovecot mailbox and one PostgreSQL, killed with SIGKILL at random and started
again: every message is recorded once, decided once, filed at most once per CUFE and moved once (inbox.claims)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from tests.integration.pollers import Pollers, check_taken_once, real_mails
from tests.services import fresh_postgres_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]
_names = itertools.count(1)


def test_two_pollers_killed_at_random_take_every_message_once(dovecot, tmp_path: Path) -> None:
    # Enough mail that the kills land in the work: two polls take a few hundred mails a second once started.
    mails = real_mails(400)
    with fresh_postgres_database() as url:
        pollers = Pollers(tmp_path, url, dovecot, folder=f"Workers{next(_names)}")
        pollers.init()
        pollers.deliver([data for _, data in mails])
        pollers.run_with_kills(len(mails), workers=2, every=(0.1, 0.5), timeout=120)
        counts = check_taken_once(pollers, mails)
    # The run was interrupted more than once (a kill waits for the mail to move on since the last one, so how many
    # fit depends on the machine's speed: two is what a fast, quiet machine still gives).
    assert counts["kills"] >= 2, counts
    assert counts["exited"] == 0, pollers.logs()  # no poll ended on its own
    assert counts["documents"] > 0


def test_two_pollers_split_the_mail(dovecot, tmp_path: Path) -> None:
    """Two looping polls, both connected and waiting when the mail arrives (so the outcome does not depend on which
    process starts faster): both take part (each records some of the messages) and neither takes one the other took."""
    mails = real_mails(200)
    with fresh_postgres_database() as url:
        pollers = Pollers(tmp_path, url, dovecot, folder=f"Split{next(_names)}")
        pollers.init()
        pollers.deliver([])  # the folder, empty
        try:
            running = [pollers.start(), pollers.start()]
            pollers.wait_logged("esperando correo nuevo", timeout=120)
            pollers.deliver([data for _, data in mails])
            pollers.wait_done(len(mails), timeout=300)
        finally:
            pollers.stop()
        check_taken_once(pollers, mails)
    # Each mail holds one document: each process's lines count the messages it took ("… 50 mensaje(s): …").
    taken = [sum(int(n) for n in re.findall(r"Z (\d+) mensaje\(s\):", pollers.log_text(p))) for p in running]
    assert sum(taken) == len(mails) and min(taken) > 0, taken


def test_a_batch_that_deadlocks_is_taken_again_at_once(tmp_path: Path) -> None:
    """PostgreSQL rolls a deadlocked transaction back whole: intake takes the batch again, nothing quarantined."""
    import psycopg
    import sqlalchemy as sa
    from sqlalchemy.orm import sessionmaker

    from inbox.intake import Envelope, Intake, IntakePolicy
    from store.blobs import BlobStore
    from store.models import MailMessage, MailStatus, ReceivedDocument
    from tests.integration.inbox_fixtures import NOW, PDF, mail, signed
    from tests.services import migrated_database

    class Deadlocking(Intake):
        raced = 0

        def _resolve(self, plan, known):  # type: ignore[no-untyped-def]
            if not Deadlocking.raced:
                Deadlocking.raced += 1
                raise sa.exc.OperationalError("INSERT", {}, psycopg.errors.DeadlockDetected("deadlock detected"))
            super()._resolve(plan, known)

    s_ = signed()
    with migrated_database("postgresql", tmp_path) as engine:
        policy = IntakePolicy(our_nit=s_.company_nit, trust=s_.trust)
        intake = Deadlocking(sessionmaker(engine, expire_on_commit=False), BlobStore(tmp_path / "b"), policy,
                             clock=lambda: NOW)  # fmt: skip
        datas = [mail(("ad.xml", s_.invoice.attached), ("fv.pdf", PDF)), mail(("nc.xml", s_.note.attached))]
        results = intake.take_many([Envelope(mailbox="m", data=d, uidvalidity=1, uid=i) for i, d in enumerate(datas)])
        assert Deadlocking.raced == 1
        assert [r.status for r in results] == [MailStatus.FILED, MailStatus.FILED]
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(ReceivedDocument)).scalar() == 2
            assert set(conn.execute(sa.select(MailMessage.status)).scalars()) == {MailStatus.FILED}
