"""The outcome letter as a Word document a health board can put on its letterhead and send.

Built from the same ``letter_context`` as the HTML, so the two say the same thing. Word-native parts
rather than pasted HTML: real heading styles (navigation pane, accessibility checker), a details
table, and the agreed actions as a proper table with a repeating header row, one row per action. A
blank lead or timescale reads "to be agreed" and is highlighted so it is not sent unfilled. A bilingual
letter is the Welsh version followed by the English version, each starting on a new page.
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_BREAK, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from corpora.codebook import Codebook

from .letter_model import LetterDraft
from .letter_rendering import letter_context
from .message_catalogue import MessageCatalogue

__all__ = ["letter_docx"]

_FONT = "Arial"
_NOTICE_COLOUR = RGBColor(0x6B, 0x37, 0x00)
_GREY = RGBColor(0x55, 0x55, 0x55)


def _setup(document: Any) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    normal = document.styles["Normal"]
    normal.font.name = _FONT
    normal.font.size = Pt(11)
    # East-Asian and complex-script fallbacks too, so Word does not swap fonts for ŵ/ŷ.
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), _FONT)
    for name, size in (("Heading 1", 14), ("Heading 2", 12.5), ("Heading 3", 11.5), ("Heading 4", 11)):
        style = document.styles[name]
        style.font.name, style.font.size = _FONT, Pt(size)
        style.font.color.rgb = RGBColor(0x16, 0x41, 0x6B)


def _set_language(run: Any, lang: str) -> None:
    """Mark runs as Welsh or English so Word checks spelling in the right language."""
    rpr = run._r.get_or_add_rPr()
    element = OxmlElement("w:lang")
    element.set(qn("w:val"), "cy-GB" if lang == "cy" else "en-GB")
    rpr.append(element)


def _para(container: Any, text: str = "", lang: str = "en", *, bold: bool = False, italic: bool = False,
          style: str | None = None, colour: RGBColor | None = None, space_after: float | None = None) -> Any:
    paragraph = container.add_paragraph(style=style)
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic = bold, italic
        if colour is not None:
            run.font.color.rgb = colour
        _set_language(run, lang)
    if space_after is not None:
        paragraph.paragraph_format.space_after = Pt(space_after)
    return paragraph


def _heading(document: Any, text: str, level: int, lang: str) -> None:
    heading = document.add_heading(level=level)
    _set_language(heading.add_run(text), lang)


def _repeat_header(row: Any) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)
    cant_split = OxmlElement("w:cantSplit")
    tr_pr.append(cant_split)


def _shade(cell: Any, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    tc_pr.append(shading)


def _widths(table: Any, widths: tuple[Any, ...]) -> None:
    """Fixed column widths: Word reads the cells', LibreOffice the grid's; set both."""
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = width
        for cell in column.cells:
            cell.width = width


def _cell_text(cell: Any, text: str, lang: str, *, bold: bool = False, flagged: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_before = Pt(2)
    paragraph.paragraph_format.space_after = Pt(2)
    run = paragraph.add_run(text)
    run.bold = bold
    if flagged:
        run.italic = True
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    _set_language(run, lang)


def _items(document: Any, items: list[dict[str, Any]], m: dict[str, str], lang: str) -> None:
    for it in items:
        paragraph = document.add_paragraph(style="List Bullet")
        _set_language(paragraph.add_run(it["text"]), lang)
        if it.get("themes"):
            run = paragraph.add_run(f" ({m['themes_label']}: {'; '.join(it['themes'])})")
            run.font.color.rgb = _GREY
            _set_language(run, lang)


def _outcome_block(document: Any, group: dict[str, Any], m: dict[str, str], lang: str) -> None:
    _heading(document, group["label"], 3, lang)
    if group["good_practice"]:
        _heading(document, m["role_good_practice"], 4, lang)
        _items(document, group["good_practice"], m, lang)
    if group["challenges"]:
        _heading(document, m["role_challenge"], 4, lang)
        _items(document, group["challenges"], m, lang)
    if not group["good_practice"] and not group["challenges"]:
        _para(document, m["nothing_recorded"], lang, italic=True, colour=_GREY)


def _actions_table(document: Any, v: dict[str, Any]) -> None:
    m, lang = v["m"], v["lang"]
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, title in zip(table.rows[0].cells, (m["col_outcome"], m["col_action"], m["col_lead"], m["col_timescale"])):
        _cell_text(cell, title, lang, bold=True)
        _shade(cell, "DCE6F0")
    _repeat_header(table.rows[0])
    for a in v["actions"]:
        cells = table.add_row().cells
        _cell_text(cells[0], a["outcome_code"], lang)
        _cell_text(cells[1], a["text"], lang)
        _cell_text(cells[2], a["owner"] or m["to_be_agreed"], lang, flagged=not a["owner"])
        _cell_text(cells[3], a["timescale"] or m["to_be_agreed"], lang, flagged=not a["timescale"])
    _widths(table, (Cm(2.3), Cm(8.3), Cm(3.4), Cm(2.6)))


def _version(document: Any, v: dict[str, Any]) -> None:
    m, lang = v["m"], v["lang"]
    _para(document, v["board_name"], lang, bold=True, space_after=2)
    _para(document, f"{m['copied_to']}: {v['rpb_name']}; {m['sppc_name']}", lang, space_after=2)
    date_line = _para(document, f"{m['letter_date_label']}: ", lang)
    run = date_line.add_run(v["letter_date"] or m["letter_date_missing"])
    _set_language(run, lang)
    if not v["letter_date"]:
        run.italic = True
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    _heading(document, m["subject"], 1, lang)
    _para(document, m["greeting"], lang)

    _heading(document, m["purpose_heading"], 2, lang)
    _para(document, m["purpose"], lang)
    _heading(document, m["details_heading"], 3, lang)
    details = document.add_table(rows=0, cols=2)
    details.style = "Table Grid"
    for label, value in v["details"]:
        cells = details.add_row().cells
        _cell_text(cells[0], label, lang, bold=True)
        _shade(cells[0], "F3F6F9")
        _cell_text(cells[1], value, lang)
    _widths(details, (Cm(5.4), Cm(11.2)))

    _heading(document, m["outcomes_heading"], 2, lang)
    _para(document, m["outcomes_intro"], lang)
    for o in v["outcomes"]:
        _set_language(document.add_paragraph(style="List Number").add_run(o["label"]), lang)
    if v["show_notes_language"]:
        _para(document, m["notes_language"], lang, italic=True, colour=_GREY)
    for o in v["outcomes"]:
        _outcome_block(document, o, m, lang)
    if v["general"]:
        _outcome_block(document, v["general"], m, lang)

    _heading(document, m["actions_heading"], 2, lang)
    if v["actions"]:
        _para(document, m["actions_intro"], lang)
        _actions_table(document, v)
        if v["any_flagged"]:
            _para(document, m["flagged_note"], lang, italic=True, colour=_GREY)
    else:
        _para(document, m["no_actions"], lang, italic=True)

    _heading(document, m["next_steps_heading"], 2, lang)
    _para(document, m["next_steps"], lang)
    if v["next_steps_extra"]:
        _para(document, v["next_steps_extra"], lang)
    # The sign-off, name and role stay together on one page.
    _para(document, m["sign_off"], lang, space_after=30).paragraph_format.keep_with_next = True
    _para(document, v["chair"], lang, bold=True, space_after=0).paragraph_format.keep_with_next = True
    _para(document, m["signature_role"], lang)


def letter_docx(
    draft: LetterDraft, codebook: Codebook, language: str = "en", catalogue: MessageCatalogue | None = None
) -> bytes:
    """The letter as ``.docx`` bytes (English, Welsh, or bilingual: Welsh then English)."""
    context = letter_context(draft, codebook, language, catalogue)
    document = Document()
    _setup(document)
    document.core_properties.title = context["title"]
    document.core_properties.author = draft.review.chair
    document.core_properties.language = "cy-GB" if context["lang"] == "cy" else "en-GB"
    for i, v in enumerate(context["versions"]):
        if i:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        if context["notice"]:
            notice = _para(document, context["notice"], "cy", bold=True, colour=_NOTICE_COLOUR)
            notice.paragraph_format.space_after = Pt(10)
        _version(document, v)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
