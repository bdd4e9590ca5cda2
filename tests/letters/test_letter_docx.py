"""The Word letter, opened as Word would open it: headings, a real actions table, flagged blanks, Welsh."""

from __future__ import annotations

import io

import docx
from docx.enum.text import WD_COLOR_INDEX

from corpora.codebook import Codebook
from letters.letter_docx import letter_docx

from .test_letter_rendering import fixed_draft


def _open(data: bytes):
    return docx.Document(io.BytesIO(data))


def _text(document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


def _actions_table(document):
    tables = [t for t in document.tables if t.rows[0].cells[0].text in ("Outcome", "Canlyniad")]
    assert len(tables) == 1
    return tables[0]


def test_letter_docx_actions_are_the_rows_of_a_real_table_with_a_repeating_header(codebook: Codebook) -> None:
    draft = fixed_draft()
    document = _open(letter_docx(draft, codebook))
    table = _actions_table(document)
    header = [c.text for c in table.rows[0].cells]
    assert header == ["Outcome", "Action", "Lead", "Timescale"]
    assert table.rows[0]._tr.trPr.xpath("./w:tblHeader")  # repeats on every page
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert rows == [
        ["PCMW 7", "PTHB to review the weekend rota by March 2026.", "PTHB", "by March 2026"],
        ["ACD 6", "Develop a joint induction pack for new staff.", "to be agreed", "to be agreed"],
    ]
    flagged = table.rows[2].cells[2].paragraphs[0].runs[0]
    assert flagged.font.highlight_color == WD_COLOR_INDEX.YELLOW
    assert table.rows[1].cells[2].paragraphs[0].runs[0].font.highlight_color is None
    assert len(table.rows) - 1 == len(draft.actions)


def test_letter_docx_reads_as_a_letter_with_the_same_content_as_the_html(codebook: Codebook) -> None:
    document = _open(letter_docx(fixed_draft(), codebook))
    text = _text(document)
    lines = text.splitlines()
    assert lines[0] == "Powys Teaching Health Board"
    assert lines[1] == "Copied to: Powys Regional Partnership Board; Strategic Programme for Primary Care (SPPC)"
    assert lines[2] == "Date: to be added when the letter is sent"
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == ["Cluster peer review of Mid Powys Wye, 5 June 2025", "Purpose of the review", "The review"]
    assert "PCMW 7: Quality out-of-hours care" in headings and "Agreed actions" in headings and "Next steps" in headings
    assert "There was concern that the weekend rota depends on two locum GPs. (Themes: Funding)" in lines
    assert "The notes record no good practice or challenges under this outcome." in lines  # PCMW 6: nothing heard
    assert lines[-3:] == ["Yours sincerely,", "Dr Eleri Rhys", "Independent chair, cluster peer review"]
    details = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert details["Reviewing cluster"] == "Gower Peninsula cluster" and details["Date of the review"] == "5 June 2025"
    assert "{" not in text and "}" not in text


def test_letter_docx_welsh_and_bilingual_carry_the_notice_and_correct_diacritics(codebook: Codebook) -> None:
    welsh = _open(letter_docx(fixed_draft(), codebook, "cy"))
    text = _text(welsh)
    assert text.splitlines()[0].startswith("Cyfieithiad drafft — nid yw wedi'i gymeradwyo gan gyfieithydd eto. / Draft translation")
    for word in ("Bwrdd Iechyd Addysgu Powys", "grŵp", "â'r", "Annwyl gydweithwyr,", "Yn gywir,", "Themâu"):
        assert word in text, word
    assert [c.text for c in _actions_table(welsh).rows[0].cells] == ["Canlyniad", "Cam gweithredu", "Arweinydd", "Amserlen"]
    assert welsh.paragraphs[3].runs[0]._r.xpath("./w:rPr/w:lang/@w:val") == ["cy-GB"]

    both = _open(letter_docx(fixed_draft(), codebook, "bilingual"))
    text = _text(both)
    assert text.index("Annwyl gydweithwyr,") < text.index("Dear colleagues,")  # Welsh first, then English
    assert text.count("Cyfieithiad drafft") == 2  # the notice heads both versions
    assert len(both.tables) == 4  # details and actions, in each language
    english = _open(letter_docx(fixed_draft(), codebook, "en"))
    assert "Cyfieithiad" not in _text(english)
