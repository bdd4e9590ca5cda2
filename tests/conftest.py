"""Shared fixtures. Databases: every storage test runs on SQLite and, where reachable, PostgreSQL.

PostgreSQL is taken from CLWSTWR_TEST_POSTGRES_URL (default: the local server's ``test`` database).
Each test gets its own schema, dropped afterwards, so tests never see each other's rows. Where no
server answers, the PostgreSQL variants are skipped with a message saying so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from clwstwr.context import AppContext
from clwstwr.settings import Settings
from corpora.codebook import Codebook, load_codebook

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_url() -> str:
    return os.environ.get("CLWSTWR_TEST_POSTGRES_URL", DEFAULT_PG)


def _postgres_reachable(url: str) -> str | None:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means "not here"
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    return load_codebook()


@contextmanager
def fresh_database(kind: str, directory: Path) -> Iterator[str]:
    """An empty database: a SQLite file in ``directory``, or a new PostgreSQL schema (dropped after).

    Skips the test with a message when PostgreSQL is asked for and does not answer.
    """
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'clwstwr.sqlite'}"
        return
    url = _postgres_url()
    problem = _postgres_reachable(url)
    if problem:
        pytest.skip(f"PostgreSQL not reachable at {url} ({problem}); storage tests ran on SQLite only")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test: a SQLite file, or a new PostgreSQL schema."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def ctx(database_url: str, tmp_path: Path) -> Iterator[AppContext]:
    context = AppContext.build(Settings(home=tmp_path / "home", database_url=database_url))
    yield context
    context.close()


@pytest.fixture
def sqlite_ctx(tmp_path: Path) -> Iterator[AppContext]:
    """SQLite only: for tests about behaviour that does not depend on the database."""
    context = AppContext.build(Settings(home=tmp_path / "home", database_url=None))
    yield context
    context.close()


# ------------------------------------------------------------------------------------------ text models
# The real embedding model and spaCy pipeline, loaded once per test session, with the embedding cache
# and fitted models in one session directory: the suggester is fitted once, not once per test.


@pytest.fixture(scope="session")
def models_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models-home")


@pytest.fixture(scope="session")
def text_models(models_home: Path):  # -> clwstwr.suggesting.TextModels
    from clwstwr.suggesting import load_text_models

    return load_text_models(Settings(home=models_home))


@pytest.fixture(scope="session")
def suggestion_service(models_home: Path, text_models, codebook: Codebook):  # -> SuggestionService
    from clwstwr.suggesting import build_suggestion_service

    return build_suggestion_service(Settings(home=models_home), codebook, models=text_models)


@pytest.fixture
def nlp_ctx(tmp_path: Path, models_home: Path) -> Iterator[AppContext]:
    """SQLite context whose fitted models are the session's (no refit per test)."""
    context = AppContext.build(Settings(home=tmp_path / "home", models_path=models_home / "models"))
    yield context
    context.close()
