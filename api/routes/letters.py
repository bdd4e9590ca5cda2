"""Peer reviews and their outcome letters over HTTP: record a review, draft, edit, compare, export.

The routes are thin: validation is ``PeerReview.from_dict`` / ``LetterDraft.from_dict`` (so the API,
the CLI and uploads refuse the same things with the same field names), storage is ``store.letters``
(versions appended, stale edits refused with 409), drafting and rendering are the ``letters``
functions. Route handlers are plain ``def``: drafting, DOCX and PDF are CPU- or subprocess-bound
and run in the thread pool instead of stalling the event loop.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any, Literal

import yaml
from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response

from corpora.codebook import Codebook
from letters.letter_docx import letter_docx
from letters.letter_drafting import draft_letter
from letters.letter_model import LetterDraft, PeerReview, PeerReviewError
from letters.letter_rendering import render_letter_html, render_letter_text
from letters.pdf_export import html_to_pdf
from letters.peer_review_files import check_outcomes, normalise_outcomes, read_notes, resolve_health_board
from store import letters as repo
from store.database import transaction

from ..dependencies import ActorDep, ContextDep, SuggesterDep
from ..schemas import (
    ItemChangeOut,
    LetterComparisonOut,
    LetterEditIn,
    LetterVersionOut,
    ReviewIn,
    ReviewOut,
    VersionListOut,
)

router = APIRouter(prefix="/api/v1", tags=["peer reviews and letters"])

MAX_NOTES_BYTES = 5 * 1024 * 1024
MAX_NAME_CHARS = 300  # the width of the peer_reviews name columns
Language = Literal["en", "cy", "bilingual"]
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


# ---------------------------------------------------------------------------------------- validation



def validate_review(codebook: Codebook, record: dict[str, Any]) -> PeerReview:
    """A checked ``PeerReview`` from a plain mapping, read the way ``clwstwr letter --review`` reads a
    file: the board by id, name or alias; outcomes as ids or ``PCMW 7``; no outcomes = the board's
    Appendix B allocation. Refusals name the field."""
    data = dict(record)
    if isinstance(data.get("health_board"), str) and data["health_board"].strip():
        data["health_board"] = resolve_health_board(data["health_board"], codebook)
    normalise_outcomes(data)
    if isinstance(data.get("notes"), str):
        data["notes"] = data["notes"].replace("\r\n", "\n").replace("\r", "\n")
    review = PeerReview.from_dict(data)
    for key in ("cluster", "chair", "sppc_representative", "reviewing"):
        if len(getattr(review, key)) > MAX_NAME_CHARS:
            raise PeerReviewError(f"peer review: field '{key}' is longer than {MAX_NAME_CHARS} characters")
    return check_outcomes(review, codebook, "peer review")


def _review_out(stored: repo.StoredReview) -> dict[str, Any]:
    return {"id": stored.id, "round": stored.round_name, "review": dict(stored.record),
            "notes_filename": stored.notes_filename, "created_by": stored.created_by,
            "created_at": stored.created_at, "letter_ids": list(stored.letter_ids)}


def _version_out(stored: repo.StoredVersion) -> dict[str, Any]:
    return {"letter_id": stored.letter_id, "review_id": stored.review_id, "version": stored.version,
            "created_by": stored.created_by, "created_at": stored.created_at, "comment": stored.comment,
            "draft": dict(stored.payload)}


def _store_review(ctx: ContextDep, review: PeerReview, actor: str, round_name: str | None,
                  notes_filename: str | None) -> dict[str, Any]:
    with transaction(ctx.sessions) as session:
        stored = repo.create_review(session, review.to_dict(), actor=actor,
                                    notes_filename=notes_filename[-500:] if notes_filename else None,
                                    round_name=round_name)
    return _review_out(stored)


# --------------------------------------------------------------------------------------- peer reviews


@router.post("/reviews", response_model=ReviewOut, status_code=201)
def create_review(body: ReviewIn, ctx: ContextDep, actor: ActorDep) -> dict[str, Any]:
    """Record a peer review (notes pasted as text). Refused with 422 naming the field when, e.g., the
    outcomes are not two PCMW and one ACD, or the health board is unknown."""
    record = body.model_dump(exclude={"round"})
    return _store_review(ctx, validate_review(ctx.codebook, record), actor, body.round, None)


def _parse_record(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)  # JSON is YAML, so one parser reads both
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise PeerReviewError(f"record: not valid JSON or YAML{at}") from None
    if not isinstance(data, dict):
        raise PeerReviewError("record: expected a JSON or YAML mapping of the review fields "
                              "(cluster, health_board, review_date, chair, ...)")
    return data


def _split(values: list[str] | None, pattern: str) -> list[str] | None:
    if values is None:
        return None
    return [part.strip() for value in values for part in re.split(pattern, value) if part.strip()]


@router.post("/reviews/upload", response_model=ReviewOut, status_code=201)
def upload_review(
    ctx: ContextDep,
    actor: ActorDep,
    notes: UploadFile | None = File(None, description="the meeting notes: .txt, .md or .docx"),
    record: str | None = Form(None, description="the review fields as a JSON or YAML mapping"),
    cluster: str | None = Form(None),
    health_board: str | None = Form(None),
    review_date: str | None = Form(None),
    chair: str | None = Form(None),
    sppc_representative: str | None = Form(None),
    reviewing: str | None = Form(None),
    outcomes: list[str] | None = Form(None, description="repeat the field, or separate ids with commas"),
    attendees: list[str] | None = Form(None, description="repeat the field, or one per line / separated by ';'"),
    notes_text: str | None = Form(None, description="the notes as text, when no file is sent"),
    round_name: str | None = Form(None, alias="round", description="a stored round this review belongs to"),
) -> dict[str, Any]:
    """Record a peer review from a form: the fields (or a ``record`` JSON/YAML mapping; a form field
    given as well wins) and the notes as a file. Notes given twice are refused, not guessed."""
    fields = _parse_record(record) if record and record.strip() else {}
    given = {"cluster": cluster, "health_board": health_board, "review_date": review_date, "chair": chair,
             "sppc_representative": sppc_representative, "reviewing": reviewing,
             "outcomes": _split(outcomes, r","), "attendees": _split(attendees, r"[;\n]"), "notes": notes_text}
    fields.update({key: value for key, value in given.items() if value is not None})
    in_record = fields.pop("round", None)
    round_name = round_name or (str(in_record) if in_record is not None else None)
    filename = None
    if notes is not None and notes.filename:
        if fields.get("notes"):
            raise PeerReviewError(f"notes: given twice, as the file {notes.filename!r} and as text; send one of them")
        content = notes.file.read(MAX_NOTES_BYTES + 1)
        if len(content) > MAX_NOTES_BYTES:
            raise PeerReviewError(f"notes: the file {notes.filename!r} is larger than {MAX_NOTES_BYTES // (1024 * 1024)} MB")
        filename = Path(notes.filename).name
        fields["notes"] = read_notes(filename, content)
    return _store_review(ctx, validate_review(ctx.codebook, fields), actor, round_name, filename)


@router.get("/reviews/{review_id}", response_model=ReviewOut)
def get_review(review_id: int, ctx: ContextDep) -> dict[str, Any]:
    with transaction(ctx.sessions) as session:
        return _review_out(repo.get_review(session, review_id))


# ------------------------------------------------------------------------------------------- letters


@router.post("/reviews/{review_id}/letters", response_model=LetterVersionOut, status_code=201)
def create_letter(review_id: int, ctx: ContextDep, service: SuggesterDep, actor: ActorDep) -> dict[str, Any]:
    """Draft the outcome letter from the review's notes and store it as version 1."""
    with transaction(ctx.sessions) as session:
        stored = repo.get_review(session, review_id)
    review = PeerReview.from_dict(dict(stored.record))
    draft = draft_letter(review, ctx.codebook, service.deidentifier.nlp, service)
    with transaction(ctx.sessions) as session:
        saved = repo.create_letter(session, review_id, draft.to_dict(), actor=actor, comment="machine draft")
    return _version_out(saved)


