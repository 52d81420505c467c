"""What a running app holds: settings, engine and session factory (built once per process)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from netmgr.db import make_engine, make_session_factory
from netmgr.settings import Settings


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]

    @classmethod
    def build(cls, settings: Settings) -> AppState:
        engine = make_engine(settings)
        return cls(settings=settings, engine=engine, session_factory=make_session_factory(engine, settings))
