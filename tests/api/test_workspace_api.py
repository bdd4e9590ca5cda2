"""The reviewer workspace end to end over HTTP, as logged-in users: blind coding by two reviewers,
agreement and the disagreement queue, consensus, exports, retraining, and who may do what."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from clwstwr.coding import code_round
from clwstwr.importing import import_file
from clwstwr.refi_qda import validate_qde
from clwstwr.settings import Settings
from corpora.sample_round import SAMPLE_ROUND_NAME, bundled_sample_path, load_clusters

from .conftest import TestAccount, log_in, make_account

ROUND = SAMPLE_ROUND_NAME
BASE = f"/api/v1/rounds/{ROUND}"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, models_home: Path, text_models) -> Iterator[TestClient]:
    """An app with the sample round imported and coded by its own suggestion service."""
    settings = Settings(home=tmp_path_factory.mktemp("workspace-api"), models_path=models_home / "models")
    with TestClient(create_app(settings, text_models=text_models)) as test_client:
        app = test_client.app
        ctx = app.state.context  # type: ignore[attr-defined]
        import_file(ctx.sessions, ctx.codebook, bundled_sample_path(), ROUND, actor="tests")
        places = tuple(p for c in load_clusters() for p in c.places)
        code_round(ctx, app.state.suggestions, ROUND, actor="tests", extra_places=places)  # type: ignore[attr-defined]
        yield test_client


@pytest.fixture(scope="module")
def people(client: TestClient) -> dict[str, TestAccount]:
    return {name: make_account(client, role, username=name)
            for name, role in (("alice", "reviewer"), ("bob", "reviewer"), ("pat", "programme"), ("cai", "chair"),
                               ("ada", "admin"))}


def as_user(client: TestClient, account: TestAccount) -> TestClient:
    log_in(client, account)
    return client


def error_of(response) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


@pytest.mark.slow
def test_workspace_api_blind_coding_agreement_consensus_and_exports(client: TestClient, people: dict) -> None:
    # the programme lead makes the round blind; a reviewer may not
    assert as_user(client, people["alice"]).put(f"{BASE}/settings", json={"blind_coding": True}).status_code == 403
    response = as_user(client, people["pat"]).put(f"{BASE}/settings", json={"blind_coding": True})
    assert response.status_code == 200 and response.json()["blind_coding"] is True

    # alice finds barrier answers suggesting funding, opens the first, and codes it
    as_user(client, people["alice"])
    grid = client.get(f"{BASE}/answers", params={"question": "barriers", "theme": "funding",
                                                 "theme_scope": "suggested", "page_size": 5}).json()
    assert grid["total"] >= 20 and len(grid["rows"]) == 5 and grid["blinded"] is True
    assert all(r["question"] == "barriers" and "funding" in [s["id"] for s in r["suggested"]] for r in grid["rows"])
    answer_id = grid["rows"][0]["answer_id"]
    answer = client.get(f"{BASE}/answers/{answer_id}").json()
    suggested = answer["suggestion"]["themes"]
    for theme in suggested:  # every evidence offset points at its sentence in the de-identified text
        assert answer["text"][theme["evidence_start"]:theme["evidence_end"]] == theme["evidence"]
    assert answer["suggestion"]["outcomes"] and answer["mine"]["codes"] == [] and answer["others"] == []
    url = f"{BASE}/answers/{answer_id}"
    posted = client.post(f"{url}/decisions", json={"theme": "funding", "decision": "accept"})
    assert posted.status_code == 201 and posted.json()["codes"] == ["funding"]
    assert posted.json()["decision"]["source"] == "suggestion" and posted.json()["status"] == "in_progress"
    status, code, message = error_of(client.post(f"{url}/decisions", json={"theme": "leadership", "decision": "add"}))
    assert (status, code) == (422, "CW710") and "not a theme of question 'barriers'" in message
    status, code, message = error_of(client.post(f"{url}/decisions", json={"theme": "time", "decision": "maybe"}))
    assert (status, code) == (422, "CW500") and "decision" in message
    assert client.put(f"{url}/memo", json={"text": "money, mainly"}).json()["version"] == 1
    assert client.put(f"{url}/outcomes", json={"outcomes": ["pcmw-13", "acd-7"]}).json()["outcomes"] == ["pcmw-13", "acd-7"]
    assert error_of(client.put(f"{url}/outcomes", json={"outcomes": ["pcmw-99"]}))[1] == "CW710"
    assert client.put(f"{url}/status", json={"status": "done"}).json()["status"] == "done"

    # bob codes the same answer differently and cannot see alice's work, nor the agreement yet
    as_user(client, people["bob"])
    client.post(f"{url}/decisions", json={"theme": "funding", "decision": "accept"})
    client.post(f"{url}/decisions", json={"theme": "time", "decision": "add"})
    client.put(f"{url}/status", json={"status": "done"})
    seen = client.get(url).json()
    assert seen["blinded"] and seen["others"] == [] and seen["mine"]["codes"] == ["funding", "time"]
    status, code, message = error_of(client.get(f"{BASE}/agreement"))
    assert (status, code) == (403, "CW701") and "finish" in message
    assert client.get(f"{BASE}/answers", params={"status": "disputed"}).json()["total"] == 0

    # both finish: the codes, the agreement and the disagreement appear
    assert client.post(f"{BASE}/finish", json={}).json()["finished"] is True
    as_user(client, people["alice"])
    client.post(f"{BASE}/finish")
    seen = client.get(url).json()
    assert [(o["coder"], o["codes"]) for o in seen["others"]] == [("bob", ["funding", "time"])]
    assert seen["memo"]["text"] == "money, mainly" and seen["outcomes"] == ["pcmw-13", "acd-7"]
    assert client.post(f"{url}/decisions", json={"theme": "time", "decision": "add"}).status_code == 422  # closed

    agreement = client.get(f"{BASE}/agreement").json()
    assert agreement["coders"] == ["alice", "bob"] and agreement["answers_coded"] == 1
    funding = next(t for t in agreement["agreement"]["themes"] if t["theme"] == "funding")
    assert funding["observed_agreement"]["value"] == 1.0
    time_row = next(t for t in agreement["agreement"]["themes"] if t["theme"] == "time")
    assert time_row["observed_agreement"]["value"] == 0.0
    assert agreement["machine"]["machine"] == "machine" and agreement["machine"]["overall_vs_gold"] is None
    assert {c["coder"] for c in agreement["machine"]["overall_vs_coders"]} == {"alice", "bob"}

    queue = client.get(f"{BASE}/disagreements").json()
    assert [d["answer_id"] for d in queue["disagreements"]] == [answer_id]
    assert queue["disagreements"][0]["splits"] == [{"theme": "time", "applied_by": ["bob"], "not_applied_by": ["alice"]}]
    settled = client.post(f"{url}/consensus", json={"themes": ["funding", "time"], "note": "time is said outright"})
    assert settled.status_code == 201 and settled.json()["consensus"] == ["funding", "time"]
    assert client.get(f"{BASE}/disagreements").json()["count"] == 0
    agreement = client.get(f"{BASE}/agreement").json()
    assert agreement["consensus_answers"] == 1 and agreement["machine"]["overall_vs_gold"]["n_items"] > 0
    assert client.get(f"{BASE}/answers", params={"status": "agreed"}).json()["total"] == 1

    # exports: the decisions as CSV and xlsx, the applied codes as a valid REFI-QDA project
    response = client.get(f"{BASE}/exports/codes.csv")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {(r["coder"], r["theme"], r["decision"]) for r in rows} == {
        ("alice", "funding", "accept"), ("bob", "funding", "accept"), ("bob", "time", "add"),
        *{("consensus", t.id, "agreed" if t.id in ("funding", "time") else "not agreed")
          for t in client.app.state.context.codebook.question("barriers").themes},  # type: ignore[attr-defined]
    }
    sheet = load_workbook(io.BytesIO(client.get(f"{BASE}/exports/codes.xlsx").content)).active
    assert sheet.max_row == len(rows) + 1
    qdpx = zipfile.ZipFile(io.BytesIO(client.get(f"{BASE}/exports/project.qdpx").content))
    qde = qdpx.read("project.qde")
    validate_qde(qde)
    assert qde.count(b"<Coding ") == 5  # alice funding, bob funding + time, consensus funding + time
    assert [n for n in qdpx.namelist() if n.startswith("Sources/")] and answer["text"].encode() in b"".join(
        qdpx.read(n) for n in qdpx.namelist() if n.startswith("Sources/"))

    # the audit log has every workspace write with its actor
    events = as_user(client, people["ada"]).get("/api/v1/audit", params={"kind": "coding."}).json()["events"]
    kinds = [(e["actor"], e["kind"]) for e in events]
    assert ("pat", "coding.settings") in kinds and ("bob", "coding.finished") in kinds
    assert kinds.count(("alice", "coding.decision")) == 1 and ("alice", "coding.consensus") in kinds


@pytest.mark.slow
def test_workspace_api_roles_and_bad_requests(client: TestClient, people: dict) -> None:
    as_user(client, people["cai"])  # a chair does not use the workspace
    assert error_of(client.get(f"{BASE}/answers"))[:2] == (403, "CW701")
    as_user(client, people["pat"])  # programme reads, but does not code
    assert client.get(f"{BASE}/answers", params={"page_size": 1}).json()["blinded"] is False
    first = client.get(f"{BASE}/answers", params={"page_size": 1}).json()["rows"][0]["answer_id"]
    assert client.post(f"{BASE}/answers/{first}/decisions", json={"theme": "x", "decision": "add"}).status_code == 403
    status, code, message = error_of(client.get(f"{BASE}/answers", params={"page_size": 100000, "sort": "colour"}))
    assert (status, code) == (422, "CW500") and "page_size" in message and "sort" in message
    status, code, message = error_of(client.get(f"{BASE}/answers", params={"health_board": "nowhere"}))
    assert (status, code) == (422, "CW710") and "health_board: expected one of" in message
    assert error_of(client.get("/api/v1/rounds/no-such-round/answers"))[:2] == (404, "CW300")
    status, code, message = error_of(client.get(f"{BASE}/answers/99999999"))
    assert (status, code) == (422, "CW710") and "answer 99999999 is not an answer of round" in message
    assert error_of(client.get(f"{BASE}/retrain/424242"))[1] == "CW710"


@pytest.mark.slow
def test_workspace_api_retrains_in_the_background_and_reports_before_and_after(client: TestClient, people: dict) -> None:
    as_user(client, people["alice"])
    rows = client.get(f"{BASE}/answers", params={"question": "enablers", "page_size": 30}).json()["rows"]
    client.post(f"{BASE}/finish", json={"finished": False})  # reopened: in a blind round finishing closes codes
    for row in rows:
        for theme in row["suggested"][:1]:
            client.post(f"{BASE}/answers/{row['answer_id']}/decisions", json={"theme": theme["id"], "decision": "accept"})
        client.put(f"{BASE}/answers/{row['answer_id']}/status", json={"status": "done"})
    assert client.post(f"{BASE}/retrain").status_code == 403  # reviewers do not retrain
    started = as_user(client, people["pat"]).post(f"{BASE}/retrain")
    assert started.status_code == 202, started.text
    run_url = started.json()["url"]
    deadline = time.monotonic() + 240
    while (run := client.get(run_url).json())["status"] == "running" and time.monotonic() < deadline:
        time.sleep(1)
    assert run["status"] == "done", run
    metrics = run["metrics"]
    assert metrics["holdout_answers"] and metrics["settled_answers"] >= 30
    enablers = [t for t in metrics["themes"] if t["question"] == "enablers"]
    assert enablers and all({"precision", "recall"} <= set(t["before"]) and {"precision", "recall"} <= set(t["after"])
                            for t in enablers)
    assert run["model_after"].startswith("theme-suggester:") and run["model_before"] != run["model_after"]


@pytest.mark.slow
def test_workspace_api_puts_a_retrained_model_into_service_and_keeps_it_after_a_restart(
    client: TestClient, people: dict, text_models
) -> None:
    from clwstwr.active_model import clear_active, read_active
    from clwstwr.suggesting import build_suggestion_service

    app = client.app
    ctx = app.state.context  # type: ignore[attr-defined]
    original = app.state.suggestions  # type: ignore[attr-defined]
    # Same settled answers as the test before: the refit is found on disk, not fitted again.
    started = as_user(client, people["pat"]).post(f"{BASE}/retrain")
    if started.status_code != 202:  # run on its own: settle some answers first
        test_workspace_api_retrains_in_the_background_and_reports_before_and_after(client, people)
        started = as_user(client, people["pat"]).post(f"{BASE}/retrain")
    assert started.status_code == 202, started.text
    retrain_id = started.json()["id"]
    deadline = time.monotonic() + 240
    while (run := client.get(f"{BASE}/retrain/{retrain_id}").json())["status"] == "running" and time.monotonic() < deadline:
        time.sleep(1)
    assert run["status"] == "done", run
    assert as_user(client, people["alice"]).post(f"{BASE}/retrain/{retrain_id}/activate").status_code == 403
    try:
        activated = as_user(client, people["pat"]).post(f"{BASE}/retrain/{retrain_id}/activate")
        assert activated.status_code == 200, activated.text
        assert activated.json()["model"] == run["model_after"] != original.model
        assert client.get("/healthz").json()["suggester"] == run["model_after"]
        suggestion = client.post("/api/v1/suggest", json={"text": "No funding for the cluster projects", "kind": "barrier"})
        assert suggestion.status_code == 200 and suggestion.json()["model"] == run["model_after"]
        # A restarted app (a new service built from the same settings) keeps the chosen model.
        assert read_active(ctx.settings.models_dir).retrain_id == retrain_id
        restarted = build_suggestion_service(ctx.settings, ctx.codebook, models=text_models)
        assert restarted.model == run["model_after"]
    finally:
        clear_active(ctx.settings.models_dir)  # the models folder is shared by the test session
        app.state.suggestions = original  # type: ignore[attr-defined]
