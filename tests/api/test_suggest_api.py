"""The HTTP contract: POST /api/v1/suggest answers what `clwstwr suggest --json` prints; errors have
one shape; /healthz and /openapi.json are served. The client logs in as a reviewer (any role may ask
for suggestions); without a log-in the answer is 401 in the same error shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from clwstwr.settings import Settings


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, models_home: Path, text_models, login) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("api-home")
    app = create_app(Settings(home=home, models_path=models_home / "models"), text_models=text_models)
    with TestClient(app) as test_client:
        login(test_client, "reviewer")
        yield test_client


@pytest.mark.slow
def test_api_suggest_answers_the_contract_object(client: TestClient, suggestion_service) -> None:
    body = {"text": "No protected time for the cluster lead, and the funding is short term.", "kind": "barrier"}
    response = client.post("/api/v1/suggest", json=body)
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= {"themes", "outcomes", "headings"}
    assert {"id", "label", "score", "evidence"} <= set(data["themes"][0])
    assert [t["id"] for t in data["themes"]][:2] == [t.id for t in suggestion_service.suggest(body["text"], "barrier").themes][:2]
    scores = [t["score"] for t in data["themes"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_api_suggest_without_kind_uses_all_themes(client: TestClient) -> None:
    data = client.post("/api/v1/suggest", json={"text": "Strong leadership from our cluster lead."}).json()
    assert data["kind"] is None and data["themes"][0]["id"] == "leadership"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "status", "code", "needle"),
    [
        ({"text": "x", "kind": "nonsense"}, 422, "CW400", "unknown kind 'nonsense'"),
        ({"kind": "barrier"}, 422, "CW500", "text: Field required"),
        ({"text": 5}, 422, "CW500", "text"),
        ({"text": "x", "colour": "red"}, 422, "CW500", "colour"),
    ],
)
def test_api_errors_have_one_shape(client: TestClient, body: dict, status: int, code: str, needle: str) -> None:
    response = client.post("/api/v1/suggest", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and needle in error["message"]


@pytest.mark.slow
def test_api_serves_health_openapi_and_404s_in_the_error_shape(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["database"] == "sqlite"
    spec = client.get("/openapi.json").json()
    assert "/api/v1/suggest" in spec["paths"] and "/healthz" in spec["paths"]
    missing = client.get("/api/v1/rounds/nope/summary")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "CW300"
    assert client.get("/no/such/route").json()["error"]["code"] == "HTTP404"


@pytest.mark.slow
def test_api_suggest_needs_a_log_in(client: TestClient) -> None:
    anonymous = TestClient(client.app)  # same running app, no cookie
    response = anonymous.post("/api/v1/suggest", json={"text": "No protected time."})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "CW700" and "log in" in response.json()["error"]["message"]
