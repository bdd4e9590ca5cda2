"""Coding decisions as a spreadsheet: CSV for any tool, ``.xlsx`` for the people who open it in Excel.

One row per decision (answer, cluster, board, question, theme, coder, decision, time). Text comes
from answers and memos people typed, so a cell that starts like a formula (``=``, ``+``, ``-``, ``@``)
is made inert: in CSV it gets a leading apostrophe (Excel's own "this is text" mark); in ``.xlsx`` it
is stored as a string cell with Excel's quote prefix, so the text reads exactly as typed and is never
evaluated, even after someone edits the cell.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

COLUMNS = ("answer_id", "cluster", "health_board", "question", "theme", "coder", "decision", "at")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MAX_WIDTH = 60


@dataclass(frozen=True)
class CodeExportRow:
    """One coding decision as it leaves the system (de-identified; ``at`` in UTC)."""

    answer_id: str | int
    cluster: str
    health_board: str
    question: str
    theme: str
    coder: str
    decision: str
    at: datetime | str | None = None


def write_codes_csv(rows: Iterable[CodeExportRow | Mapping[str, object]], path: Path | str) -> Path:
    """Write ``rows`` as UTF-8 CSV with a byte-order mark, which Excel needs to show Welsh letters."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    records = [_row(r, n) for n, r in enumerate(rows, start=1)]
    with target.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for record in records:
            writer.writerow([_csv_cell(value) for value in _values(record)])
    return target


def write_codes_xlsx(rows: Iterable[CodeExportRow | Mapping[str, object]], path: Path | str) -> Path:
    """Write ``rows`` as one sheet: bold frozen header, filter on, columns wide enough to read."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    records = [_row(r, n) for n, r in enumerate(rows, start=1)]
    book = Workbook()
    sheet = book.active
    sheet.title = "Codes"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(name) for name in COLUMNS]
    for row_number, record in enumerate(records, start=2):
        for column, value in enumerate(_values(record), start=1):
            if value is None:  # an empty cell, not an empty string Excel may "repair"
                continue
            cell = sheet.cell(row=row_number, column=column)
            if isinstance(value, str):
                cell.value = value
                cell.data_type = "s"  # openpyxl would otherwise store "=..." as a live formula
                if value.startswith(_FORMULA_START):
                    cell.quotePrefix = True
            else:
                cell.value = value
            if isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            widths[column - 1] = max(widths[column - 1], len(str(value)))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(len(records) + 1, 1)}"
    book.save(target)
    return target


def _row(row: CodeExportRow | Mapping[str, object], number: int) -> CodeExportRow:
    """Accept plain dicts too (what a query gives), naming the row and field if one is missing."""
    if isinstance(row, CodeExportRow):
        return row
    missing = [f.name for f in fields(CodeExportRow) if f.name != "at" and f.name not in row]
    if missing:
        raise ValueError(f"code export row {number}: missing {', '.join(missing)}; expected the keys {', '.join(COLUMNS)}")
    return CodeExportRow(**{f.name: row.get(f.name) for f in fields(CodeExportRow)})  # type: ignore[arg-type]


def _values(record: CodeExportRow) -> list[object]:
    values: list[object] = list(astuple(record))
    at = values[-1]
    if isinstance(at, datetime):  # spreadsheets have no time zones: always UTC, written naive
        values[-1] = (at.astimezone(timezone.utc) if at.tzinfo else at).replace(tzinfo=None, microsecond=0)
    return values


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
