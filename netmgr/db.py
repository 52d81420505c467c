"""Database engine and sessions built from settings (no I/O at import)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from netmgr.security.secrets import SecretBox
from netmgr.settings import Settings

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


def send_after_commit(session: Session, send: TaskSender) -> TaskSender:
    """A sender that queues tasks until ``session`` commits, and drops them if it rolls back.

    A task sent inside a transaction may otherwise start on a worker before the rows it reads (a new job,
    say) are committed; on PostgreSQL it would not see them and would quietly do nothing.
    """
    if _PENDING_TASKS_KEY not in session.info:
        session.info[_PENDING_TASKS_KEY] = []

        @event.listens_for(session, "after_commit")
        def _send_pending(_session: Session) -> None:
            pending: list[tuple[TaskSender, str, dict[str, Any]]] = session.info[_PENDING_TASKS_KEY]
            session.info[_PENDING_TASKS_KEY] = []
            for sender, name, kwargs in pending:
                sender(name, kwargs=kwargs)

        @event.listens_for(session, "after_soft_rollback")
        def _drop_pending(_session: Session, previous_transaction: SessionTransaction) -> None:
            if previous_transaction.parent is None:  # the whole transaction, not a savepoint inside it
                session.info[_PENDING_TASKS_KEY] = []

    def deferred(name: str, *, kwargs: dict[str, Any]) -> object:
        session.info[_PENDING_TASKS_KEY].append((send, name, kwargs))
        return None

    return deferred


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


OUT_OF_RANGE_MESSAGE = ("a number in the request is larger than netmgr stores (ids and paging values are at most "
                        "2147483647): check the id or value you sent")
