"""Reading a REFI-QDA project (``.qdpx``) back into plain records: our own exports and other tools'.

Other tools write the standard loosely: GUIDs in braces or upper case, sources in ``Sources/`` or
``sources/``, text inline (``PlainTextContent``) or in a file, codings on a selection or on a whole
source, codes nested to any depth, users missing. All of that is accepted. What is refused, with a
QdpxError saying what is wrong, is anything that would make a quote wrong or unfindable: a file that
is not a zip, no ``project.qde``, a document that breaks the schema, a coding whose code or span does
not exist. Sources outside the archive are never read from disk: a project file must not be able to
make the server read an arbitrary path (``absolute:///etc/passwd``).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from lxml import etree

from clwstwr.refi_qda import (
    IDENTIFIERS_NOTE,
    NS,
    QdaCode,
    QdaCoding,
    QdaProject,
    QdaSource,
    QdaUser,
    QdpxError,
    validate_qde,
)

MAX_MEMBER_BYTES = 256 * 1024 * 1024  # a text project this big is a zip bomb, not a round of answers
UNKNOWN_CODER = QdaUser("unknown", "Unknown coder")
_NON_TEXT = {"PictureSource": "picture", "AudioSource": "audio", "VideoSource": "video"}
_VARIABLE_KEYS = {"cluster": "cluster", "healthboard": "health_board", "board": "health_board", "question": "question"}


def read_qdpx(path: Path | str) -> QdaProject:
    """Read the ``.qdpx`` at ``path``; raises QdpxError naming the file and what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise QdpxError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise QdpxError(f"{path.name}: not a REFI-QDA project: a .qdpx file is a zip archive and this is not one")
    try:
        with zipfile.ZipFile(path) as zf:
            return _Reader(path.name, zf).project()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise QdpxError(f"{path.name}: the zip archive is damaged ({exc})") from None


def _tag(name: str) -> str:
    return f"{{{NS}}}{name}"


def _norm_guid(value: str | None) -> str:
    return (value or "").strip().strip("{}").lower()


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


