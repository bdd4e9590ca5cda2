"""Password guessing through the web app: after too many failed log-ins a user name is refused with
429 and Retry-After (JSON) or a flagged log-in page (browser form), known and unknown names alike,
before any password is hashed; a success or an administrator's ``clwstwr user set-password`` lets it
back in. (The window passing is tested with an injected clock in ``tests/store/test_login_throttle.py``.)

The app here allows 2 failures instead of 5: every checked password costs a scrypt hash, and nothing
tested depends on the number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from clwstwr.cli import main
from clwstwr.settings import Settings
from store import users
from store.database import transaction

from .conftest import make_account

pytestmark = pytest.mark.slow  # the app loads the real text models in its lifespan
MAX_FAILURES = 2
WINDOW_SECONDS = 15 * 60
THROTTLED = re.compile(r"too many failed log-ins for this user name; try again in (\d+) minutes? or ask an administrator")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("throttle-home")


@pytest.fixture(scope="module")
def client(home: Path, models_home: Path, text_models) -> Iterator[TestClient]:
    settings = Settings(home=home, models_path=models_home / "models", login_max_failures=MAX_FAILURES)
    with TestClient(create_app(settings, text_models=text_models)) as test_client:
        yield test_client


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts scrypt runs (checking, faking or setting a password), to show what a refusal skips."""
    count: list[int] = []
    real = users._scrypt

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        count.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(users, "_scrypt", counting)
    return count


def _post(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    return TestClient(client.app).post("/api/v1/login", json={"username": username, "password": password})


def _fail_until_throttled(client: TestClient, username: str) -> None:
    for _ in range(MAX_FAILURES):
        assert _post(client, username, "a wrong guess at it").status_code == 401


def _assert_throttled(response) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == "CW704" and THROTTLED.fullmatch(error["message"]), error
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= WINDOW_SECONDS and error["details"] == {"retry_after_seconds": retry_after}
    assert int(THROTTLED.fullmatch(error["message"]).group(1)) * 60 >= retry_after  # type: ignore[union-attr]
    assert "set-cookie" not in response.headers
    return error["code"], error["message"]


def test_throttle_the_right_password_is_refused_after_too_many_wrong_ones(client: TestClient, hashes: list[int]) -> None:
    account = make_account(client, "reviewer")
    _fail_until_throttled(client, account.username)
    hashes.clear()
    refused = _post(client, account.username, account.password)
    assert _assert_throttled(refused)[1].endswith("try again in 15 minutes or ask an administrator")
    assert hashes == [], "refused before the password is checked: no hashing work at all"
    throttled_events = _audit(client, "user.login_throttled")
    assert {"username": account.username, "retry_after_seconds": int(refused.headers["retry-after"])} in throttled_events


def test_throttle_an_unknown_user_name_is_refused_the_same_way(client: TestClient) -> None:
    known, unknown = make_account(client, "chair"), "no-such-person@example.nhs.wales"
    for name in (known.username, unknown):
        _fail_until_throttled(client, name)
    answers = [_post(client, name, "a wrong guess at it") for name in (known.username, unknown)]
    assert _assert_throttled(answers[0]) == _assert_throttled(answers[1]), "the answer does not tell which name exists"
    assert answers[0].headers.keys() == answers[1].headers.keys()


def test_throttle_a_success_clears_the_count(client: TestClient) -> None:
    account = make_account(client, "programme")
    for _ in range(2):  # wrong, right, wrong, right: never two failures in a row, never refused
        assert _post(client, account.username, "a wrong guess at it").status_code == 401
        assert _post(client, account.username, account.password).status_code == 200


def test_throttle_cli_set_password_lets_a_throttled_user_back_in(client: TestClient, home: Path) -> None:
    account = make_account(client, "reviewer")
    _fail_until_throttled(client, account.username)
    _assert_throttled(_post(client, account.username, account.password))
    result = CliRunner().invoke(main, ["--home", str(home), "user", "set-password", account.username, "--password-stdin",
                                       "--by", "ops"], input="a brand new passphrase\n")
    assert result.exit_code == 0, result.output
    assert "failed log-ins cleared" in result.output
    assert _post(client, account.username, "a brand new passphrase").status_code == 200


def test_throttle_the_browser_form_comes_back_to_the_log_in_page_saying_why(client: TestClient) -> None:
    account = make_account(client, "chair")
    _fail_until_throttled(client, account.username)
    browser = TestClient(client.app)
    form = {"username": account.username, "password": account.password, "next": "/grid"}
    refused = browser.post("/login", data=form, follow_redirects=False)
    assert refused.status_code == 303 and "set-cookie" not in refused.headers
    assert refused.headers["location"] == "/login?throttled=15&next=%2Fgrid"
    page = browser.get(refused.headers["location"], headers={"accept": "text/html"})
    assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")
    assert ('<p class="notice error" role="alert">Too many failed log-ins for this user name; '
            "try again in 15 minutes or ask an administrator.</p>") in page.text
    assert "Wrong user name or password" not in page.text
    assert 'name="next" value="/grid"' in page.text, "logging in afterwards still goes where the user was going"
    edited = browser.get("/login?throttled=abc")
    assert edited.status_code == 429 and "try again later or ask an administrator." in edited.text


def test_throttle_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    defaults = Settings(home=tmp_path)
    assert (defaults.login_max_failures, defaults.login_window_minutes) == (5, 15.0)
    monkeypatch.setenv("CLWSTWR_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("CLWSTWR_LOGIN_WINDOW_MINUTES", "2.5")
    settings = Settings(home=tmp_path)
    assert settings.login_max_failures == 3 and settings.login_window.total_seconds() == 150
    monkeypatch.setenv("CLWSTWR_LOGIN_MAX_FAILURES", "0")
    with pytest.raises(ValidationError, match="login_max_failures"):
        Settings(home=tmp_path)


def _audit(client: TestClient, kind: str) -> list[dict[str, object]]:
    with transaction(client.app.state.context.sessions) as session:  # type: ignore[attr-defined]
        return [e.payload for e in users.audit_events(session, kind_prefix=kind)]

