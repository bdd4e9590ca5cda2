"""Peer reviews and outcome letters over HTTP: record a review (JSON or upload), draft it with the
real models, edit with optimistic versions (409 on a stale edit, nothing lost), compare, export."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from clwstwr.settings import Settings
from letters.letter_model import LetterDraft

NOTES = """# Teifi Valley cluster peer review

## PCMW 5: Seamless working

### Good practice

- The practices share one frailty pathway with the community nursing team, and referrals now take a day.
- The weekly multidisciplinary huddle has worked well since the spring.

### Challenges

- Clinical leads have little protected time, and funding for the huddle is agreed only a year at a time.

### Agreed actions

- The cluster lead to share the frailty pathway with the other Hywel Dda clusters by September 2025.

## ACD 1: Enhanced integrated planning

### Challenges

- The local authority was not represented when the cluster plan was written.

### Agreed actions

- The health board to invite the local authority to the cluster planning meeting in Q3 2025/26.
- Review the cluster plan together with the third sector.
"""

RECORD: dict[str, Any] = {
    "cluster": "Teifi Valley Cluster",
    "health_board": "Hywel Dda UHB",
    "review_date": "2025-05-20",
    "chair": "Dr Siân Ellis",
    "sppc_representative": "Owain Price",
    "reviewing": "Bro Taf Cluster, Cwm Taf Morgannwg UHB",
    "outcomes": ["pcmw-5", "pcmw-9", "acd-1"],
    "attendees": ["Cluster lead", "Community nursing lead"],
    "notes": NOTES,
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, models_home: Path, text_models) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("letters-api-home")
    app = create_app(Settings(home=home, models_path=models_home / "models"), text_models=text_models)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def accounts(client: TestClient, login) -> dict[str, Any]:
    """Two chairs, a programme (SPPC) user, a reviewer and an admin, made with the log-in fixture."""
    made = {name: login(client, role, username=name) for name, role in (
        ("chair-sian", "chair"), ("chair-owain", "chair"), ("prog-ann", "programme"), ("rev-bob", "reviewer"),
        ("admin-cy", "admin"))}
    client.cookies.clear()
    return made


@pytest.fixture(scope="module")
def as_user(client: TestClient, accounts: dict[str, Any]):  # -> Callable[[str], TestClient]
    """Switch the client to one of ``accounts`` (logging in again, as a person would)."""

    def switch(username: str) -> TestClient:
        client.cookies.clear()
        account = accounts[username]
        response = client.post("/api/v1/login", json={"username": account.username, "password": account.password})
        assert response.status_code == 200, response.text
        return client

    return switch


@pytest.fixture(scope="module")
def letter(client: TestClient, as_user) -> dict[str, Any]:
    """One review drafted by the real models: version 1 of a letter that no test edits successfully."""
    as_user("chair-sian")
    review = client.post("/api/v1/reviews", json=RECORD).json()
    response = client.post(f"/api/v1/reviews/{review['id']}/letters")
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def new_letter(client: TestClient, as_user):  # -> Callable[[], dict]
    """A letter of its own for a test that edits, drafted for chair-sian."""

    def make() -> dict[str, Any]:
        as_user("chair-sian")
        review = client.post("/api/v1/reviews", json=RECORD)
        assert review.status_code == 201, review.text
        letter = client.post(f"/api/v1/reviews/{review.json()['id']}/letters")
        assert letter.status_code == 201, letter.text
        return letter.json()

    return make


def error(response: Any) -> dict[str, Any]:
    return response.json()["error"]


# ------------------------------------------------------------------------------------------ reviews


@pytest.mark.slow
def test_letters_api_review_is_stored_with_the_board_resolved(client: TestClient, as_user) -> None:
    as_user("chair-sian")
    created = client.post("/api/v1/reviews", json=RECORD)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["review"]["health_board"] == "hduhb" and body["created_by"] == "chair-sian"
    fetched = client.get(f"/api/v1/reviews/{body['id']}").json()
    assert fetched["review"]["notes"] == NOTES.strip() and fetched["review"]["chair"] == "Dr Siân Ellis"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "code", "needle"),
    [
        ({"outcomes": ["pcmw-1", "pcmw-2", "pcmw-3"]}, "CW600", "two different PCMW outcomes and one ACD outcome"),
        ({"chair": None}, "CW500", "chair"),
        ({"chair": "   "}, "CW600", "missing field 'chair'"),
        ({"health_board": "Gotham UHB"}, "CW600", "'Gotham UHB' is not a Welsh health board"),
        ({"review_date": "20/05/2025"}, "CW600", "field 'review_date' must be a date"),
        ({"colour": "red"}, "CW500", "colour"),
    ],
)
def test_letters_api_bad_review_is_refused_naming_the_field(client: TestClient, change: dict, code: str, needle: str, as_user) -> None:
    as_user("chair-sian")
    body = {k: v for k, v in {**RECORD, **change}.items() if v is not None}
    response = client.post("/api/v1/reviews", json=body)
    assert response.status_code == 422
    assert error(response)["code"] == code and needle in error(response)["message"]


@pytest.mark.slow
def test_letters_api_review_upload_takes_a_yaml_record_and_a_notes_file(client: TestClient, as_user) -> None:
    import yaml

    as_user("chair-sian")
    record = yaml.safe_dump({k: v for k, v in RECORD.items() if k not in {"notes", "outcomes"}}, allow_unicode=True)
    response = client.post("/api/v1/reviews/upload", data={"record": record},
                           files={"notes": ("teifi notes.md", NOTES.replace("\n", "\r\n").encode("utf-8"), "text/markdown")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["notes_filename"] == "teifi notes.md" and "\r" not in body["review"]["notes"]
    assert body["review"]["outcomes"] == ["pcmw-5", "pcmw-9", "acd-1"], "no outcomes: the board's Appendix B allocation"


@pytest.mark.slow
def test_letters_api_review_upload_takes_form_fields_and_a_docx(client: TestClient, as_user) -> None:
    import docx

    document = docx.Document()
    document.add_heading("PCMW 5: Seamless working", level=2)
    document.add_paragraph("The practices share one frailty pathway with the community nursing team.")
    buffer = io.BytesIO()
    document.save(buffer)
    as_user("chair-sian")
    fields = {k: v for k, v in RECORD.items() if k not in {"notes", "attendees", "outcomes"}}
    response = client.post(
        "/api/v1/reviews/upload",
        data={**fields, "outcomes": "PCMW 5, pcmw-9, ACD 1", "attendees": "Cluster lead; Community nursing lead"},
        files={"notes": ("notes.docx", buffer.getvalue(), "application/octet-stream")},
    )
    assert response.status_code == 201, response.text
    review = response.json()["review"]
    assert review["notes"].startswith("## PCMW 5: Seamless working")
    assert review["outcomes"] == ["pcmw-5", "pcmw-9", "acd-1"]
    assert review["attendees"] == ["Cluster lead", "Community nursing lead"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("data", "files", "needle"),
    [
        ({"record": "cluster: [unclosed"}, None, "record: not valid JSON or YAML at line"),
        ({"record": "- just\n- a list"}, None, "record: expected a JSON or YAML mapping"),
        ({}, {"notes": ("notes.pdf", b"%PDF-1.4", "application/pdf")}, ".pdf is not accepted"),
        ({"notes_text": "pasted"}, {"notes": ("n.txt", b"from a file", "text/plain")}, "notes: given twice"),
    ],
)
def test_letters_api_bad_upload_is_refused_naming_the_part(client: TestClient, data: dict, files: dict | None, needle: str, as_user) -> None:
    as_user("chair-sian")
    fields = {k: v for k, v in RECORD.items() if k not in {"notes", "attendees", "outcomes"}}
    response = client.post("/api/v1/reviews/upload", data={**fields, **data}, files=files)
    assert response.status_code == 422, response.text
    assert needle in error(response)["message"]


@pytest.mark.slow
def test_letters_api_unknown_review_or_letter_is_404(client: TestClient, as_user) -> None:
    as_user("prog-ann")
    assert error(client.get("/api/v1/reviews/9999"))["code"] == "CW612"
    assert error(client.get("/api/v1/letters/9999"))["code"] == "CW610"
    assert client.get("/api/v1/letters/9999/versions").status_code == 404


# -------------------------------------------------------------------------------------- drafting


@pytest.mark.slow
def test_letters_api_draft_is_version_one_and_traceable_to_the_notes(client: TestClient, letter: dict[str, Any], as_user) -> None:
    assert letter["version"] == 1 and letter["created_by"] == "chair-sian"
    draft = LetterDraft.from_dict(letter["draft"])
    notes = draft.review.notes
    assert draft.sentences and draft.actions
    for item in (*draft.sentences, *draft.actions):
        assert item.source is not None and notes[item.source.start:item.source.end].strip(), item
    owners = {a.owner for a in draft.actions}
    assert "health board" in {o.lower() for o in owners if o}
    as_user("prog-ann")
    assert client.get(f"/api/v1/letters/{letter['letter_id']}").json()["draft"] == letter["draft"]


# --------------------------------------------------------------------------------------- editing


def _edit_next_steps(draft: dict[str, Any], text: str) -> dict[str, Any]:
    edited = copy.deepcopy(draft)
    edited["next_steps"] = text
    return edited


def _edit_first_sentence(draft: dict[str, Any], text: str) -> dict[str, Any]:
    edited = copy.deepcopy(draft)
    edited["sentences"][0]["text"] = text  # origin left as "notes": the server must mark it edited
    return edited


@pytest.mark.slow
def test_letters_api_stale_edit_is_409_and_nothing_is_lost(client: TestClient, new_letter) -> None:
    letter = new_letter()
    url = f"/api/v1/letters/{letter['letter_id']}"
    first = client.put(url, json={"base_version": 1, "draft": _edit_next_steps(letter["draft"], "Meet again in autumn."),
                                  "comment": "next steps"})
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.put(url, json={"base_version": 1, "draft": _edit_next_steps(letter["draft"], "STALE TEXT")})
    assert stale.status_code == 409
    assert error(stale)["code"] == "CW611" and error(stale)["details"]["latest_version"] == 2
    assert "Reload version 2" in error(stale)["message"]
    latest = client.get(url).json()
    assert latest["version"] == 2 and latest["draft"]["next_steps"] == "Meet again in autumn."
    history = client.get(f"{url}/versions").json()["versions"]
    assert [(v["version"], v["comment"]) for v in history] == [(1, "machine draft"), (2, "next steps")]
    stored = [client.get(f"{url}/versions/{v['version']}").json()["draft"]["next_steps"] for v in history]
    assert "STALE TEXT" not in stored


@pytest.mark.slow
def test_letters_api_two_chairs_one_after_the_other_keep_both_edits(client: TestClient, as_user, new_letter) -> None:
    letter = new_letter()
    url = f"/api/v1/letters/{letter['letter_id']}"
    as_user("chair-sian")
    sian_copy = client.get(url).json()
    as_user("chair-owain")
    owain_copy = client.get(url).json()
    as_user("chair-sian")
    saved = client.put(url, json={"base_version": sian_copy["version"],
                                  "draft": _edit_first_sentence(sian_copy["draft"], "A rewritten first sentence.")})
    assert saved.status_code == 200, saved.text
    as_user("chair-owain")
    refused = client.put(url, json={"base_version": owain_copy["version"],
                                    "draft": _edit_next_steps(owain_copy["draft"], "Owain's next steps.")})
    assert refused.status_code == 409
    reloaded = client.get(url).json()  # Owain reloads and re-applies his change
    final = client.put(url, json={"base_version": reloaded["version"],
                                  "draft": _edit_next_steps(reloaded["draft"], "Owain's next steps.")})
    assert final.status_code == 200 and final.json()["version"] == 3
    draft = client.get(url).json()["draft"]
    assert draft["sentences"][0]["text"] == "A rewritten first sentence." and draft["sentences"][0]["origin"] == "edited"
    assert draft["next_steps"] == "Owain's next steps."
    assert [v["created_by"] for v in client.get(f"{url}/versions").json()["versions"]] == ["chair-sian", "chair-sian", "chair-owain"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("breakage", "needle"),
    [
        (lambda d: d["sentences"][0].update(role="opinion"), "draft.sentences[0]: field 'role' must be one of"),
        (lambda d: d["actions"][0].update(outcome="pcmw-13"), "which this review did not discuss"),
        (lambda d: d["review"].update(notes=d["review"]["notes"] + " Added later."), "draft.review.notes: differs from peer review"),
        (lambda d: d["review"].update(chair="Someone Else"), "draft.review.chair: differs from peer review"),
    ],
)
def test_letters_api_invalid_edit_is_422_and_not_stored(client: TestClient, letter: dict[str, Any], breakage, needle: str, as_user) -> None:
    as_user("chair-sian")
    draft = copy.deepcopy(letter["draft"])
    breakage(draft)
    url = f"/api/v1/letters/{letter['letter_id']}"
    before = client.get(f"{url}/versions").json()["versions"]
    response = client.put(url, json={"base_version": 1, "draft": draft})
    assert response.status_code == 422 and needle in error(response)["message"], response.text
    assert client.get(f"{url}/versions").json()["versions"] == before


@pytest.mark.slow
def test_letters_api_roles_decide_who_may_edit(client: TestClient, letter: dict[str, Any], as_user) -> None:
    url = f"/api/v1/letters/{letter['letter_id']}"
    edit = {"base_version": 1, "draft": letter["draft"]}
    for reader in ("prog-ann", "rev-bob"):
        as_user(reader)
        assert client.get(url).status_code == 200
        refused = client.put(url, json=edit)
        assert refused.status_code == 403 and error(refused)["code"] == "CW701"
    as_user("prog-ann")
    assert client.post("/api/v1/reviews", json=RECORD).status_code == 403
    assert client.get(f"{url}/export", params={"format": "html"}).status_code == 200
    client.cookies.clear()
    assert client.get(url).status_code == 401


# ------------------------------------------------------------------------------ compare and export


@pytest.mark.slow
def test_letters_api_compare_shows_the_change(client: TestClient, new_letter) -> None:
    letter = new_letter()
    url = f"/api/v1/letters/{letter['letter_id']}"
    old_text = letter["draft"]["sentences"][0]["text"]
    edited = _edit_first_sentence(letter["draft"], "The huddle now includes the community pharmacist.")
    edited["actions"] = edited["actions"][1:]
    assert client.put(url, json={"base_version": 1, "draft": edited}).status_code == 200
    compared = client.get(f"{url}/compare", params={"from": 1, "to": 2})
    assert compared.status_code == 200, compared.text
    body = compared.json()
    assert "+" in body["diff"] and "The huddle now includes the community pharmacist." in body["diff"]
    assert any(line.startswith("-") and old_text[:40] in line for line in body["diff"].splitlines())
    changes = {(c["id"], c["change"]) for c in body["items"]}
    assert (letter["draft"]["sentences"][0]["id"], "changed") in changes
    assert (letter["draft"]["actions"][0]["id"], "removed") in changes
    changed = next(c for c in body["items"] if c["change"] == "changed")
    assert set(changed["fields"]) == {"text", "origin"}
    assert client.get(f"{url}/compare", params={"from": 1, "to": 7}).status_code == 404


@pytest.mark.slow
def test_letters_api_exports_html_docx_and_pdf(client: TestClient, letter: dict[str, Any], as_user) -> None:
    import docx

    as_user("prog-ann")
    url = f"/api/v1/letters/{letter['letter_id']}/export"
    html = client.get(url, params={"format": "html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert 'filename="outcome-letter-teifi-valley-cluster-v1-en.html"' in html.headers["content-disposition"]
    assert "Teifi Valley Cluster" in html.text and "{{" not in html.text

    word = client.get(url, params={"format": "docx", "language": "cy", "version": 1})
    assert word.status_code == 200, word.text
    assert word.headers["content-type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "attachment" in word.headers["content-disposition"] and "-v1-cy.docx" in word.headers["content-disposition"]
    document = docx.Document(io.BytesIO(word.content))
    assert document.tables and len(document.tables[0].rows) >= 2

    pdf = client.get(url, params={"format": "pdf", "language": "bilingual"})
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    bad = client.get(url, params={"format": "odt"})
    assert bad.status_code == 422 and "format" in error(bad)["message"]
