"""Write a thematic report in the formats asked for: HTML, Word, PDF, and always ``summary.json``.

The all-Wales report keeps the names the demo and earlier scripts expect (``report.html``,
``summary.json``); a board report gets the board id in its names (``report-pthb.html``), so the two
can sit in one folder without overwriting each other. The PDF is Chromium's print of the same HTML.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment

from corpora.errors import ClwstwrError

from .pdf_export import html_to_pdf
from .report_docx import write_docx
from .report_html import render_report_html
from .report_json import report_to_json
from .report_model import ThematicReport

FORMATS = ("html", "docx", "pdf")


class ReportError(ClwstwrError):
    """A report asked for something the round cannot give (unknown board or format, no responses...)."""

    code = "CW620"


@dataclass(frozen=True)
class ReportFiles:
    html: Path | None
    summary_json: Path
    docx: Path | None = None
    pdf: Path | None = None

    def written(self) -> dict[str, Path]:
        """Label -> path of every file written, in a stable order (for the CLI and the demo)."""
        files = {"report": self.html, "report (Word)": self.docx, "report (PDF)": self.pdf, "summary": self.summary_json}
        return {label: path for label, path in files.items() if path is not None}


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(f.lower().strip() for f in formats))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise ReportError(f"unknown report format {', '.join(repr(f) for f in unknown)}; expected any of: {', '.join(FORMATS)}")
    if not chosen:
        raise ReportError(f"no report format asked for; expected any of: {', '.join(FORMATS)}")
    return chosen


def write_report_files(
    report: ThematicReport, env: Environment, out_dir: Path, formats: Iterable[str] = FORMATS
) -> ReportFiles:
    chosen = check_formats(formats)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = f"-{report.scope.board.id}" if report.scope.board else ""
    html = render_report_html(report, env) if {"html", "pdf"} & set(chosen) else ""
    html_path = docx_path = pdf_path = None
    if "html" in chosen:
        html_path = out_dir / f"report{suffix}.html"
        html_path.write_text(html, encoding="utf-8")
    if "docx" in chosen:
        docx_path = write_docx(report, out_dir / f"report{suffix}.docx")
    if "pdf" in chosen:
        pdf_path = html_to_pdf(html, out_dir / f"report{suffix}.pdf")
    json_path = out_dir / f"summary{suffix}.json"
    json_path.write_text(json.dumps(report_to_json(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return ReportFiles(html=html_path, summary_json=json_path, docx=docx_path, pdf=pdf_path)
