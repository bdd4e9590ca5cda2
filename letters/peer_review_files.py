"""Peer-review records and meeting notes as people hand them over: a YAML/JSON record, notes pasted in
it or kept beside it as ``.txt``, ``.md`` or ``.docx``.

Why the notes are normalised here and only here: every drafted sentence points into the notes by
character offsets, so the notes string must be fixed once (line endings unified, a Word document
flattened to text) before anything is drafted, and stored as that string. A Word document keeps its
structure through the flattening: headings become Markdown ``#`` lines and list paragraphs ``-``
bullets, which is what the drafting step reads sections and bullets from.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import yaml

from corpora.codebook import Codebook, load_codebook
from corpora.errors import CodebookError

from .letter_model import PeerReview, PeerReviewError

__all__ = [
    "NOTES_TYPES", "RECORD_TYPES", "TRANSITION_YEAR_OUTCOMES", "check_outcomes", "normalise_outcomes", "read_notes",
    "read_peer_review", "resolve_health_board",
]

NOTES_TYPES = (".txt", ".md", ".docx")
RECORD_TYPES = (".yaml", ".yml", ".json")

# The 2022/23 peer-review report, Appendix B: the two PCMW outcomes and one ACD outcome each health
# board's review was structured around. Used when a record names its board but not its outcomes.
TRANSITION_YEAR_OUTCOMES: dict[str, tuple[str, str, str]] = {
    "abuhb": ("pcmw-1", "pcmw-13", "acd-2"),
    "bcuhb": ("pcmw-2", "pcmw-12", "acd-3"),
    "cavuhb": ("pcmw-3", "pcmw-11", "acd-4"),
    "ctmuhb": ("pcmw-4", "pcmw-10", "acd-5"),
    "hduhb": ("pcmw-5", "pcmw-9", "acd-1"),
    "pthb": ("pcmw-6", "pcmw-7", "acd-6"),
    "sbuhb": ("pcmw-8", "pcmw-12", "acd-7"),
}
_OUTCOME_REF = re.compile(r"^\s*(pcmw|acd)[\s_-]*(?:outcome\s*)?(\d{1,2})\s*$", re.IGNORECASE)
_HEADING_STYLE = re.compile(r"^(?:heading|pennawd)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLES = {"title", "teitl"}


def read_notes(filename: str, content: bytes) -> str:
    """The notes as one text, from an upload's name and bytes (``.txt``, ``.md`` or ``.docx``).

    Line endings become ``\\n``; anything else is refused with the file named and the accepted types
    listed, so a chair uploading a PDF or an old ``.doc`` knows what to do instead.
    """
    suffix = Path(filename).suffix.lower()
    if suffix not in NOTES_TYPES:
        raise PeerReviewError(
            f"notes file {filename!r}: {suffix or 'no extension'} is not accepted; "
            f"save the notes as {', '.join(NOTES_TYPES)} (a Word .docx, plain text or Markdown)"
        )
    text = _docx_text(filename, content) if suffix == ".docx" else _plain_text(filename, content)
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise PeerReviewError(f"notes file {filename!r} is empty: there is nothing to draft a letter from")
    return text


def _plain_text(filename: str, content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise PeerReviewError(f"notes file {filename!r}: not readable UTF-16 text ({exc.reason} at byte {exc.start})") from exc
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PeerReviewError(
            f"notes file {filename!r} is not UTF-8 text (undecodable byte at position {exc.start}); "
            "save it again as UTF-8 (in Word or Notepad: Save As, encoding UTF-8)"
        ) from exc
    if "\x00" in text:
        raise PeerReviewError(f"notes file {filename!r} contains binary data, not text; upload a .txt, .md or .docx")
    return text


def _docx_text(filename: str, content: bytes) -> str:
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - python-docx is a declared dependency
        raise PeerReviewError("reading .docx notes needs the python-docx package, which is not installed") from exc
    try:
        document = docx.Document(io.BytesIO(content))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise PeerReviewError(f"notes file {filename!r} is not a Word (.docx) document that can be opened: {exc}") from exc
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(_paragraph_line(Paragraph(block, document)))
        elif tag == "tbl":
            for row in Table(block, document).rows:
                cells = [c.text.strip() for c in row.cells]
                # Merged cells repeat their text across the row; keep each once.
                lines.append(" | ".join(dict.fromkeys(c for c in cells if c)))
    return "\n".join(lines)


def _paragraph_line(paragraph: Any) -> str:
    text = paragraph.text.strip()
    if not text:
        return ""
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    heading = _HEADING_STYLE.match(style.strip())
    if heading:
        return "#" * max(1, min(int(heading.group(1)), 6)) + " " + text
    if style.strip().lower() in _TITLE_STYLES:
        return "# " + text
    is_list = "list" in style.lower() or paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None
    return f"- {text}" if is_list else text


def resolve_health_board(value: str, codebook: Codebook) -> str:
    """A board id from an id, a name, a Welsh name or an alias (``"Hywel Dda UHB"`` -> ``hduhb``)."""
    wanted = " ".join(value.replace("&", "and").lower().split())
    for board in codebook.health_boards:
        names = (board.id, board.name, board.short_name, board.welsh_name, *board.aliases)
        if wanted in {" ".join(n.replace("&", "and").lower().split()) for n in names}:
            return board.id
    valid = ", ".join(f"{b.id} ({b.short_name})" for b in codebook.health_boards)
    raise PeerReviewError(f"field 'health_board': {value!r} is not a Welsh health board; expected one of {valid}")


def _outcome_id(value: Any) -> Any:
    match = _OUTCOME_REF.match(str(value))
    return f"{match.group(1).lower()}-{int(match.group(2))}" if match else value


def normalise_outcomes(data: dict[str, Any]) -> None:
    """Outcomes as ids, in place: ``PCMW 7`` -> ``pcmw-7``; none given and a board resolved -> that
    board's Appendix B allocation. Shared by files and the API, so both read a record alike."""
    if not data.get("outcomes") and data.get("health_board") in TRANSITION_YEAR_OUTCOMES:
        data["outcomes"] = list(TRANSITION_YEAR_OUTCOMES[data["health_board"]])
    elif isinstance(data.get("outcomes"), (list, tuple)):
        data["outcomes"] = [_outcome_id(o) for o in data["outcomes"]]


