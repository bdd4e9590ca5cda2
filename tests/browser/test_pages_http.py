"""The pages over plain HTTP (no browser): what a person sees when something is wrong, and that the
grid renders only the page asked for. Runs against the same served app as the browser tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from markupsafe import escape

from .conftest import ROUND, password_for

pytestmark = pytest.mark.slow

HTML = {"Accept": "text/html,application/xhtml+xml"}


@contextmanager
def _client(server, username: str | None = None) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    """A plain HTTP client, logged in through the log-in form when ``username`` is given."""
    with httpx.Client(base_url=server.url, timeout=120) as client:
        if username:
            answer = client.post("/login", data={"username": username, "password": password_for(username), "next": "/"})
            assert answer.status_code == 303 and answer.headers["location"] == "/"
        yield client


def test_pages_send_a_browser_to_log_in_and_a_script_a_json_401(workspace_server) -> None:  # type: ignore[no-untyped-def]
    with _client(workspace_server) as client:
        page = client.get(f"/rounds/{ROUND}/grid?board=pthb", headers=HTML)
        assert page.status_code == 303
        assert page.headers["location"] == f"/login?next=%2Frounds%2F{ROUND}%2Fgrid%3Fboard%3Dpthb"
        script = client.get(f"/rounds/{ROUND}/grid")
        assert script.status_code == 401 and script.json()["error"]["code"] == "CW700"


def test_a_role_without_access_gets_a_page_saying_so(workspace_server) -> None:  # type: ignore[no-untyped-def]
    with _client(workspace_server, "chair") as client:  # a chair not granted the round
        page = client.get(f"/rounds/{ROUND}/grid", headers=HTML)
        api = client.get(f"/rounds/{ROUND}/grid")
    assert page.status_code == api.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "You may not see this page" in page.text
    assert str(escape(api.json()["error"]["message"])) in page.text, "the page gives the API's reason"


@pytest.mark.parametrize(("query", "status", "expected"), [
    ("status=finished", 422, "status: expected one of uncoded, in_progress, coded, disputed, agreed, got &#39;finished&#39;"),
    ("board=gwent", 422, "health_board: expected one of abuhb"),
    ("page=zero", 422, "page"),
])
def test_a_bad_grid_filter_is_named_on_the_page(workspace_server, query: str, status: int, expected: str) -> None:  # type: ignore[no-untyped-def]
    with _client(workspace_server, "reviewer1") as client:
        page = client.get(f"/rounds/{ROUND}/grid?{query}", headers=HTML)
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    assert expected in page.text
    assert "Traceback" not in page.text


def test_an_unknown_round_or_answer_is_a_readable_404(workspace_server) -> None:  # type: ignore[no-untyped-def]
    with _client(workspace_server, "reviewer1") as client:
        missing_round = client.get("/rounds/1999/grid", headers=HTML)
        missing_answer = client.get(f"/rounds/{ROUND}/answers/999999", headers=HTML)
    assert missing_round.status_code == 404 and "no round named &#39;1999&#39;" in missing_round.text
    assert missing_answer.status_code == 422 and "answer 999999 is not an answer of round" in missing_answer.text


def test_the_grid_renders_only_the_page_asked_for(workspace_server) -> None:  # type: ignore[no-untyped-def]
    with _client(workspace_server, "reviewer1") as client:
        page = client.get(f"/rounds/{ROUND}/grid?size=25&page=2&sort=health_board", headers=HTML)
    assert page.status_code == 200
    assert len(re.findall(r"<tr data-answer-id=", page.text)) == 25
    assert re.search(r"Showing <strong>26–50</strong> of <strong>\d+</strong>", page.text)
    assert 'aria-sort="ascending"' in page.text  # the sorted column says so to a screen reader


def test_static_files_are_served_and_nothing_else(workspace_server) -> None:  # type: ignore[no-untyped-def]
    with _client(workspace_server) as client:
        css = client.get("/static/app.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert client.get("/static/workspace.js").headers["content-type"].startswith("text/javascript")
        assert client.get("/static/..%2Fapp.py").status_code == 404
        assert client.get("/static/missing.css").status_code == 404
