"""Several `buzon poll` processes on one Dovecot mailbox and one PostgreSQL database: start them, kill them with
SIGKILL and start them again, wait until the mail is taken, and check that every message was taken exactly once.
Used by tests/integration/test_inbox_workers.py and benchmarks/workers.py."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import make_msgid
from pathlib import Path

import sqlalchemy as sa

from store.models import AuditEntry, MailMessage, MailStatus, ReceivedDocument
from tests.conftest import SAMPLES, missing
from tests.integration.inbox_fixtures import OUR_NIT, append, folder_counts, sample_mail

REPO = Path(__file__).resolve().parents[2]
BUZON = [sys.executable, "-m", "buzon.cli"]


def sample_names() -> list[str]:
    """The real samples a supplier would mail (AttachedDocuments and bare signed invoices), in a fixed order."""
    return sorted(p.name for p in SAMPLES.glob("*.xml") if p.name.startswith(("attached_", "invoice_")))


def real_mails(count: int) -> list[tuple[str, bytes]]:
    """``count`` supplier mails, each a zip with one real sample and a PDF and a Message-ID of its own, the samples
    taken in turn (so each invoice arrives in several mails, as when a supplier sends it again)."""
    names = sample_names()
    if not names:
        missing(f"the real samples are not at {SAMPLES}")
    return [
        (names[i % len(names)], sample_mail(names[i % len(names)], message_id=make_msgid(domain=f"m{i}.test")))
        for i in range(count)
    ]


@dataclass
class Pollers:
    """`buzon poll` processes sharing one configuration (a Dovecot folder, one database URL, one data folder)."""

    root: Path
    url: str
    dovecot: object
    folder: str
    poll_interval: int = 1
    processes: list[subprocess.Popen] = field(default_factory=list)
    kills: int = 0
    exited: list[subprocess.Popen] = field(default_factory=list)  # polls that ended without being killed

    @property
    def processed(self) -> str:
        return f"{self.folder}W/Procesados"

    @property
    def quarantine(self) -> str:
        return f"{self.folder}W/Cuarentena"

    @property
    def config(self) -> Path:
        return self.root / "buzon.toml"

    def write_config(self) -> None:
        d = self.dovecot
        self.config.write_text(
            f"""data_dir = "{self.root / "var"}"
