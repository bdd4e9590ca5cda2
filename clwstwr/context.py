"""What every command needs, built once from Settings: database, codebook, template environment.

Built by a factory, never at import time, so tests build as many independent contexts as they like.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from corpora.codebook import Codebook, load_codebook
from letters.rendering import make_environment
from store.database import make_engine, migrate, session_factory

from .settings import Settings


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    codebook: Codebook
    templates: Environment

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        """Create the data directory, connect, and migrate the schema to the latest revision."""
        settings.ensure_home()
        engine = make_engine(settings.resolved_database_url)
        migrate(engine)
        return cls(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            codebook=load_codebook(),
            templates=make_environment(),
        )

    def close(self) -> None:
        self.engine.dispose()
