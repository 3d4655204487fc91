"""`itaku bench audit`: how long `itaku audit verify` takes on a long trail (100k entries by
default) in a temporary SQLite database, or in a scratch schema of the PostgreSQL database given
with --database-url (dropped afterwards): appends the entries
(sealed with a benchmark key, anchored to a file), then verifies the chain, the anchor and the
tables, and prints the figures."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

from bot.store import audit
from bot.store.audit import AuditSeal
from bot.store.db import open_database, scratch_schema

BATCH = 1000


def run_audit_bench(entries: int, database_url: str | None = None) -> int:
    if database_url:
        with scratch_schema(database_url, "itaku_bench") as url:
            return _run(entries, url)
    return _run(entries, None)


def _run(entries: int, database_url: str | None) -> int:
    with tempfile.TemporaryDirectory(prefix="itaku-audit-bench-") as tmp_name:
        tmp = Path(tmp_name)
        db = open_database(database_url or f"sqlite:///{tmp / 'audit.db'}")
        db.audit_seal = AuditSeal("bench", b"benchmark-key-0123456789", anchor=tmp / "anchor.log")
        started = time.perf_counter()
        done = 0
        while done < entries:
            n = min(BATCH, entries - done)

            def work(s: Session, n: int = n, first: int = done) -> None:
                for i in range(n):
                    audit.append(
                        s,
                        "U0BENCH",
                        "reminded" if i % 2 else "refused",
                        None,
                        {"stage": 0, "n": first + i},
                    )

            db.transact(work)
            done += n
        appended = time.perf_counter() - started
        runs = []
        report = None
        for _ in range(3):
            t0 = time.perf_counter()
            report = audit.verify(db)
            runs.append(time.perf_counter() - t0)
        assert report is not None
        runs.sort()
        print(f"database              {db.dialect}")
        print(
            f"entries               {report.entries} (appended in {appended:.1f} s, "
            f"{entries / appended:,.0f}/s)"
        )
        print(
            f"verify                median {runs[1]:.2f} s of 3 (min {runs[0]:.2f}, "
            f"max {runs[2]:.2f}); {report.entries / runs[1]:,.0f} entries/s"
        )
        print(
            f"result                {'OK' if report.ok else 'PROBLEMS: ' + str(len(report.problems))}"
        )
        db.dispose()
        return 0 if report.ok else 1
