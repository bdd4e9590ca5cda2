"""A coded round as a REFI-QDA project (``.qdpx``), so a team can carry on in NVivo, ATLAS.ti, MAXQDA or QualCoder.

A ``.qdpx`` is a zip of ``project.qde`` (QDA-XML, namespace ``urn:QDA-XML:project:1.0``) and
``Sources/`` holding each text as a UTF-8 ``.txt``. Selections are code-point offsets into that text
(REFI-QDA 1.5, section 10.2); we write ``endPosition`` exclusive, so the quote is ``text[start:end]``
in Python, which is what the tools that exchange files with each other do in practice.

Every GUID is a uuid5 of a stable id (theme id, answer id, user id), never random: exporting the same
project twice gives byte-identical files, so an export can be checked into a shared drive, diffed and
re-imported without the tools seeing "new" codes. The stable ids themselves (which a GUID cannot give
back) travel in one memo, "Clwstwr identifiers", that our importer reads and other tools show as an
ordinary note.

Nothing here reads the database: callers build a ``QdaProject`` from whatever they hold (the
workspace's decisions, a test's literals) and the writer only checks and serialises it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from lxml import etree

from corpora.codebook import Codebook
from corpora.errors import ClwstwrError

NS = "urn:QDA-XML:project:1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = "urn:QDA-XML:project:1.0 http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd"
BUNDLED_SCHEMA = Path(__file__).resolve().parent / "schemas" / "Project-mrt2019.xsd"
IDENTIFIERS_NOTE = "Clwstwr identifiers"
VARIABLE_NAMES = {"cluster": "cluster", "health_board": "health board", "question": "question"}

# Fixed for ever: changing it would give every code and source a new GUID in the tools people use.
_GUID_NAMESPACE = uuid.UUID("6b1f9a52-3c1e-5d0a-9c57-2f0e8c4d7a11")
# Colours for question groups (and their themes), in codebook order: tools colour codes, and a
# colour per question lets a reader see which question a highlighted theme belongs to.
_GROUP_COLOURS = ("#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F")
# XML 1.0 cannot hold these at all; they are invisible in labels and memos, so dropping them beats
# refusing a whole export over a stray vertical tab pasted into a memo.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class QdpxError(ClwstwrError):
    """A ``.qdpx`` that is not a valid REFI-QDA project, or a project that cannot be written as one."""

    code = "CW800"


@dataclass(frozen=True)
class QdaUser:
    """A coder. ``id`` is ours (user name), ``name`` what the tools display."""

    id: str
    name: str


@dataclass(frozen=True)
class QdaCode:
    """A code. Our themes are codable children of a non-codable code per question (``parent``)."""

    id: str
    label: str
    description: str = ""
    parent: str | None = None
    codable: bool = True
    color: str | None = None


@dataclass(frozen=True)
class QdaSource:
    """One answer: its de-identified text and where it came from (cases and variables in the tools)."""

    id: str
    name: str
    text: str
    cluster: str | None = None
    health_board: str | None = None
    question: str | None = None


@dataclass(frozen=True)
class QdaCoding:
    """One coder's decision that a span of a source shows a code; ``end`` is exclusive."""

    source_id: str
    code_id: str
    coder: str
    start: int
    end: int
    memo: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class QdaProject:
    """A coded project as plain records; ``warnings`` says what an import had to leave out."""

    name: str
    users: tuple[QdaUser, ...]
    codes: tuple[QdaCode, ...]
    sources: tuple[QdaSource, ...]
    codings: tuple[QdaCoding, ...]
    created: datetime | None = None
    warnings: tuple[str, ...] = ()

    @functools.cached_property
    def _sources_by_id(self) -> dict[str, QdaSource]:
        return {s.id: s for s in self.sources}

    @functools.cached_property
    def _codes_by_id(self) -> dict[str, QdaCode]:
        return {c.id: c for c in self.codes}

    def source(self, source_id: str) -> QdaSource:
        """The source with this id (KeyError if none): quotes of thousands of codings look it up."""
        return self._sources_by_id[source_id]

    def code(self, code_id: str) -> QdaCode:
        return self._codes_by_id[code_id]

    def quote(self, coding: QdaCoding) -> str:
        """The text a coding points at: what a reader of the export sees highlighted."""
        return self.source(coding.source_id).text[coding.start : coding.end]


# --------------------------------------------------------------------------------------------------
# Building blocks for callers
# --------------------------------------------------------------------------------------------------