[database]
url = "{self.url}"
[company]
nit = "{OUR_NIT}-8"
[inbox]
source = "imap"
[imap]
host = "{d.host}"
port = {d.port}
tls = "none"
user = "{d.user}"
password = "{d.password}"
folder = "{self.folder}"
processed_folder = "{self.processed}"
quarantine_folder = "{self.quarantine}"
[scheduler]
poll_interval = {self.poll_interval}
"""
        )

    def env(self) -> dict[str, str]:
        env = {**os.environ, "BUZON_CONFIG": str(self.config)}
        env.pop("BUZON_CRASH_AT", None)
        return env

    def init(self) -> None:
        self.write_config()
        done = subprocess.run([*BUZON, "init"], cwd=REPO, env=self.env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr

    def deliver(self, mails: list[bytes]) -> None:
        append(self.dovecot, self.folder, *mails)

    def start(self, once: bool = False) -> subprocess.Popen:
        log = (self.root / f"poll-{len(self.processes)}.log").open("ab")
        args = [*BUZON, "poll"] + (["--once"] if once else [])
        process = subprocess.Popen(args, cwd=REPO, env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.processes.append(process)
        return process

    def log_text(self, process: subprocess.Popen) -> str:
        return (self.root / f"poll-{self.processes.index(process)}.log").read_text(errors="replace")

    def wait_logged(self, text: str, timeout: float) -> None:
        """Wait until every poll started has written ``text`` to its log (and none has ended)."""
        self._wait(lambda: all(text in self.log_text(p) for p in self.processes), timeout, f"logged {text!r}")

    def wait_done(self, count: int, timeout: float) -> None:
        """Wait until the ``count`` messages are decided and the folder is empty, every poll still running."""
        self._wait(lambda: self.done(count), timeout, f"done: {count} messages")

    def _wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert not [p for p in self.processes if p.poll() is not None], self.logs()  # no poll may end meanwhile
            assert time.monotonic() < deadline, f"not {what} in {timeout} s: {self.progress()}\n{self.logs()}"
            time.sleep(0.1)

    def live(self) -> list[subprocess.Popen]:
        return [p for p in self.processes if p.poll() is None]

    def kill(self, process: subprocess.Popen) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.kills += 1

    def stop(self) -> None:
        for process in self.live():
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill(process)

    def run_once(self, workers: int, timeout: float = 600) -> float:
        """Start ``workers`` `buzon poll --once` at the same time; the wall seconds until the last one ends."""
        started = time.perf_counter()
        running = [self.start(once=True) for _ in range(workers)]
        for process in running:
            assert process.wait(timeout=timeout) == 0, self.logs()
        return time.perf_counter() - started

    def run_with_kills(
        self, count: int, *, workers: int = 2, seed: int = 21, every: tuple[float, float] = (0.4, 1.5),
        timeout: float = 300,
    ) -> None:  # fmt: skip
        """Keep ``workers`` looping pollers running, killing one at random (SIGKILL) every ``every`` seconds and
        starting another at once, until the ``count`` messages are decided and the folder is empty."""
        chance = random.Random(seed)
        for _ in range(workers):
            self.start()
        deadline = time.monotonic() + timeout
        next_kill = time.monotonic() + chance.uniform(*every)
        decided_at_kill = 0
        try:
            while not self.done(count):
                decided = self.decided()
                assert time.monotonic() < deadline, f"not done in {timeout} s: {self.progress()}\n{self.logs()}"
                for process in [p for p in self.processes if p.poll() is not None and p not in self.exited]:
                    if process.returncode not in (-signal.SIGKILL,):  # ended on its own: say so, start another
                        self.exited.append(process)
                        self.start()
                # A kill once the mail moved on since the last one (so a slow start-up on a busy machine is not all
                # that is ever killed), at a random moment of the work.
                if time.monotonic() >= next_kill and decided > decided_at_kill and self.live():
                    victim = chance.choice(self.live())
                    self.kill(victim)
                    self.start()
                    decided_at_kill = decided
                    next_kill = time.monotonic() + chance.uniform(*every)
                time.sleep(0.05)
        finally:
            self.stop()

    def progress(self) -> dict[str, int]:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.select(MailMessage.status, sa.func.count()).group_by(MailMessage.status)).all()
        finally:
            engine.dispose()
        return {str(getattr(status, "value", status)): n for status, n in rows}

    def decided(self) -> int:
        return sum(n for status, n in self.progress().items() if status != MailStatus.PENDING.value)

    def done(self, count: int) -> bool:
        if self.decided() < count:
            return False
        return folder_counts(self.dovecot, self.folder)[self.folder] == 0

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-1500:] for p in sorted(self.root.glob("poll-*.log")))


def check_taken_once(pollers: Pollers, mails: list[tuple[str, bytes]]) -> dict[str, int]:
    """Assert that every message was taken exactly once; the counts of what happened."""
    count = len(mails)
    engine = sa.create_engine(pollers.url)
    try:
        with engine.connect() as conn:
            documents = conn.execute(sa.select(ReceivedDocument.cufe, ReceivedDocument.mail_message_id)).all()
            rows = conn.execute(sa.select(MailMessage.id, MailMessage.uid, MailMessage.status)).all()
            filed_audit = conn.execute(
                sa.select(AuditEntry.subject).where(AuditEntry.action == "document.filed")
            ).scalars().all()  # fmt: skip
            mail_audit = conn.execute(
                sa.select(AuditEntry.subject).where(AuditEntry.action.in_(["mail.duplicate", "mail.quarantined"]))
            ).scalars().all()  # fmt: skip
    finally:
        engine.dispose()
    cufes = [cufe for cufe, _ in documents]
    assert len(cufes) == len(set(cufes)), "a CUFE filed twice"
    assert sorted(uid for _, uid, _ in rows) == list(range(1, count + 1)), "a message recorded twice, or lost"
    statuses = {uid: MailStatus(getattr(status, "value", status)) for _, uid, status in rows}
    assert MailStatus.PENDING not in statuses.values()
    assert sorted(filed_audit) == sorted(cufes), "a document.filed entry for a document not on file, or twice"
    assert max(Counter(mail_audit).values(), default=1) == 1, "a message decided twice"
    # Each sample is filed from one mail and its other mails are duplicates, or all its mails are quarantined.
    by_sample: dict[str, list[MailStatus]] = {}
    for uid, (name, _) in enumerate(mails, start=1):
        by_sample.setdefault(name, []).append(statuses[uid])
    for name, seen in by_sample.items():
        kinds = Counter(seen)
        assert kinds == Counter({MailStatus.FILED: 1, MailStatus.IGNORED: len(seen) - 1}) or kinds == Counter(
            {MailStatus.QUARANTINED: len(seen)}
        ), f"{name}: {dict(kinds)}"
    filed_mails = {mail_id for _, mail_id in documents}
    assert len(filed_mails) == sum(1 for s in statuses.values() if s == MailStatus.FILED)
    folders = folder_counts(pollers.dovecot, pollers.folder, pollers.processed, pollers.quarantine)
    quarantined = sum(1 for s in statuses.values() if s == MailStatus.QUARANTINED)
    assert folders == {pollers.folder: 0, pollers.processed: count - quarantined, pollers.quarantine: quarantined}
    return {"mails": count, "documents": len(cufes), "quarantined": quarantined, "kills": pollers.kills,
            "exited": len(pollers.exited)}  # fmt: skip