@router.get("/letters/{letter_id}", response_model=LetterVersionOut)
def get_letter(letter_id: int, ctx: ContextDep) -> dict[str, Any]:
    """The latest version: edit it and send ``version`` back as ``base_version``."""
    with transaction(ctx.sessions) as session:
        return _version_out(repo.latest_version(session, letter_id))


@router.get("/letters/{letter_id}/versions", response_model=VersionListOut)
def list_versions(letter_id: int, ctx: ContextDep) -> dict[str, Any]:
    with transaction(ctx.sessions) as session:
        versions = repo.list_versions(session, letter_id)
    return {"letter_id": letter_id, "versions": [asdict(v) for v in versions]}


@router.get("/letters/{letter_id}/versions/{version}", response_model=LetterVersionOut)
def get_version(letter_id: int, version: int, ctx: ContextDep) -> dict[str, Any]:
    with transaction(ctx.sessions) as session:
        return _version_out(repo.get_version(session, letter_id, version))


def _check_review_unchanged(stored: dict[str, Any], draft: LetterDraft, review_id: int) -> None:
    """The review inside a draft is the stored record: spans point into its notes, and the letter's
    addressee, outcomes and signatory must match what was recorded."""
    expected = PeerReview.from_dict(stored).to_dict()
    got = draft.review.to_dict()
    changed = [key for key in expected if expected[key] != got[key]]
    if changed:
        raise PeerReviewError(
            f"draft.review.{changed[0]}: differs from peer review {review_id} as recorded; a letter edit cannot "
            "change the review (its notes, outcomes, chair, ...) — send the review back as GET returned it"
        )


