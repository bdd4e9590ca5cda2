"""Browser fixtures: the real app served by uvicorn on loopback, driven by Debian's Chromium.

Playwright is told the executable path (``/usr/bin/chromium`` or ``CLWSTWR_CHROMIUM``); it never
downloads a browser. The server runs in a thread of the test process so it can share the session's
loaded text models (loading them again per module would cost ~10 s each).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clwstwr.settings import Settings

SCREENSHOTS = Path(os.environ.get("CLWSTWR_SCREENSHOTS", "")) if os.environ.get("CLWSTWR_SCREENSHOTS") else None


def chromium_executable() -> str | None:
    explicit = os.environ.get("CLWSTWR_CHROMIUM")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class LiveServer:
    url: str
    settings: Settings
    app: object


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = chromium_executable()
    if not path:
        pytest.skip("browser tests need Debian's chromium (make test installs it; or set CLWSTWR_CHROMIUM)")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield instance
        instance.close()


def start_server(settings: Settings, text_models: object) -> Iterator[LiveServer]:
    """Serve ``create_app(settings)`` on a free loopback port until the generator is closed."""
    import uvicorn

    from api.app import create_app

    app = create_app(settings, text_models=text_models)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", settings=settings, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def screenshot(page: object, name: str) -> None:
    """Keep a screenshot of the page when CLWSTWR_SCREENSHOTS names a directory (for people to look at)."""
    if SCREENSHOTS is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ the workspace
# One served app for every browser test of the session: the bundled sample round imported and coded
# with the session's real suggester, and one account per role. Building it costs the coding of the
# round (~30 s); the tests then share it, in file order, as the people of one round would.

ROUND = "sample-2024"
PASSWORD_SUFFIX = "-browser-test-pw"
ACCOUNTS = (("reviewer1", "reviewer"), ("reviewer2", "reviewer"), ("chair", "chair"), ("programme", "programme"),
            ("admin", "admin"))


def password_for(username: str) -> str:
    return username + PASSWORD_SUFFIX


@pytest.fixture(scope="session")
def workspace_server(tmp_path_factory: pytest.TempPathFactory, models_home: Path, text_models: object,
                     suggestion_service: object) -> Iterator[LiveServer]:
    from clwstwr.coding import code_round
    from clwstwr.context import AppContext
    from clwstwr.importing import import_file
    from corpora.sample_round import SAMPLE_ROUND_NAME, bundled_sample_path
    from store import users
    from store.database import transaction

    assert SAMPLE_ROUND_NAME == ROUND
    settings = Settings(home=tmp_path_factory.mktemp("browser-home"), models_path=models_home / "models")
    ctx = AppContext.build(settings)
    try:
        import_file(ctx.sessions, ctx.codebook, bundled_sample_path(), ROUND, actor="tests")
        code_round(ctx, suggestion_service, ROUND, actor="tests")  # type: ignore[arg-type]
        with transaction(ctx.sessions) as session:
            for username, role in ACCOUNTS:
                users.create_user(session, username, password_for(username), role, actor="tests")
    finally:
        ctx.close()
    yield from start_server(settings, text_models)


@pytest.fixture
def log_in(browser: object, workspace_server: LiveServer) -> Iterator[object]:
    """``log_in(username)`` -> a page of a fresh browser context, logged in through the form (typed,
    submitted with Enter). Contexts are closed after the test."""
    contexts = []

    def open_page(username: str) -> object:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)  # type: ignore[attr-defined]
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{workspace_server.url}/login")
        page.fill("#username", username)
        page.fill("#password", password_for(username))
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.rstrip("/") == workspace_server.url, f"log-in as {username} failed: {page.url}"
        return page

    yield open_page
    for context in contexts:
        context.close()