def codes_from_codebook(codebook: Codebook, question_ids: Sequence[str] | None = None) -> tuple[QdaCode, ...]:
    """The codebook's themes as codes, grouped under one non-codable code per question.

    Grouping by question is how the reviewers think of the codebook (the five barriers, the five
    enablers, ...) and keeps same-named themes of different questions apart in the tools.
    """
    wanted = set(question_ids) if question_ids is not None else None
    codes: list[QdaCode] = []
    for index, question in enumerate(codebook.questions):
        if wanted is not None and question.id not in wanted:
            continue
        colour = _GROUP_COLOURS[index % len(_GROUP_COLOURS)]
        codes.append(QdaCode(question.id, question.label, question.wording, None, False, colour))
        for theme in question.themes:
            codes.append(QdaCode(theme.id, theme.label, theme.definition, question.id, True, colour))
    return tuple(codes)


def selection_for(text: str, evidence: str | None) -> tuple[int, int]:
    """Offsets of the evidence sentence in ``text``, or the whole answer when there is none to find.

    A coder's decision is about the answer; the suggester's evidence sentence is the part that shows
    it, so it is the better quote when it can be located. Case is ignored because de-identification
    and segmentation may change neither words nor order, but can differ in capitalisation at a cut.
    """
    whole = (0, len(text))
    needle = (evidence or "").strip()
    if not needle:
        return whole
    at = text.find(needle)
    if at < 0:
        folded_text, folded_needle = text.casefold(), needle.casefold()
        if len(folded_text) != len(text) or len(folded_needle) != len(needle):  # offsets would shift
            return whole
        at = folded_text.find(folded_needle)
        if at < 0:
            return whole
    return (at, at + len(needle))


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def guid(kind: str, stable_id: str) -> str:
    """The GUID of a thing of ``kind`` with ``stable_id``: the same input always gives the same GUID."""
    return str(uuid.uuid5(_GUID_NAMESPACE, f"{kind}\x1f{stable_id}"))


def write_qdpx(project: QdaProject, path: Path | str) -> Path:
    """Check ``project``, write it as a ``.qdpx`` at ``path`` and return the path.

    The document is validated against the bundled REFI-QDA schema before anything is written; the
    file is written beside its destination and moved into place, so a failed export never leaves a
    half-written file where the previous good one was.
    """
    target = Path(path)
    check_project(project)
    qde = build_qde(project)
    validate_qde(qde, where=f"{target.name}: project.qde")
    entries: list[tuple[str, bytes]] = [("project.qde", qde)]
    for source in project.sources:
        try:
            data = source.text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise QdpxError(f"source {source.id!r}: text cannot be written as UTF-8 ({exc.reason} at {exc.start})") from None
        entries.append((f"Sources/{_text_file(source)}", data))
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=".qdpx-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as zf:
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: byte-identical output
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        os.chmod(temp_name, 0o644)  # mkstemp makes it private; an export is meant to be shared
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


def check_project(project: QdaProject) -> None:
    """Refuse, naming the record, anything the tools would mis-import or silently drop."""
    problems: list[str] = []
    if not project.name.strip():
        problems.append("project name is empty")
    for kind, items in (("user", project.users), ("code", project.codes), ("source", project.sources)):
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                problems.append(f"{kind} id {item.id!r} appears twice")
            seen.add(item.id)
    codes = {c.id: c for c in project.codes}
    for code in project.codes:
        if not code.label.strip():
            problems.append(f"code {code.id!r}: label is empty")
        if code.parent is not None and code.parent not in codes:
            problems.append(f"code {code.id!r}: parent {code.parent!r} is not a code of the project")
        elif _has_cycle(code, codes):
            problems.append(f"code {code.id!r}: its parents form a cycle")
    sources = {s.id: s for s in project.sources}
    users = {u.id for u in project.users}
    for number, coding in enumerate(project.codings, start=1):
        label = f"coding {number} ({coding.source_id}, {coding.code_id}, {coding.coder})"
        source = sources.get(coding.source_id)
        code = codes.get(coding.code_id)
        if source is None:
            problems.append(f"{label}: source {coding.source_id!r} is not a source of the project")
        if code is None:
            problems.append(f"{label}: code {coding.code_id!r} is not a code of the project")
        elif not code.codable:
            problems.append(f"{label}: code {coding.code_id!r} is a group (codable = False), not a code to apply")
        if coding.coder not in users:
            problems.append(f"{label}: coder {coding.coder!r} is not a user of the project")
        if source is not None and not 0 <= coding.start < coding.end <= len(source.text):
            problems.append(
                f"{label}: selection {coding.start}..{coding.end} is not a non-empty span of the "
                f"source's {len(source.text)} characters"
            )
    if problems:
        raise QdpxError(f"project {project.name!r} cannot be exported: " + "; ".join(problems))


