"""Opening the database: engine options per dialect, and migrations to the newest schema."""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Engine,
    Result,
    create_engine,
    event,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATE_LOCK_ID = 7_355_608  # PostgreSQL advisory lock held while migrating (several replicas)
_ALEMBIC = threading.Lock()  # Alembic keeps its context in module globals: one run per process


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False, info={"database": self})
        # how audit entries are sealed and anchored (bot/store/audit.py: AuditSeal); None means
        # the development key, no anchor
        self.audit_seal: Any = None
        # SQLite has one writer at a time, and a waiting writer polls (busy_timeout) in steps of
        # up to 100 ms: in one process, taking turns here instead cut `bench teams`' ack p99 from
        # about 100 ms to 35 ms. Other processes on the same file still meet the busy timeout.
        self._turns = threading.RLock() if engine.dialect.name == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on error."""
        if self._turns is None:
            with self.sessions() as s, s.begin():
                yield s
            return
        with self._turns, self.sessions() as s, s.begin():
            yield s

    def transact(self, work: Callable[[Session], T], attempts: int = 40) -> T:
        """Run `work` in a transaction, again from the start when it lost a race: a unique key
        taken by a concurrent writer (IntegrityError), or SQLite's snapshot gone stale under
        another writer ("database is locked"). Other errors propagate at once."""
        for attempt in range(attempts):
            try:
                with self.session() as s:
                    return work(s)
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
            except OperationalError as e:
                if "locked" not in str(e.orig) or attempt == attempts - 1:
                    raise
            time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.05)))
        raise AssertionError("unreachable")

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent; safe with several replicas)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with _ALEMBIC, _sqlite_file_lock(self.engine), self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATE_LOCK_ID})
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
            finally:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATE_LOCK_ID})
                    conn.commit()

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """Several processes on one SQLite file migrate one at a time (PostgreSQL uses an advisory
    lock instead)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: one process per data folder is the rule there
        yield
        return
    with open(f"{database}.migrate-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def open_database(url: str, migrate: bool = True) -> Database:
    """Open (and by default migrate) the database at a SQLAlchemy URL."""
    parsed = make_url(url)
    # an error names its class, never the statement's parameters (ids, channels, text)
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
    else:
        kwargs.update(pool_size=10, max_overflow=20)
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    db = Database(engine)
    if migrate:
        db.migrate()
    log.debug("database open dialect=%s", db.dialect)
    return db


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE (the compare-and-set checks rely on it)."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


@contextmanager
def scratch_schema(url: str, prefix: str = "itaku_s") -> Iterator[str]:
    """A PostgreSQL URL whose tables live in a fresh schema, dropped afterwards (tests and
    benchmarks never write into the database's own tables). Raises OperationalError on entry
    where no server answers."""
    engine = create_engine(url)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
            conn.commit()
    except Exception:
        engine.dispose()
        raise
    try:
        joiner = "&" if "?" in url else "?"
        yield f"{url}{joiner}options=-csearch_path%3D{schema}"
    finally:
        with engine.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            conn.commit()
        engine.dispose()


def compare_and_set(
    s: Session,
    table: Any,
    row_id: object,
    expected_version: int,
    *conditions: ColumnElement[bool],
    **values: Any,
) -> bool:
    """Set `values` on the row `row_id` only if its version is still `expected_version` (and
    `conditions` hold), moving the version on by one: False when another writer got there
    first. Every ledger-like table (contractors, incidents, corrective actions) changes so."""
    result = s.execute(
        update(table)
        .where(table.id == row_id, table.version == expected_version, *conditions)
        .values(**values, version=expected_version + 1)
        .execution_options(synchronize_session="fetch")
    )
    return rowcount(result) == 1