def check_outcomes(review: PeerReview, codebook: Codebook, where: str) -> PeerReview:
    """``review`` if every outcome is one of the codebook's, else a PeerReviewError naming the field."""
    try:
        for outcome in review.outcomes:
            codebook.outcome(outcome)
    except CodebookError as exc:
        raise PeerReviewError(f"{where}: field 'outcomes': {exc}") from None
    return review


def read_peer_review(path: Path, codebook: Codebook | None = None) -> PeerReview:
    """A peer-review record from a ``.yaml``/``.yml``/``.json`` file, with its notes read in.

    The notes are given inline (``notes:``) or as ``notes_file:`` relative to the record. The board may
    be named by id, name or alias; outcomes as ids or as ``PCMW 7`` / ``ACD 6``, and when omitted they
    default to the board's Appendix B allocation.
    """
    path = Path(path)
    where = path.name
    if path.suffix.lower() not in RECORD_TYPES:
        raise PeerReviewError(f"peer review {where!r}: expected a {', '.join(RECORD_TYPES)} record, got {path.suffix or 'no extension'}")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PeerReviewError(f"peer review file not found: {path}") from None
    except OSError as exc:
        raise PeerReviewError(f"peer review {where!r} cannot be read: {exc.strerror}") from exc
    data = _parse_record(where, raw, json_record=path.suffix.lower() == ".json")
    if "notes_file" in data and data.get("notes_file"):
        if data.get("notes"):
            raise PeerReviewError(f"{where}: give the notes either inline ('notes') or as 'notes_file', not both")
        notes_path = path.parent / str(data.pop("notes_file"))
        try:
            content = notes_path.read_bytes()
        except FileNotFoundError:
            raise PeerReviewError(f"{where}: field 'notes_file': {notes_path} does not exist") from None
        data["notes"] = read_notes(notes_path.name, content)
    elif isinstance(data.get("notes"), str):
        data["notes"] = data["notes"].replace("\r\n", "\n")
    codebook = codebook or load_codebook()
    if isinstance(data.get("health_board"), str) and data["health_board"].strip():
        try:
            data["health_board"] = resolve_health_board(data["health_board"], codebook)
        except PeerReviewError as exc:
            raise PeerReviewError(f"{where}: {exc}") from None
    normalise_outcomes(data)
    return check_outcomes(PeerReview.from_dict(data, where), codebook, where)


def _parse_record(where: str, raw: bytes, *, json_record: bool) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PeerReviewError(f"peer review {where!r} is not UTF-8 text (undecodable byte at position {exc.start})") from exc
    try:
        data = json.loads(text) if json_record else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise PeerReviewError(f"peer review {where!r} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PeerReviewError(f"peer review {where!r} is not valid YAML{at}: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise PeerReviewError(f"peer review {where!r}: expected a mapping of fields (cluster, health_board, review_date, ...), got {type(data).__name__}")
    return dict(data)