def _has_cycle(code: QdaCode, codes: dict[str, QdaCode]) -> bool:
    seen = {code.id}
    parent = code.parent
    while parent is not None and parent in codes:
        if parent in seen:
            return True
        seen.add(parent)
        parent = codes[parent].parent
    return False


def build_qde(project: QdaProject) -> bytes:
    """``project.qde`` for ``project`` (already checked): deterministic bytes, UTF-8, with declaration."""
    users = {u.id: guid("user", u.id) for u in project.users}
    root = etree.Element(f"{{{NS}}}Project", nsmap={None: NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    root.set("name", _safe(project.name))
    root.set("origin", "Clwstwr")
    if project.created is not None:
        root.set("creationDateTime", iso_datetime(project.created))
    if project.users:
        users_el = _sub(root, "Users")
        for user in project.users:
            _sub(users_el, "User", guid=users[user.id], name=_safe(user.name), id=_safe(user.id))
    if project.codes:
        codes_el = _sub(_sub(root, "CodeBook"), "Codes")
        _write_codes(codes_el, project.codes, None)
    present = [key for key in VARIABLE_NAMES if any(getattr(s, key) for s in project.sources)]
    if present:
        variables_el = _sub(root, "Variables")
        for key in present:
            _sub(variables_el, "Variable", guid=guid("variable", key), name=VARIABLE_NAMES[key], typeOfVariable="Text")
    _write_cases(root, project.sources)
    notes: list[etree._Element] = []
    if project.sources:
        sources_el = _sub(root, "Sources")
        by_source: dict[str, list[QdaCoding]] = defaultdict(list)
        for coding in _unique(project.codings):
            by_source[coding.source_id].append(coding)
        code_order = {c.id: i for i, c in enumerate(project.codes)}
        for source in project.sources:
            _write_source(sources_el, source, by_source.get(source.id, []), code_order, project, users, notes)
    identifiers = {
        "users": {users[u.id]: u.id for u in project.users},
        "codes": {guid("code", c.id): c.id for c in project.codes},
        "sources": {guid("source", s.id): s.id for s in project.sources},
    }
    id_note = _note(IDENTIFIERS_NOTE, json.dumps(identifiers, ensure_ascii=False, sort_keys=True, indent=1),
                    guid("note", f"identifiers\x1f{project.name}"), None, None,
                    "Lets Clwstwr re-import this project with its own theme and answer ids; safe to ignore.")
    notes_el = _sub(root, "Notes")
    for note in [*notes, id_note]:
        notes_el.append(note)
    _sub(root, "NoteRef", targetGUID=id_note.get("guid"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _write_codes(parent_el: etree._Element, codes: Sequence[QdaCode], parent: str | None) -> None:
    for code in codes:
        if code.parent != parent:
            continue
        attrs = {"guid": guid("code", code.id), "name": _safe(code.label), "isCodable": "true" if code.codable else "false"}
        if code.color:
            attrs["color"] = code.color
        el = _sub(parent_el, "Code", **attrs)
        if code.description:
            _sub(el, "Description").text = _safe(code.description)
        _write_codes(el, codes, code.id)


def _write_cases(root: etree._Element, sources: Sequence[QdaSource]) -> None:
    """One case per cluster: the unit the programme reports on, and a tool's natural case."""
    clusters: dict[str, list[QdaSource]] = {}
    for source in sources:
        if source.cluster:
            clusters.setdefault(source.cluster, []).append(source)
    if not clusters:
        return
    cases_el = _sub(root, "Cases")
    for cluster, members in clusters.items():
        case = _sub(cases_el, "Case", guid=guid("case", cluster), name=_safe(cluster))
        _variable_value(case, "cluster", cluster)
        boards = {s.health_board for s in members if s.health_board}
        if len(boards) == 1:  # a cluster in two boards is a data problem; the sources still say which
            _variable_value(case, "health_board", boards.pop())
        for source in members:
            _sub(case, "SourceRef", targetGUID=guid("source", source.id))


def _write_source(
    sources_el: etree._Element,
    source: QdaSource,
    codings: list[QdaCoding],
    code_order: dict[str, int],
    project: QdaProject,
    users: dict[str, str],
    notes: list[etree._Element],
) -> None:
    el = _sub(sources_el, "TextSource", guid=guid("source", source.id), name=_safe(source.name),
              plainTextPath=f"internal://{_text_file(source)}")
    spans: dict[tuple[int, int], list[QdaCoding]] = defaultdict(list)
    for coding in codings:
        spans[(coding.start, coding.end)].append(coding)
    for (start, end), group in sorted(spans.items()):
        group.sort(key=lambda c: (code_order[c.code_id], c.coder))
        span_key = f"{source.id}\x1f{start}\x1f{end}"
        attrs = {"guid": guid("selection", span_key), "name": _safe(_snippet(source.text[start:end])),
                 "startPosition": str(start), "endPosition": str(end), "creatingUser": users[group[0].coder]}
        dates = [c.at for c in group if c.at is not None]
        if dates:
            attrs["creationDateTime"] = iso_datetime(min(dates, key=_utc))
        selection = _sub(el, "PlainTextSelection", **attrs)
        for coding in group:
            key = f"{span_key}\x1f{coding.code_id}\x1f{coding.coder}"
            coding_attrs = {"guid": guid("coding", key), "creatingUser": users[coding.coder]}
            if coding.at is not None:
                coding_attrs["creationDateTime"] = iso_datetime(coding.at)
            coding_el = _sub(selection, "Coding", **coding_attrs)
            _sub(coding_el, "CodeRef", targetGUID=guid("code", coding.code_id))
            if coding.memo:
                name = f"Memo: {project.code(coding.code_id).label} ({coding.coder})"
                note = _note(name, coding.memo, guid("memo", key), users[coding.coder], coding.at, None)
                notes.append(note)
                _sub(coding_el, "NoteRef", targetGUID=note.get("guid"))
    for key in VARIABLE_NAMES:
        value = getattr(source, key)
        if value:
            _variable_value(el, key, value)


def _note(name: str, text: str, note_guid: str, user_guid: str | None, at: datetime | None,
          description: str | None) -> etree._Element:
    attrs = {"guid": note_guid, "name": _safe(name)}
    if user_guid:
        attrs["creatingUser"] = user_guid
    if at is not None:
        attrs["creationDateTime"] = iso_datetime(at)
    note = etree.Element(f"{{{NS}}}Note", **attrs)
    if description:
        _sub(note, "Description").text = description
    _sub(note, "PlainTextContent").text = _safe(text)
    return note


def _variable_value(parent: etree._Element, key: str, value: str) -> None:
    el = _sub(parent, "VariableValue")
    _sub(el, "VariableRef", targetGUID=guid("variable", key))
    _sub(el, "TextValue").text = _safe(value)


def _unique(codings: Iterable[QdaCoding]) -> list[QdaCoding]:
    """One coding per (source, span, code, coder): the tools cannot tell repeats apart, so keep the first."""
    seen: set[tuple[str, int, int, str, str]] = set()
    kept: list[QdaCoding] = []
    for c in codings:
        key = (c.source_id, c.start, c.end, c.code_id, c.coder)
        if key not in seen:
            seen.add(key)
            kept.append(c)
    return kept


def _text_file(source: QdaSource) -> str:
    return f"{guid('file', source.id)}.txt"


def _snippet(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{NS}}}{tag}", **attrs)


def _safe(text: str) -> str:
    return _XML_FORBIDDEN.sub("", text)


def _utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC: that is how the store records decision times."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def iso_datetime(moment: datetime) -> str:
    """xsd:dateTime in UTC to the second, the form ATLAS.ti and NVivo write and read."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _schema(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path, _parser()))


def _parser() -> etree.XMLParser:
    """No entities, no network, no huge trees: project.qde may come from anyone."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def parse_qde(data: bytes, where: str = "project.qde") -> etree._ElementTree:
    """Parse a project.qde; malformed XML becomes a QdpxError naming the line."""
    try:
        return etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        raise QdpxError(f"{where} is not well-formed XML: {exc}") from None


def validate_qde(data: bytes, where: str = "project.qde", schema: Path | None = None) -> etree._ElementTree:
    """Validate against the REFI-QDA project schema (the bundled copy unless ``schema`` is given).

    Raises QdpxError listing every schema error with its line, so whoever made the file can fix it.
    """
    tree = parse_qde(data, where)
    xsd = _schema(str(schema or BUNDLED_SCHEMA))
    if not xsd.validate(tree):
        errors = [f"line {e.line}: {e.message}" for e in xsd.error_log]  # type: ignore[attr-defined]
        shown = "; ".join(errors[:20]) + (f"; … and {len(errors) - 20} more" if len(errors) > 20 else "")
        raise QdpxError(f"{where} does not follow the REFI-QDA project schema: {shown}")
    return tree