def _mark_origins(base: dict[str, Any], draft: LetterDraft) -> dict[str, Any]:
    """Keep provenance honest: an item whose wording changed is ``edited``, a new unsourced one ``chair``.

    A browser that forgets to flag its changes must not leave a rewritten sentence claiming to be
    the notes' own words.
    """
    payload = draft.to_dict()
    before = {item["id"]: item for item in (*base.get("sentences", []), *base.get("actions", []))}
    for item in (*payload["sentences"], *payload["actions"]):
        old = before.get(item["id"])
        if old is None:
            if item["origin"] == "notes" and item.get("source") is None:
                item["origin"] = "chair"
        elif item["origin"] == "notes" and any(item.get(k) != old.get(k) for k in ("text", "owner", "timescale")):
            item["origin"] = "edited"
    return payload


@router.put("/letters/{letter_id}", response_model=LetterVersionOut)
def edit_letter(letter_id: int, body: LetterEditIn, ctx: ContextDep, actor: ActorDep) -> dict[str, Any]:
    """Save an edit as the next version. 409 when ``base_version`` is no longer the latest: reload the
    latest, re-apply the change and save again (nothing is merged silently, nothing is lost)."""
    draft = LetterDraft.from_dict(body.draft)
    with transaction(ctx.sessions) as session:
        latest = repo.latest_version(session, letter_id)
        review = repo.get_review(session, latest.review_id)
    _check_review_unchanged(dict(review.record), draft, review.id)
    payload = _mark_origins(dict(latest.payload), draft) if latest.version == body.base_version else draft.to_dict()
    with transaction(ctx.sessions) as session:  # re-checks the base version under a lock
        saved = repo.save_edit(session, letter_id, body.base_version, payload, actor=actor, comment=body.comment)
    return _version_out(saved)


# ------------------------------------------------------------------------------- compare and export

_DERIVED = {"needs_owner", "needs_timescale"}