@dataclass
class _Reader:
    file_name: str
    zf: zipfile.ZipFile
    users: dict[str, QdaUser] = field(default_factory=dict)
    codes: dict[str, QdaCode] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    entries: dict[str, str] = field(default_factory=dict)  # lower-cased name → name in the archive
    ids: dict[str, str] = field(default_factory=dict)  # GUID → our stable id, from the identifiers note
    notes: dict[str, str] = field(default_factory=dict)  # note GUID → its text

    def project(self) -> QdaProject:
        self.entries = entries = {name.lower(): name for name in self.zf.namelist() if not name.endswith("/")}
        qde_name = entries.get("project.qde") or next(
            (entries[n] for n in sorted(entries) if n.endswith(".qde") and "/" not in n), None
        )
        if qde_name is None:
            listed = ", ".join(sorted(self.zf.namelist())[:8]) or "nothing"
            raise QdpxError(f"{self.file_name}: no project.qde in the archive (it holds {listed})")
        root = validate_qde(self._read(qde_name), where=f"{self.file_name}: {qde_name}").getroot()
        self.ids = self._identifiers(root)
        self.notes = self._notes(root)
        self._users(root)
        self._codes(root)
        variables = {_norm_guid(v.get("guid")): v.get("name") or "" for v in root.iterfind(f"{_tag('Variables')}/{_tag('Variable')}")}
        case_values = self._case_values(root, variables)
        sources: list[QdaSource] = []
        codings: list[QdaCoding] = []
        for el in root.iterfind(f"{_tag('Sources')}/*"):
            kind = _local(el)
            if kind == "TextSource":
                self._text_source(el, el, variables, case_values, sources, codings)
            elif kind == "PDFSource":
                representation = el.find(_tag("Representation"))
                if representation is None:
                    self.warnings.append(f"PDF source {el.get('name')!r} has no text representation; left out")
                    continue
                if el.find(_tag("PDFSelection")) is not None or el.find(_tag("Coding")) is not None:
                    self.warnings.append(
                        f"PDF source {el.get('name')!r}: codings on page areas left out (only text selections are quoted)"
                    )
                self._text_source(representation, el, variables, case_values, sources, codings)
            elif kind in _NON_TEXT:
                self.warnings.append(f"{_NON_TEXT[kind]} source {el.get('name')!r} left out: only text can be quoted")
        users = list(self.users.values())
        if any(c.coder == UNKNOWN_CODER.id for c in codings):
            users.append(UNKNOWN_CODER)
        return QdaProject(
            name=root.get("name") or "",
            users=tuple(users),
            codes=tuple(self.codes.values()),
            sources=tuple(sources),
            codings=tuple(codings),
            created=_datetime(root.get("creationDateTime")),
            warnings=tuple(self.warnings),
        )

    # -- archive -------------------------------------------------------------------------------

    def _read(self, name: str) -> bytes:
        info = self.zf.getinfo(name)
        if info.file_size > MAX_MEMBER_BYTES:
            raise QdpxError(f"{self.file_name}: {name} is {info.file_size} bytes; more than a project can hold")
        return self.zf.read(info)

    def _member_for(self, reference: str) -> str | None:
        """The archive entry a plainTextPath points at, whichever way the tool wrote it."""
        match = re.match(r"^(internal|relative|absolute)://(.*)$", reference, re.IGNORECASE)
        scheme, rest = (match.group(1).lower(), match.group(2)) if match else ("", reference)
        rest = rest.replace("\\", "/").lstrip("/")
        candidates = [f"sources/{rest}", rest]
        if scheme != "internal":  # an external path: the tool may still have packed the file by name
            candidates.append(f"sources/{PurePosixPath(rest).name}")
        for candidate in candidates:
            found = self.entries.get(candidate.lower())
            if found is not None:
                return found
        return None

    def _file_text(self, reference: str, what: str) -> str:
        member = self._member_for(reference)
        if member is None:
            raise QdpxError(
                f"{self.file_name}: {what} refers to {reference!r}, which is not inside the archive "
                "(export the project with its sources embedded)"
            )
        try:
            return self._read(member).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise QdpxError(f"{self.file_name}: {what}: {member} is not UTF-8 text (byte {exc.start})") from None

    # -- parts ---------------------------------------------------------------------------------

    def _identifiers(self, root: etree._Element) -> dict[str, str]:
        """Our own stable ids, if this is (or was once) a Clwstwr export; GUIDs otherwise."""
        for note in root.iterfind(f"{_tag('Notes')}/{_tag('Note')}"):
            if note.get("name") != IDENTIFIERS_NOTE:
                continue
            try:
                data = json.loads(note.findtext(_tag("PlainTextContent")) or "")
                return {
                    _norm_guid(g): str(stable)
                    for part in ("users", "codes", "sources")
                    for g, stable in dict(data.get(part, {})).items()
                }
            except (ValueError, TypeError, AttributeError):
                self.warnings.append(f"the note {IDENTIFIERS_NOTE!r} is damaged; GUIDs are used as ids")
        return {}

    def _notes(self, root: etree._Element) -> dict[str, str]:
        notes: dict[str, str] = {}
        for note in root.iterfind(f"{_tag('Notes')}/{_tag('Note')}"):
            text = note.findtext(_tag("PlainTextContent"))
            if text is None and note.get("plainTextPath"):
                text = self._file_text(note.get("plainTextPath", ""), f"note {note.get('name')!r}")
            notes[_norm_guid(note.get("guid"))] = text or ""
        return notes

    def _users(self, root: etree._Element) -> None:
        for el in root.iterfind(f"{_tag('Users')}/{_tag('User')}"):
            g = _norm_guid(el.get("guid"))
            user_id = el.get("id") or self.ids.get(g, g)
            self.users[g] = QdaUser(user_id, el.get("name") or user_id)

    def _codes(self, root: etree._Element) -> None:
        codes = root.find(f"{_tag('CodeBook')}/{_tag('Codes')}")
        if codes is not None:
            for el, parent in _walk_codes(codes, None):
                g = _norm_guid(el.get("guid"))
                parent_id = self.codes[_norm_guid(parent.get("guid"))].id if parent is not None else None
                self.codes[g] = QdaCode(
                    id=self.ids.get(g, g),
                    label=el.get("name") or "",
                    description=el.findtext(_tag("Description")) or "",
                    parent=parent_id,
                    codable=el.get("isCodable", "true").strip() in {"true", "1"},
                    color=el.get("color"),
                )

    def _case_values(self, root: etree._Element, variables: dict[str, str]) -> dict[str, dict[str, str]]:
        """Source GUID → attributes its cases give it (a source's own values win later)."""
        values: dict[str, dict[str, str]] = {}
        for case in root.iterfind(f"{_tag('Cases')}/{_tag('Case')}"):
            attrs = _attributes(case, variables)
            for ref in case.iterfind(_tag("SourceRef")):
                merged = values.setdefault(_norm_guid(ref.get("targetGUID")), {})
                for key, value in attrs.items():
                    merged.setdefault(key, value)
        return values

    def _text_source(
        self,
        el: etree._Element,
        owner: etree._Element,
        variables: dict[str, str],
        case_values: dict[str, dict[str, str]],
        sources: list[QdaSource],
        codings: list[QdaCoding],
    ) -> None:
        g = _norm_guid(owner.get("guid"))
        name = owner.get("name") or el.get("name") or g
        what = f"source {name!r}"
        inline = el.findtext(_tag("PlainTextContent"))
        if inline is not None:
            text = inline
        elif el.get("plainTextPath"):
            text = self._file_text(el.get("plainTextPath", ""), what)
        else:
            raise QdpxError(f"{self.file_name}: {what} has neither PlainTextContent nor plainTextPath")
        attrs = {**case_values.get(g, {}), **_attributes(owner, variables), **_attributes(el, variables)}
        source = QdaSource(self.ids.get(g, g), name, text, attrs.get("cluster"), attrs.get("health_board"), attrs.get("question"))
        sources.append(source)
        for coding in el.iterfind(_tag("Coding")):  # on the whole source
            codings.append(self._coding(coding, source, 0, len(text), None, what))
        for selection in el.iterfind(_tag("PlainTextSelection")):
            start, end = _int(selection.get("startPosition")), _int(selection.get("endPosition"))
            label = f"{what}, selection {selection.get('name') or selection.get('guid')!r}"
            if start is None or end is None or not 0 <= start <= end <= len(text):
                raise QdpxError(
                    f"{self.file_name}: {label}: positions {selection.get('startPosition')}..{selection.get('endPosition')} "
                    f"are outside the text's {len(text)} characters"
                )
            for coding in selection.iterfind(_tag("Coding")):
                codings.append(self._coding(coding, source, start, end, selection, label))

    def _coding(self, el: etree._Element, source: QdaSource, start: int, end: int,
                selection: etree._Element | None, what: str) -> QdaCoding:
        ref = el.find(_tag("CodeRef"))
        target = _norm_guid(ref.get("targetGUID") if ref is not None else None)
        code = self.codes.get(target)
        if code is None:
            raise QdpxError(f"{self.file_name}: {what}: a coding refers to code {target!r}, which is not in the codebook")
        user_guid = _norm_guid(el.get("creatingUser") or (selection.get("creatingUser") if selection is not None else None))
        if not user_guid:
            coder = UNKNOWN_CODER.id
        else:
            if user_guid not in self.users:  # a tool that names coders only by GUID
                self.users[user_guid] = QdaUser(user_guid, f"user {user_guid}")
            coder = self.users[user_guid].id
        memo_refs = list(el.iterfind(_tag("NoteRef")))
        if not memo_refs and selection is not None:
            memo_refs = list(selection.iterfind(_tag("NoteRef")))
        memos = [self.notes[g] for g in (_norm_guid(r.get("targetGUID")) for r in memo_refs) if g in self.notes]
        return QdaCoding(
            source_id=source.id,
            code_id=code.id,
            coder=coder,
            start=start,
            end=end,
            memo="\n\n".join(memos) or None,
            at=_datetime(el.get("creationDateTime")),
        )


def _walk_codes(parent: etree._Element, owner: etree._Element | None) -> Iterator[tuple[etree._Element, etree._Element | None]]:
    """Codes depth-first, parents before children, each with its parent code (None at the top)."""
    for el in parent.iterfind(_tag("Code")):
        yield el, owner
        yield from _walk_codes(el, el)


def _attributes(el: etree._Element, variables: dict[str, str]) -> dict[str, str]:
    """cluster / health_board / question from an element's VariableValues, matching names loosely."""
    found: dict[str, str] = {}
    for value in el.iterfind(_tag("VariableValue")):
        ref = value.find(_tag("VariableRef"))
        name = variables.get(_norm_guid(ref.get("targetGUID") if ref is not None else None), "")
        key = _VARIABLE_KEYS.get(re.sub(r"[^a-z]", "", name.lower()))
        text = next((child.text for child in value if _local(child) != "VariableRef"), None)
        if key and text is not None and text.strip():
            found[key] = text.strip()
    return found


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
