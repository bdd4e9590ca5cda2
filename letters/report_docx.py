"""The thematic report as a Word document people can edit before it goes to SPPC.

Built with python-docx from the same model as the HTML page. Data tables are real Word tables with a
header row that repeats on each page. Charts are drawn as Word tables too, with shaded cells for the
bars: no plotting library is installed here, and a table-chart stays sharp, prints, and can be
edited or restyled in Word. A bar is a row of ``GRID`` narrow cells; the shaded run is merged into
one cell that carries the count, and a withheld figure gets no bar, only its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

from docx import Document
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import Table, _Cell

from .charts import CURRENT_FILL, LEVEL_COLOURS, PREVIOUS_FILL
from .report_html import report_title, share_text
from .report_model import MaturityModule, QuestionSection, ThematicReport
from .report_notes import method_notes

GRID = 20  # cells per bar: 5% each
LABEL_CM = 5.2
BAR_CM = 8.0
TEXT_CM = 3.6
BAR_FILL = "3F7BB5"


def _shade(cell: _Cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill.lstrip("#").upper())
    tc_pr.append(shd)


def _repeat_header(table: Table) -> None:
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _fixed_layout(table: Table) -> None:
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)


def _write(cell: _Cell, text: str, *, bold: bool = False, size: float = 9, colour: str | None = None,
           align: WD_ALIGN_PARAGRAPH | None = None, italic: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    if align is not None:
        paragraph.alignment = align
    run = paragraph.add_run(text)
    run.bold, run.italic = bold, italic
    run.font.size = Pt(size)
    if colour:
        run.font.color.rgb = RGBColor.from_string(colour.lstrip("#").upper())


def data_table(doc: Document, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float],
               numeric: Sequence[bool] | None = None) -> Table:
    """A bordered table with a shaded header row that repeats across pages."""
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    numeric = numeric or [False] * len(header)
    for i, text in enumerate(header):
        cell = table.rows[0].cells[i]
        _shade(cell, "E9EFF5")
        _write(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.RIGHT if numeric[i] else None)
    for values in rows:
        cells = table.add_row().cells
        for i, text in enumerate(values):
            _write(cells[i], text, align=WD_ALIGN_PARAGRAPH.RIGHT if numeric[i] else None)
    _fixed_layout(table)
    _set_widths(table, widths)
    _repeat_header(table)
    return table


def _grid_row(table: Table, label: str, *, gap: bool = True) -> list[_Cell]:
    if gap and len(table.rows):  # a thin gap, so neighbouring bars read as separate bars
        gap = table.add_row()
        gap.height, gap.height_rule = Cm(0.12), WD_ROW_HEIGHT_RULE.EXACTLY
    cells = table.add_row().cells
    _write(cells[0], label, align=WD_ALIGN_PARAGRAPH.RIGHT)
    return list(cells)


def _segments(values: Sequence[int], total: int) -> list[int]:
    """Cells per segment, by largest remainder, so the segments fill the grid exactly."""
    if total <= 0:
        return [0] * len(values)
    exact = [GRID * v / total for v in values]
    cells = [int(x) for x in exact]
    for i in sorted(range(len(values)), key=lambda k: -(exact[k] - cells[k]))[: GRID - sum(cells)]:
        cells[i] += 1
    return cells


def _chart_table(doc: Document, title: str) -> Table:
    heading = doc.add_paragraph()
    heading.add_run(title).bold = True
    heading.paragraph_format.keep_with_next = True
    table = doc.add_table(rows=0, cols=GRID + 2)
    _fixed_layout(table)
    return table


def _set_widths(table: Table, widths: Sequence[float]) -> None:
    """Column widths in both places Word and LibreOffice read them: the grid and each cell."""
    for column, width in zip(table.columns, widths):
        column.width = Cm(width)
    for row in table.rows:
        start = 0
        for tc in row._tr.tc_lst:  # a merged bar cell spans several grid columns
            tc.width = Cm(sum(widths[start : start + tc.grid_span]))
            start += tc.grid_span


def _size_chart(doc: Document, table: Table) -> None:
    _set_widths(table, [LABEL_CM] + [BAR_CM / GRID] * GRID + [TEXT_CM])
    for row in table.rows[:-1]:  # a chart is not split across pages
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True
    doc.add_paragraph()  # space between a chart and the table after it


def _bar(cells: list[_Cell], length: int, fill: str, text: str) -> None:
    """Shade the first ``length`` grid cells as one merged bar; the text goes after it."""
    if length > 0:
        bar = cells[1].merge(cells[length]) if length > 1 else cells[1]
        _shade(bar, fill)
    _write(cells[-1], text)


def bar_chart_table(doc: Document, title: str, items: Sequence[tuple[str, float | None, str]], peak: float) -> None:
    """(label, value or None when withheld, text) per bar, scaled to ``peak``."""
    table = _chart_table(doc, title)
    for label, value, text in items:
        cells = _grid_row(table, label)
        length = 0 if value is None or peak <= 0 else max(1 if value > 0 else 0, round(GRID * value / peak))
        _bar(cells, length, BAR_FILL, text)
    _size_chart(doc, table)


def stacked_chart_table(doc: Document, report: ThematicReport, module: MaturityModule) -> None:
    rows = [r for r in module.rows if r.fully_shown]
    if not rows:
        return
    table = _chart_table(doc, f"{module.title}: clusters by maturity level")
    for r in rows:
        cells = _grid_row(table, r.outcome.label)
        values = [c.value or 0 for c in r.cells]
        start = 1
        for value, length, (fill, ink) in zip(values, _segments(values, r.answered.value or 0), LEVEL_COLOURS):
            if length == 0:
                continue
            segment = cells[start].merge(cells[start + length - 1]) if length > 1 else cells[start]
            _shade(segment, fill)
            if length >= 2:
                _write(segment, str(value), size=8, colour=ink, align=WD_ALIGN_PARAGRAPH.CENTER)
            start += length
        _write(cells[-1], f"n={r.answered.text}", colour="555555")
    legend = table.add_row().cells
    _write(legend[0], "Key", italic=True, align=WD_ALIGN_PARAGRAPH.RIGHT)
    key = legend[1].merge(legend[-1])
    paragraph = key.paragraphs[0]
    for level, (fill, _ink) in zip(report.levels, LEVEL_COLOURS):
        square = paragraph.add_run("■ ")
        square.font.color.rgb = RGBColor.from_string(fill.lstrip("#").upper())
        label = paragraph.add_run(f"{level.label}   ")
        label.font.size = Pt(8)
    _size_chart(doc, table)


def paired_chart_table(doc: Document, report: ThematicReport, q: QuestionSection) -> None:
    table = _chart_table(doc, f"{q.question.label}: share of responses, round {report.previous_round} (light) and "
                              f"{report.round_name} (dark)")
    for t in q.themes:
        assert t.change is not None
        before = t.change.previous.share_of(t.change.previous_base)
        for label, share, fill, text in (
            (t.theme.label, before, PREVIOUS_FILL, t.change.previous.text if t.change.previous.suppressed else share_text(before)),
            ("", t.share, CURRENT_FILL, t.count.text if t.count.suppressed else share_text(t.share)),
        ):
            cells = _grid_row(table, label, gap=bool(label))
            _bar(cells, 0 if share is None else round(GRID * share), fill, text)
    _size_chart(doc, table)


def _maturity(doc: Document, report: ThematicReport) -> None:
    summary = report.all_wales_summary
    for module in report.modules:
        doc.add_heading(module.title, level=1)
        stacked_chart_table(doc, report, module)
        hidden = sum(1 for r in module.rows if not r.fully_shown)
        if hidden:
            doc.add_paragraph(f"{hidden} of {len(module.rows)} outcomes are not charted because some of their counts "
                              "are withheld.")
        header = ["Outcome", *[lv.label for lv in report.levels], "Answered"]
        rows = []
        for r in module.rows:
            cells = []
            for i, cell in enumerate(r.cells):
                text = cell.text + (f" ({share_text(r.shares[i])})" if r.shares[i] is not None else "")
                if r.changes:
                    text += f"\n{r.changes[i].delta.text}"
                cells.append(text)
            rows.append([r.outcome.label, *cells, r.answered.text])
        doc.add_paragraph().add_run(
            "Clusters at each maturity level; shares are of the clusters that rated the outcome"
            + (f"; the second line is the change since round {report.previous_round}." if report.previous_round else ".")
        ).italic = True
        data_table(doc, header, rows, [4.7, 2.4, 2.4, 2.4, 2.4, 2.3], [False, True, True, True, True, True])
    if summary is not None and summary.tied_outcomes():
        doc.add_paragraph("Tied modal levels: " + ", ".join(o.outcome.label for o in summary.tied_outcomes()) + ".")


def _stages(doc: Document, report: ThematicReport) -> None:
    doc.add_heading("Team development (Tuckman)", level=1)
    base = report.stage_answered
    bar_chart_table(doc, "Team development stage",
                    [(r.stage.label, r.cell.value, f"{r.cell.text} of {base.text}" if r.cell.value is not None else r.cell.text)
                     for r in report.stages],
                    max((r.cell.value or 0 for r in report.stages), default=0))
    header = ["Stage", "Clusters", "Share"]
    rows = [[r.stage.label, r.cell.text, share_text(r.share)] for r in report.stages]
    if report.previous_round:
        header += [f"Round {report.previous_round}", "Change", "Change in share"]
        for row, r in zip(rows, report.stages):
            assert r.change is not None
            row += [r.change.previous.text, r.change.delta.text, r.change.share_text]
    data_table(doc, header, rows, [4.0] + [2.4] * (len(header) - 1), [False] + [True] * (len(header) - 1))


def _themes(doc: Document, report: ThematicReport) -> None:
    if not report.questions:
        return
    doc.add_heading("Themes in the free-text answers", level=1)
    doc.add_paragraph(f"Suggested by the theme model ({report.coding_model}) for reviewers to check; a cluster counts "
                      "once per theme. Quotes are de-identified and taken word for word from the answers.")
    for q in report.questions:
        doc.add_heading(q.question.label, level=2)
        since = f" ({q.answered_change.previous.text} in round {report.previous_round})" if q.answered_change else ""
        doc.add_paragraph(f"{q.question.wording} — answered by {q.answered.text} clusters{since}.").runs[0].italic = True
        if report.themes_compared:
            paired_chart_table(doc, report, q)
        else:
            bar_chart_table(doc, f"{q.question.label}: responses per theme",
                            [(t.theme.label, t.count.value, t.phrase if t.count.value is not None else t.count.text)
                             for t in q.themes], q.answered.value or 0)
        header = ["Theme", "Responses", "Share"]
        widths = [3.6, 2.6, 1.4]
        if report.themes_compared:
            header += [f"Round {report.previous_round}", "Change"]
            widths += [2.0, 1.6]
        header.append("What people said")
        widths.append(17.0 - sum(widths))
        rows = []
        for t in q.themes:
            row = [t.theme.label, t.phrase, share_text(t.share)]
            if report.themes_compared and t.change is not None:
                row += [f"{t.change.previous.text} of {t.change.previous_base.text}", f"{t.change.delta.text}\n{t.change.share_text}"]
            quotes = [f"“{qu.text}” ({report.board_names.get(qu.health_board_id, qu.health_board_id)})" for qu in t.quotes]
            row.append("\n".join(quotes) if quotes else "no quote")
            rows.append(row)
        data_table(doc, header, rows, widths, [False, True, True] + [True, True][: len(header) - 4] + [False])


def _candidates(doc: Document, report: ThematicReport) -> None:
    if report.candidates is None:
        return
    doc.add_heading("Candidate new themes", level=1)
    doc.add_paragraph("Groups of sentences that no codebook theme covers closely. They are candidates — not in the "
                      "codebook: a reviewer decides whether any deserves a theme; none is counted elsewhere.")
    if not report.candidates:
        doc.add_paragraph("No group of sentences fell outside the codebook's themes.")
        return
    rows = [
        ["candidate — not in the codebook\n" + ", ".join(c.keywords[:6]), str(c.sentences),
         f"{c.nearest_theme} ({c.similarity:.2f})", "\n".join(f"“{e}”" for e in c.exemplars[:3])]
        for c in report.candidates
    ]
    data_table(doc, ["Candidate theme (keywords)", "Sentences", "Nearest codebook theme", "Examples"], rows,
               [4.0, 2.2, 3.2, 7.6], [False, True, False, False])


def _opportunities(doc: Document, report: ThematicReport) -> None:
    if report.opportunities is None:
        return
    doc.add_heading("Opportunities for action", level=1)
    doc.add_paragraph("Drafted from what clusters said would help and how they overcame barriers, each sentence under "
                      "the recommendation heading it speaks to most. Lead organisation and timescale are shown only "
                      "where the answer names them; otherwise they are to be agreed.")
    for n, g in enumerate(report.opportunities, start=1):
        doc.add_heading(f"{n}. {g.heading.label}", level=2)
        if not g.items:
            doc.add_paragraph("No answer spoke to this heading.")
            continue
        doc.add_paragraph(f"Raised by {g.clusters.text} of {g.base.text} clusters.")
        rows = [[f"“{i.text}”", i.lead_text, i.timescale_text, report.board_names.get(i.health_board_id, i.health_board_id)]
                for i in g.items]
        data_table(doc, ["What clusters said would help", "Lead organisation", "Timescale", "Health board"], rows,
                   [9.0, 3.0, 2.5, 2.5])


def _responses(doc: Document, report: ThematicReport) -> None:
    doc.add_heading("Responses", level=1)
    if report.response_rate is not None:
        text = f"{report.responses.text} of {report.total_clusters} clusters responded ({share_text(report.response_rate)})"
    else:
        text = f"{report.responses.text} clusters in {report.scope.name} responded"
    if report.responses_change is not None:
        text += f"; round {report.previous_round}: {report.responses_change.previous.text} (change {report.responses_change.delta.text})"
    doc.add_paragraph(text + ".")
    data_table(doc, ["Health board", "Regional partnership board", "Responses"],
               [[b.board.name, b.board.rpb.name, b.responses.text] for b in report.boards], [6.5, 7.5, 2.5],
               [False, False, True])


def build_docx(report: ThematicReport) -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(10)
    doc.core_properties.title = report_title(report)
    doc.add_heading(report_title(report), level=0)
    meta = f"{report.scope.name} · round {report.round_name}"
    if report.previous_round:
        meta += f" compared with round {report.previous_round}"
    doc.add_paragraph(f"{meta} · generated {report.generated_at} · codebook {report.codebook_version}")
    doc.add_heading("Executive summary", level=1)
    for sentence in report.executive_summary:
        doc.add_paragraph(sentence.text, style="List Number")
    if not report.executive_summary:
        doc.add_paragraph("Every headline figure for this scope is below the suppression threshold.")
    _responses(doc, report)
    _maturity(doc, report)
    _stages(doc, report)
    _themes(doc, report)
    _candidates(doc, report)
    _opportunities(doc, report)
    doc.add_heading("Method note", level=1)
    for note in method_notes(report):
        doc.add_paragraph(note, style="List Bullet")
    return doc


def write_docx(report: ThematicReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = BytesIO()
    build_docx(report).save(buffer)
    path.write_bytes(buffer.getvalue())
    return path