def _items(payload: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    found = {s["id"]: ("sentence", s) for s in payload.get("sentences", [])}
    found.update({a["id"]: ("action", a) for a in payload.get("actions", [])})
    return found


def compare_items(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Per item (by id): changed with the fields that differ, added, removed; then next steps and review."""
    changes: list[dict[str, Any]] = []
    before, after = _items(old), _items(new)
    for item_id, (kind, item) in before.items():
        if item_id not in after:
            changes.append({"id": item_id, "kind": kind, "change": "removed", "fields": [], "before": item, "after": None})
            continue
        other = after[item_id][1]
        fields = sorted(k for k in set(item) | set(other) if k not in _DERIVED and item.get(k) != other.get(k))
        if fields:
            changes.append({"id": item_id, "kind": kind, "change": "changed", "fields": fields, "before": item, "after": other})
    for item_id, (kind, item) in after.items():
        if item_id not in before:
            changes.append({"id": item_id, "kind": kind, "change": "added", "fields": [], "before": None, "after": item})
    if old.get("next_steps", "") != new.get("next_steps", ""):
        changes.append({"id": "next_steps", "kind": "next_steps", "change": "changed", "fields": ["next_steps"],
                        "before": old.get("next_steps", ""), "after": new.get("next_steps", "")})
    review_fields = sorted(k for k in new.get("review", {}) if old.get("review", {}).get(k) != new["review"][k])
    if review_fields:
        changes.append({"id": "review", "kind": "review", "change": "changed", "fields": review_fields,
                        "before": old.get("review"), "after": new.get("review")})
    return changes


@router.get("/letters/{letter_id}/compare", response_model=LetterComparisonOut)
def compare_versions(
    letter_id: int,
    ctx: ContextDep,
    from_version: int = Query(alias="from", ge=1),
    to_version: int = Query(alias="to", ge=1),
    language: Language = "en",
) -> dict[str, Any]:
    """What changed between two versions: a unified diff of the letter text, and item by item."""
    with transaction(ctx.sessions) as session:
        old = repo.get_version(session, letter_id, from_version)
        new = repo.get_version(session, letter_id, to_version)
    texts = [render_letter_text(LetterDraft.from_dict(dict(v.payload)), ctx.codebook, language=language) for v in (old, new)]
    diff = "\n".join(difflib.unified_diff(texts[0].splitlines(), texts[1].splitlines(),
                                          fromfile=f"version {from_version}", tofile=f"version {to_version}", lineterm=""))
    items = [ItemChangeOut(**change) for change in compare_items(dict(old.payload), dict(new.payload))]
    return {"letter_id": letter_id, "from_version": from_version, "to_version": to_version, "language": language,
            "diff": diff, "items": items}


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80] or "letter"


@router.get(
    "/letters/{letter_id}/export",
    response_class=Response,
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()},
                     "description": "the letter as HTML, Word (.docx) or PDF"}},
)
def export_letter(
    letter_id: int,
    ctx: ContextDep,
    fmt: Literal["html", "docx", "pdf"] = Query("html", alias="format"),
    language: Language = "en",
    version: int | None = Query(default=None, ge=1, description="a stored version; the latest when absent"),
) -> Response:
    """The letter as a document to send: HTML (shows provenance on hover), .docx or PDF."""
    with transaction(ctx.sessions) as session:
        stored = repo.get_version(session, letter_id, version) if version else repo.latest_version(session, letter_id)
    draft = LetterDraft.from_dict(dict(stored.payload))
    if fmt == "docx":
        content = letter_docx(draft, ctx.codebook, language=language)
    else:
        html = render_letter_html(draft, ctx.codebook, ctx.templates, language=language)
        if fmt == "html":
            content = html.encode("utf-8")
        else:
            with tempfile.TemporaryDirectory(prefix="clwstwr-letter-") as tmp:
                content = html_to_pdf(html, Path(tmp) / "letter.pdf").read_bytes()
    filename = f"outcome-letter-{_slug(draft.review.cluster)}-v{stored.version}-{language}.{fmt}"
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(content=content, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{filename}"'})

