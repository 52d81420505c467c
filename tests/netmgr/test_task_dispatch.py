"""Tasks sent during a request leave only after its transaction commits, and never after a rollback."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from netmgr.db import send_after_commit
from tests import factories


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, name: str, *, kwargs: dict[str, Any]) -> object:
        self.sent.append((name, kwargs))
        return None


def test_a_task_is_sent_only_once_the_rows_it_reads_are_committed(session_factory: sessionmaker[Session]) -> None:
    recorder = Recorder()
    seen_by_worker: list[bool] = []

    def worker(name: str, *, kwargs: dict[str, Any]) -> object:
        with session_factory() as other:  # another connection, as a Celery worker would have
            seen_by_worker.append(factories.agency_exists(other, kwargs["code"]))
        return recorder(name, kwargs=kwargs)

    with session_factory() as session:
        factories.agency(session, code="DISKOMINFO", commit=False)
        send = send_after_commit(session, worker)
        send("provisioning.run_job", kwargs={"code": "DISKOMINFO"})
        assert recorder.sent == []
        session.commit()
    assert recorder.sent == [("provisioning.run_job", {"code": "DISKOMINFO"})]
    assert seen_by_worker == [True]


def test_a_task_queued_in_a_rolled_back_transaction_is_never_sent(session_factory: sessionmaker[Session]) -> None:
    recorder = Recorder()
    with session_factory() as session:
        factories.agency(session, code="BATAL", commit=False)
        send_after_commit(session, recorder)("provisioning.run_job", kwargs={"job_id": 1})
        session.rollback()  # e.g. the request failed after queueing the task
        session.commit()
    assert recorder.sent == []
    with session_factory() as session:
        assert not factories.agency_exists(session, "BATAL")
