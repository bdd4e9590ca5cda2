"""Logging in and out as a user would notice it: the cookie, the 401s that give nothing away, sessions
that end, an app that will not start with a placeholder secret, the administrator's routes and the
``clwstwr user`` commands that make the first account."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from api.dependencies import SESSION_COOKIE
from api.session_cache import SessionCache
from clwstwr.cli import main
from clwstwr.settings import InsecureSettingsError, Settings
from store import users
from store.database import transaction
from store.user_tables import User

from .conftest import TestAccount, log_in, make_account

pytestmark = pytest.mark.slow  # every app here loads the real text models in its lifespan
GOOD_KEY = "k" * 16 + "-not-a-placeholder-" + "q" * 16


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth-home")


@pytest.fixture(scope="module")
def app_settings(home: Path, models_home: Path) -> Settings:
    return Settings(home=home, models_path=models_home / "models")


@pytest.fixture(scope="module")
def client(app_settings: Settings, text_models) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings, text_models=text_models)) as test_client:
        yield test_client


@pytest.fixture
def fresh(client: TestClient) -> Iterator[TestClient]:
    """Another browser on the same running app: its own (empty) cookie jar."""
    yield TestClient(client.app)


def _error(response) -> dict:  # type: ignore[no-untyped-def]
    return response.json()["error"]


# ------------------------------------------------------------------------------------------ log-in


def test_auth_login_sets_an_httponly_lax_cookie_and_me_says_who(client: TestClient, fresh: TestClient) -> None:
    account = make_account(client, "programme")
    response = fresh.post("/api/v1/login", json={"username": account.username.upper(), "password": account.password})
    assert response.status_code == 200
    assert response.json()["username"] == account.username and response.json()["role"] == "programme"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie, "plain http is fine in development"
    assert "Max-Age=28800" in cookie, "the default session lasts 8 hours"
    me = fresh.get("/api/v1/me").json()
    assert (me["username"], me["role"], me["rounds"]) == (account.username, "programme", [])


def test_auth_wrong_password_unknown_user_and_disabled_user_get_the_same_401(client: TestClient, fresh: TestClient) -> None:
    account = make_account(client, "reviewer")
    disabled = make_account(client, "reviewer")
    with transaction(client.app.state.context.sessions) as session:  # type: ignore[attr-defined]
        users.disable(session, disabled.username, actor="tests")
    attempts = [
        {"username": account.username, "password": account.password + "x"},
        {"username": "nobody-at-all", "password": account.password},
        {"username": disabled.username, "password": disabled.password},
    ]
    answers = [fresh.post("/api/v1/login", json=body) for body in attempts]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert {(_error(a)["code"], _error(a)["message"]) for a in answers} == {("CW700", "wrong user name or password")}
    assert all("set-cookie" not in a.headers for a in answers)
    assert fresh.get("/api/v1/me").status_code == 401


def test_auth_login_body_errors_name_the_field(fresh: TestClient) -> None:
    response = fresh.post("/api/v1/login", json={"username": "someone"})
    assert response.status_code == 422 and _error(response)["code"] == "CW500"
    assert "password: Field required" in _error(response)["message"]


def test_auth_disabling_a_user_through_the_api_ends_their_open_session_at_once(
    client: TestClient, fresh: TestClient, login
) -> None:
    account = make_account(client, "chair")
    log_in(fresh, account)
    assert fresh.get("/api/v1/me").status_code == 200  # the session is now remembered by the server
    admin = TestClient(client.app)
    login(admin, "admin")
    assert admin.post(f"/api/v1/users/{account.username}/disable").status_code == 200
    response = fresh.get("/api/v1/me")
    assert response.status_code == 401 and _error(response)["code"] == "CW700"


def test_auth_disabling_a_user_elsewhere_ends_their_session_within_the_cache_seconds(
    client: TestClient, fresh: TestClient
) -> None:
    """``clwstwr user disable`` runs in another process: this server learns of it when the session it
    remembers lapses (CLWSTWR_SESSION_CACHE_SECONDS), not later."""
    now = [1000.0]
    cache = SessionCache(5.0, clock=lambda: now[0])
    app = client.app
    saved, app.state.session_cache = app.state.session_cache, cache  # type: ignore[attr-defined]
    try:
        account = make_account(client, "chair")
        log_in(fresh, account)
        assert fresh.get("/api/v1/me").status_code == 200
        with transaction(app.state.context.sessions) as session:  # type: ignore[attr-defined]
            users.disable(session, account.username, actor="tests")  # as the CLI does it
        now[0] += 4.0
        assert fresh.get("/api/v1/me").status_code == 200, "still within the 5 seconds it is trusted"
        now[0] += 1.0
        response = fresh.get("/api/v1/me")
        assert response.status_code == 401 and _error(response)["code"] == "CW700"
    finally:
        app.state.session_cache = saved  # type: ignore[attr-defined]


def test_auth_with_no_session_cache_a_disable_elsewhere_ends_the_session_at_once(
    app_settings: Settings, text_models
) -> None:
    settings = app_settings.model_copy(update={"session_cache_seconds": 0.0})
    with TestClient(create_app(settings, text_models=text_models)) as one:
        account = make_account(one, "reviewer")
        log_in(one, account)
        assert one.get("/api/v1/me").status_code == 200
        with transaction(one.app.state.context.sessions) as session:  # type: ignore[attr-defined]
            users.disable(session, account.username, actor="tests")
        assert one.get("/api/v1/me").status_code == 401


def test_auth_logout_ends_the_session_even_for_a_copied_cookie(client: TestClient, fresh: TestClient) -> None:
    log_in(fresh, make_account(client, "reviewer"))
    copied = fresh.cookies[SESSION_COOKIE]
    assert fresh.post("/api/v1/logout").json() == {"status": "logged out"}
    assert fresh.get("/api/v1/me").status_code == 401
    replay = TestClient(client.app, cookies={SESSION_COOKIE: copied})
    assert replay.get("/api/v1/me").status_code == 401
    assert fresh.post("/api/v1/logout").status_code == 200, "logging out when logged out is harmless"


def test_auth_a_tampered_or_foreign_cookie_is_not_a_session(client: TestClient, fresh: TestClient) -> None:
    log_in(fresh, make_account(client, "reviewer"))
    token, mac = fresh.cookies[SESSION_COOKIE].rsplit(".", 1)
    for forged in (f"{token}.{mac[:-2]}xx", token, f"{token[:-2]}ab.{mac}", ""):
        response = TestClient(client.app, cookies={SESSION_COOKIE: forged}).get("/api/v1/me")
        assert response.status_code == 401, forged


def test_auth_an_expired_session_is_refused(models_home: Path, text_models, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", models_path=models_home / "models", session_hours=1.5 / 3600)
    with TestClient(create_app(settings, text_models=text_models)) as client:
        account = make_account(client, "admin")
        log_in(client, account)
        value = client.cookies[SESSION_COOKIE]
        assert client.get("/api/v1/me").status_code == 200
        time.sleep(2.0)
        # Send the cookie by hand: a browser would drop it at Max-Age, the server must refuse it anyway.
        response = TestClient(client.app, cookies={SESSION_COOKIE: value}).get("/api/v1/me")
        assert response.status_code == 401 and _error(response)["code"] == "CW700"


# ------------------------------------------------------------------------------------------ the browser form


def test_auth_form_login_redirects_to_next_on_this_site_only(client: TestClient, fresh: TestClient) -> None:
    account = make_account(client, "chair")
    form = {"username": account.username, "password": account.password}
    ok = fresh.post("/login", data={**form, "next": "/letters/7?tab=edit"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/letters/7?tab=edit"
    assert fresh.get("/api/v1/me").json()["username"] == account.username
    for hostile in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = fresh.post("/login", data={**form, "next": hostile}, follow_redirects=False)
        assert response.headers["location"] == "/", hostile
    failed = TestClient(client.app).post("/login", data={**form, "password": "wrong wrong wrong", "next": "/grid"},
                                         follow_redirects=False)
    assert failed.status_code == 303 and failed.headers["location"] == "/login?failed=1&next=%2Fgrid"
    assert "set-cookie" not in failed.headers


# ------------------------------------------------------------------------------------------ settings


def test_auth_production_with_the_placeholder_or_a_short_secret_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(InsecureSettingsError) as placeholder:
        create_app(Settings(home=tmp_path, environment="production"))
    assert placeholder.value.code == "CW702"
    assert "development placeholder" in str(placeholder.value) and "set CLWSTWR_SECRET_KEY" in str(placeholder.value)
    with pytest.raises(InsecureSettingsError, match="is 9 characters long"):
        create_app(Settings(home=tmp_path, environment="production", secret_key="too-short"))
    create_app(Settings(home=tmp_path, environment="production", secret_key=GOOD_KEY))  # starts (lazily)
    create_app(Settings(home=tmp_path))  # development: the placeholder is fine


def test_auth_serve_says_how_to_set_the_key_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLWSTWR_ENVIRONMENT", "production")
    monkeypatch.delenv("CLWSTWR_SECRET_KEY", raising=False)
    # An unusable host: were the check ever lost, uvicorn would fail at once instead of serving forever.
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "serve", "--host", "256.256.256.256"])
    assert result.exit_code == 2
    assert "error [CW702]" in result.output and "CLWSTWR_SECRET_KEY" in result.output
    assert "Traceback" not in result.output


def test_auth_cookie_is_secure_outside_development(models_home: Path, text_models, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", models_path=models_home / "models", environment="production",
                        secret_key=GOOD_KEY)
    with TestClient(create_app(settings, text_models=text_models), base_url="https://testserver") as client:
        account = make_account(client, "reviewer")
        response = client.post("/api/v1/login", json={"username": account.username, "password": account.password})
        assert response.status_code == 200 and "Secure" in response.headers["set-cookie"]
        assert client.get("/api/v1/me").status_code == 200


# ------------------------------------------------------------------------------------------ administration


def test_auth_admin_creates_users_and_others_may_not(client: TestClient, fresh: TestClient) -> None:
    log_in(fresh, make_account(client, "admin"))
    body = {"username": "New.Chair@example.nhs.wales", "password": "a long enough passphrase", "role": "chair"}
    created = fresh.post("/api/v1/users", json=body)
    assert created.status_code == 201 and created.json()["username"] == "new.chair@example.nhs.wales"
    again = fresh.post("/api/v1/users", json=body)
    assert again.status_code == 422 and _error(again)["code"] == "CW703" and "already taken" in _error(again)["message"]
    bad_role = fresh.post("/api/v1/users", json={**body, "username": "x1", "role": "boss"})
    assert "role 'boss': expected one of reviewer, chair, programme, admin" in _error(bad_role)["message"]
    listed = {u["username"]: u["role"] for u in fresh.get("/api/v1/users").json()["users"]}
    assert listed["new.chair@example.nhs.wales"] == "chair"
    assert not any("password" in key for u in fresh.get("/api/v1/users").json()["users"] for key in u)
    log_in(fresh, make_account(client, "programme"))
    denied = fresh.post("/api/v1/users", json={**body, "username": "sneaky"})
    assert denied.status_code == 403 and _error(denied)["code"] == "CW701"


def test_auth_audit_export_has_the_events_and_never_a_password_or_hash(client: TestClient, fresh: TestClient) -> None:
    from store.rounds import get_or_create_round

    ctx = client.app.state.context  # type: ignore[attr-defined]
    with transaction(ctx.sessions) as session:
        get_or_create_round(session, "=HYPERLINK(1)")  # a round name a spreadsheet would run as a formula
    log_in(fresh, make_account(client, "admin"))
    body = {"username": "auditee", "password": "auditee's secret phrase", "role": "reviewer"}
    assert fresh.post("/api/v1/users", json=body).status_code == 201
    assert fresh.post("/api/v1/users/auditee/grants", json={"round": "=HYPERLINK(1)"}).status_code == 200
    TestClient(client.app).post("/api/v1/login", json={"username": "auditee", "password": "a wrong guess here"})
    with transaction(ctx.sessions) as session:
        stored_hash = session.query(User.password_hash).filter(User.username == "auditee").scalar()
    as_json = fresh.get("/api/v1/audit")
    as_csv = fresh.get("/api/v1/audit", params={"format": "csv"})
    assert as_json.status_code == 200 and as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    kinds = [e["kind"] for e in as_json.json()["events"]]
    assert {"user.created", "user.logged_in", "user.login_failed"} <= set(kinds)
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["kind"] for r in rows] == kinds
    created = next(e for e in as_json.json()["events"] if e["kind"] == "user.created" and e["payload"]["username"] == "auditee")
    assert created["actor"] == fresh.get("/api/v1/me").json()["username"]
    for text in (as_json.text, as_csv.text):
        for secret in ("auditee's secret phrase", "a wrong guess here", *stored_hash.split("$")[-2:], "scrypt$"):
            assert secret not in text
    cells = [cell for row in csv.reader(io.StringIO(as_csv.text)) for cell in row]
    assert "'=HYPERLINK(1)" in cells, "the round column is there, made inert"
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], "no cell a spreadsheet would run as a formula"
    only_logins = fresh.get("/api/v1/audit", params={"kind": "user.log"}).json()["events"]
    assert only_logins and all(e["kind"].startswith("user.log") for e in only_logins)
    assert fresh.get("/api/v1/audit", params={"format": "xml"}).status_code == 422


def test_auth_admin_grants_a_round_to_a_chair_and_disables_a_user(client: TestClient, fresh: TestClient) -> None:
    from store.rounds import get_or_create_round

    ctx = client.app.state.context  # type: ignore[attr-defined]
    with transaction(ctx.sessions) as session:
        get_or_create_round(session, "2031")
    chair = make_account(client, "chair")
    log_in(fresh, make_account(client, "admin"))
    granted = fresh.post(f"/api/v1/users/{chair.username}/grants", json={"round": "2031"})
    assert granted.status_code == 200 and granted.json()["rounds"] == ["2031"]
    missing = fresh.post(f"/api/v1/users/{chair.username}/grants", json={"round": "1999"})
    assert missing.status_code == 404 and _error(missing)["code"] == "CW300"
    assert fresh.post("/api/v1/users/nobody-here/disable").status_code == 422
    assert fresh.post(f"/api/v1/users/{chair.username}/disable").json()["active"] is False
    refused = TestClient(client.app).post("/api/v1/login", json={"username": chair.username, "password": chair.password})
    assert refused.status_code == 401


# ------------------------------------------------------------------------------------------ the CLI


def test_auth_cli_user_add_prompts_twice_and_the_account_logs_in(client: TestClient, home: Path, fresh: TestClient) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--home", str(home), "user", "add", "Dee", "--role", "admin", "--by", "ops"],
                           input="first attempt here\ndifferent one here\nreal passphrase 1\nreal passphrase 1\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output.lower() and "user 'dee' added with role admin" in result.output
    assert "real passphrase" not in result.output, "the password is never echoed"
    log_in(fresh, TestAccount("dee", "real passphrase 1", "admin"))
    assert fresh.get("/api/v1/me").json()["role"] == "admin"
    created = [e for e in fresh.get("/api/v1/audit", params={"kind": "user.created"}).json()["events"]
               if e["payload"]["username"] == "dee"]
    assert created[0]["actor"] == "ops"


def test_auth_cli_user_list_grant_disable_and_errors(client: TestClient, home: Path) -> None:
    from store.rounds import get_or_create_round

    with transaction(client.app.state.context.sessions) as session:  # type: ignore[attr-defined]
        get_or_create_round(session, "2032")
    runner = CliRunner()
    base = ["--home", str(home), "user"]
    added = runner.invoke(main, [*base, "add", "eve", "--role", "chair", "--password-stdin"], input="eve's passphrase!\n")
    assert added.exit_code == 0, added.output
    assert runner.invoke(main, [*base, "grant", "eve", "2032"]).exit_code == 0
    listing = runner.invoke(main, [*base, "list"]).output
    eve = next(line for line in listing.splitlines() if line.startswith("eve "))
    assert eve.split()[:4] == ["eve", "chair", "active", "2032"]
    assert runner.invoke(main, [*base, "disable", "eve"]).exit_code == 0
    assert "disabled" in next(line for line in runner.invoke(main, [*base, "list"]).output.splitlines() if line.startswith("eve "))
    short = runner.invoke(main, [*base, "add", "fay", "--role", "reviewer", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "error [CW703]" in short.output and "at least 12 characters" in short.output
    unknown = runner.invoke(main, [*base, "grant", "nobody", "2032"])
    assert unknown.exit_code == 2 and "no such user" in unknown.output
    wrong_role = runner.invoke(main, [*base, "add", "gus", "--role", "boss", "--password-stdin"], input="x\n")
    assert wrong_role.exit_code == 2 and "'boss' is not one of" in wrong_role.output
