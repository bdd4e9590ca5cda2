"""Files to rows: the one place that knows about .xlsx, .csv and .json.

Every row keeps the row number a person sees when they open the file (the header is row 1), so an
error report can point at the cell to fix.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from corpora.errors import ClwstwrError


class UnreadableFileError(ClwstwrError):
    """The file could not be read as a table at all (wrong type, corrupt, empty)."""

    code = "CW200"


@dataclass(frozen=True)
class RawRow:
    number: int  # row number as shown in a spreadsheet (header = 1) or 1-based record index in JSON
    cells: dict[str, object]  # header -> value as read; '' or None for empty


@dataclass(frozen=True)
class RawTable:
    source_name: str
    file_format: str
    headers: tuple[str, ...]
    rows: tuple[RawRow, ...]


SUPPORTED = (".xlsx", ".csv", ".json")


def read_table(path: Path) -> RawTable:
    """Read ``path`` by its suffix. Raises UnreadableFileError naming the file and the problem."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise UnreadableFileError(f"{path}: no such file")
    if suffix not in SUPPORTED:
        raise UnreadableFileError(
            f"{path.name}: unsupported file type '{suffix or '(none)'}'; expected one of {', '.join(SUPPORTED)}"
        )
    data = path.read_bytes()
    if not data.strip():
        raise UnreadableFileError(f"{path.name}: the file is empty")
    if suffix == ".xlsx":
        return _read_xlsx(path.name, data)
    if suffix == ".csv":
        return _read_csv(path.name, data)
    return _read_json(path.name, data)


def _clean_header(value: object, index: int) -> str:
    text = "" if value is None else str(value).strip()
    return text or f"(unnamed column {index + 1})"


def _read_xlsx(name: str, data: bytes) -> RawTable:
    import openpyxl  # imported here: only .xlsx needs it, and it is slow to import

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a corrupt file
        raise UnreadableFileError(f"{name}: not a readable .xlsx workbook ({exc.__class__.__name__}: {exc})") from exc
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    book.close()
    if not rows:
        raise UnreadableFileError(f"{name}: the first worksheet is empty")
    headers = tuple(_clean_header(v, i) for i, v in enumerate(rows[0]))
    out: list[RawRow] = []
    for number, values in enumerate(rows[1:], start=2):
        if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        cells = {h: _xlsx_value(v) for h, v in zip(headers, values)}
        out.append(RawRow(number=number, cells=cells))
    return RawTable(name, "xlsx", headers, tuple(out))


def _xlsx_value(value: object) -> object:
    if isinstance(value, datetime):
        return value
    return "" if value is None else value


def _decode_csv(name: str, data: bytes) -> str:
    """UTF-8 (with or without BOM) first; Excel on Windows saves CSV as cp1252, so that second."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"{name}: not UTF-8 or Windows-1252 text ({exc})") from exc


def _read_csv(name: str, data: bytes) -> RawTable:
    text = _decode_csv(name, data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise UnreadableFileError(f"{name}: malformed CSV ({exc})") from exc
    if not rows:
        raise UnreadableFileError(f"{name}: no header row")
    headers = tuple(_clean_header(v, i) for i, v in enumerate(rows[0]))
    out: list[RawRow] = []
    # csv.reader counts records, not physical lines: a quoted multi-line answer is one record.
    for number, values in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(headers):
            extra = [v for v in values[len(headers):] if v.strip()]
            if extra:
                raise UnreadableFileError(
                    f"{name}: row {number} has {len(values)} cells but the header has {len(headers)} columns"
                )
        cells = {h: (values[i] if i < len(values) else "") for i, h in enumerate(headers)}
        out.append(RawRow(number=number, cells=cells))
    return RawTable(name, "csv", headers, tuple(out))


def _read_json(name: str, data: bytes) -> RawTable:
    """A list of records, or ``{"submissions": [...]}``; keys are the same headers as the Forms export."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableFileError(f"{name}: not valid JSON ({exc})") from exc
    records = doc.get("submissions") if isinstance(doc, dict) else doc
    if not isinstance(records, list):
        raise UnreadableFileError(f"{name}: expected a JSON list of submissions or an object with 'submissions'")
    headers: list[str] = []
    out: list[RawRow] = []
    for index, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise UnreadableFileError(f"{name}: record {index} is {type(record).__name__}, expected an object")
        for key in record:
            if key not in headers:
                headers.append(str(key))
        cells = {str(k): ("" if v is None else v) for k, v in record.items()}
        out.append(RawRow(number=index, cells=cells))
    return RawTable(name, "json", tuple(headers), tuple(out))
