"""Database engine and sessions built from settings (no I/O at import)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, delete, event, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from netmgr.models.base import utcnow
from netmgr.models.outbox import OutboxTask
from netmgr.security.secrets import SecretBox
from netmgr.settings import Settings

log = logging.getLogger(__name__)

SECRET_BOX_KEY = "secret_box"  # noqa: S105 - a dict key, not a secret


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured database; SQLite gets WAL, foreign keys and a busy timeout."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_session_factory(engine: Engine, settings: Settings) -> sessionmaker[Session]:
    """Sessions that carry the secret box, so services can encrypt without globals."""
    box = SecretBox(settings.fernet_keys())
    return sessionmaker(bind=engine, expire_on_commit=False, info={SECRET_BOX_KEY: box})


def dialect_insert(session: Session) -> Any:
    """``insert`` of the session's dialect (SQLite or PostgreSQL), for ``on_conflict_do_*``."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def secret_box(session: Session) -> SecretBox:
    box = session.info.get(SECRET_BOX_KEY)
    if not isinstance(box, SecretBox):
        raise RuntimeError("session was not made by make_session_factory; it has no secret box")
    return box


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_PENDING_TASKS_KEY = "pending_tasks"


class TaskSender(Protocol):
    """Sends a Celery task by name, like ``celery_app.send_task(name, kwargs={...})``: the one protocol services,
    transports and capabilities use, so a service sends work without importing Celery (``netmgr.api.deps``
    gives a request's sender, deferred until its transaction commits)."""

    def __call__(self, name: str, *, kwargs: dict[str, Any]) -> object: ...


@dataclass(frozen=True)
class _Pending:
    send: TaskSender
    row: OutboxTask
    name: str
    kwargs: dict[str, Any]


def send_after_commit(session: Session, send: TaskSender) -> TaskSender:
    """A sender that writes each task to the outbox in ``session``'s transaction and sends it once that commits.

    A task sent inside a transaction may otherwise start on a worker before the rows it reads (a new job, say)
    are committed; on PostgreSQL it would not see them and would quietly do nothing. A rollback drops the task
    with its rows. A broker that refuses it (stopped, unreachable) does not lose it: the task stays in the
    outbox with the error, and ``flush_outbox`` (the periodic ``netmgr.flush_task_outbox``) sends it later,
    so a committed job is never left ``queued`` with no task on its way.
    """
    if _PENDING_TASKS_KEY not in session.info:
        session.info[_PENDING_TASKS_KEY] = []

        @event.listens_for(session, "after_commit")
        def _send_pending(_session: Session) -> None:
            pending: list[_Pending] = session.info[_PENDING_TASKS_KEY]
            session.info[_PENDING_TASKS_KEY] = []
            if pending:
                bind = session.get_bind()
                engine = bind if isinstance(bind, Engine) else bind.engine
                for item in pending:
                    identity = sa_inspect(item.row).identity
                    if identity is not None:
                        _deliver(engine, item.send, int(identity[0]), item.name, item.kwargs)

        @event.listens_for(session, "after_soft_rollback")
        def _drop_pending(_session: Session, previous_transaction: SessionTransaction) -> None:
            if previous_transaction.parent is None:  # the whole transaction, not a savepoint inside it
                session.info[_PENDING_TASKS_KEY] = []

    def deferred(name: str, *, kwargs: dict[str, Any]) -> object:
        row = OutboxTask(name=name, kwargs=kwargs)
        session.add(row)
        session.info[_PENDING_TASKS_KEY].append(_Pending(send, row, name, kwargs))
        return None

    return deferred


def _deliver(engine: Engine, send: TaskSender, row_id: int, name: str, kwargs: dict[str, Any]) -> bool:
    """Send one outbox task; on success delete its row, else keep it with the error (for the next sweep)."""
    try:
        send(name, kwargs=kwargs)
    except Exception as exc:  # whatever the broker client raises, the task must stay in the outbox
        log.warning("task %s (outbox row %s) was not sent, the broker refused it; it is kept and sent again when "
                    "the broker answers: %s", name, row_id, exc)
        with engine.begin() as conn:
            conn.execute(update(OutboxTask).where(OutboxTask.id == row_id).values(
                attempts=OutboxTask.attempts + 1, last_attempt_at=utcnow(),
                last_error=f"{type(exc).__name__}: {exc}"[:1000]))
        return False
    with engine.begin() as conn:
        conn.execute(delete(OutboxTask).where(OutboxTask.id == row_id))
    return True


@dataclass(frozen=True)
class OutboxFlush:
    """What one sweep of the outbox did: tasks sent, and tasks still waiting (the broker refused them again)."""

    sent: int
    waiting: int


def flush_outbox(engine: Engine, send: TaskSender, *, older_than_s: float = 30.0,
                 limit: int = 500) -> OutboxFlush:
    """Send the outbox tasks that waited at least ``older_than_s`` (younger ones are still being sent by the
    request that wrote them), oldest first; each sent task leaves the outbox, a refused one stays."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    with engine.connect() as conn:
        rows = conn.execute(select(OutboxTask.id, OutboxTask.name, OutboxTask.kwargs)
                            .where(OutboxTask.created_at <= cutoff).order_by(OutboxTask.id).limit(limit)).all()
    sent = sum(_deliver(engine, send, row.id, row.name, row.kwargs) for row in rows)
    return OutboxFlush(sent=sent, waiting=len(rows) - sent)


_MISSING_TABLE = ("no such table", "does not exist", "undefinedtable")
_UNREACHABLE = ("connection refused", "could not connect", "unable to open database", "name or service not known",
                "timeout expired", "no such host", "could not translate host name")


def explain_database_error(exc: DBAPIError, settings: Settings) -> str:
    """One line for a person: what is wrong with the database a command tried to use, and what to do."""
    url = settings.resolved_database_url
    where = url.split("///", 1)[-1] if url.startswith("sqlite") else url.rsplit("@", 1)[-1]
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc).splitlines()[0]
    lowered = f"{type(exc.orig).__name__} {detail}".lower()
    if any(marker in lowered for marker in _MISSING_TABLE):
        return (f"the database {where} has no netmgr tables, or older ones ({detail}): "
                "run `netmgr db upgrade` first")
    if any(marker in lowered for marker in _UNREACHABLE):
        return (f"cannot reach the database {where} ({detail}): check NETMGR_DATABASE_URL and that the "
                "database server is running")
    return f"the database {where} refused the command: {detail}"


def is_out_of_range(exc: BaseException) -> bool:
    """Whether ``exc`` is the database refusing a number it cannot store or compare (an id, offset or count
    beyond 2^63 on SQLite, beyond its column's type on PostgreSQL): the request's fault, never a server error."""
    if isinstance(exc, OverflowError):
        return "SQLite INTEGER" in str(exc) or "int too large" in str(exc)
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return getattr(exc.orig, "sqlstate", None) == "22003"  # numeric_value_out_of_range
    return False


def is_nul_in_text(exc: BaseException) -> bool:
    """Whether ``exc`` is PostgreSQL refusing a NUL character (``\\u0000``) in text, which it cannot store: the
    request's fault (a JSON string or query value holding it), never a server error."""
    return isinstance(exc, DBAPIError) and "cannot contain NUL" in str(exc.orig)


NUL_IN_TEXT_MESSAGE = ("a text in the request holds a NUL character (\\u0000), which the database cannot store: "
                       "remove it and send the request again")

OUT_OF_RANGE_MESSAGE = ("a number in the request is larger than netmgr stores (ids and paging values are at most "
                        "2147483647): check the id or value you sent")
