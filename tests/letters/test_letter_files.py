"""Peer-review records and notes as people hand them over, and the clear refusals when they can't be used."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import docx
import pytest

from corpora.codebook import Codebook
from letters.letter_model import PeerReviewError
from letters.peer_review_files import read_notes, read_peer_review

SAMPLE = Path(__file__).resolve().parents[2] / "corpora" / "sample"

RECORD = """cluster: Teifi Valley
health_board: Hywel Dda UHB
review_date: 2025-05-20
chair: Mair Jones
sppc_representative: Dewi Evans
reviewing: Gower Peninsula cluster
attendees: [Cluster lead, Locality manager]
"""


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("Peer review notes", level=1)
    document.add_heading("PCMW 9: Integrated care", level=2)
    document.add_paragraph("The frailty team in Cardigan works well with social care.")
    document.add_paragraph("Review the falls pathway by Q2 2025/26.", style="List Bullet")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Action", "Lead"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_letter_files_notes_from_txt_md_and_docx() -> None:
    assert read_notes("notes.txt", "Line one.\r\nLlŷn line two.\r\n".encode()) == "Line one.\nLlŷn line two."
    assert read_notes("NOTES.MD", "\ufeff## PCMW 2\n- Point".encode()) == "## PCMW 2\n- Point"
    assert read_notes("notes.txt", "Tŷ Nefyn".encode("utf-16")) == "Tŷ Nefyn"
    text = read_notes("notes.docx", _docx_bytes())
    assert text.splitlines() == [
        "# Peer review notes", "## PCMW 9: Integrated care",
        "The frailty team in Cardigan works well with social care.", "- Review the falls pathway by Q2 2025/26.",
        "Action | Lead",
    ]


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("notes.pdf", b"%PDF-1.7", r"notes file 'notes.pdf': \.pdf is not accepted; save the notes as \.txt, \.md, \.docx"),
        ("notes.doc", b"\xd0\xcf\x11\xe0", r"\.doc is not accepted"),
        ("notes", b"text", r"no extension is not accepted"),
        ("notes.txt", b"caf\xe9 notes", r"'notes.txt' is not UTF-8 text \(undecodable byte at position 3\)"),
        ("notes.txt", b"  \n\t\n", r"'notes.txt' is empty"),
        ("notes.md", b"abc\x00def", r"binary data"),
        ("notes.docx", b"not a zip at all", r"'notes.docx' is not a Word \(.docx\) document"),
    ],
)
def test_letter_files_bad_notes_are_refused_naming_the_file(filename: str, content: bytes, message: str) -> None:
    with pytest.raises(PeerReviewError, match=message) as caught:
        read_notes(filename, content)
    assert caught.value.code == "CW600"


def test_letter_files_sample_review_reads_with_its_notes_file(codebook: Codebook) -> None:
    review = read_peer_review(SAMPLE / "peer_review.yaml", codebook)
    assert review.cluster == "Dwyfor Llŷn" and review.health_board == "bcuhb"
    assert review.outcomes == ("pcmw-2", "pcmw-12", "acd-3")  # Appendix B for Betsi Cadwaladr
    assert review.review_date == date(2025, 3, 14)
    assert review.notes.startswith("# Dwyfor Llŷn cluster peer review") and "Tŷ Nefyn" in review.notes
    assert 500 <= len(review.notes.split()) <= 800


def test_letter_files_inline_notes_board_alias_and_appendix_b_outcomes(tmp_path: Path, codebook: Codebook) -> None:
    path = tmp_path / "review.yaml"
    path.write_text(RECORD + "notes: |\n  ## PCMW 5\n  - Seamless working is improving.\n", encoding="utf-8")
    review = read_peer_review(path, codebook)
    assert review.health_board == "hduhb"
    assert review.outcomes == ("pcmw-5", "pcmw-9", "acd-1")
    assert review.notes == "## PCMW 5\n- Seamless working is improving."


def test_letter_files_json_record_with_docx_notes_and_outcomes_as_written(tmp_path: Path, codebook: Codebook) -> None:
    (tmp_path / "notes.docx").write_bytes(_docx_bytes())
    record = {"cluster": "Teifi Valley", "health_board": "hduhb", "review_date": "2025-05-20", "chair": "Mair Jones",
              "sppc_representative": "Dewi Evans", "reviewing": "Gower Peninsula", "outcomes": ["PCMW 9", "pcmw 5", "ACD 1"],
              "notes_file": "notes.docx"}
    (tmp_path / "review.json").write_text(json.dumps(record), encoding="utf-8")
    review = read_peer_review(tmp_path / "review.json", codebook)
    assert review.outcomes == ("pcmw-9", "pcmw-5", "acd-1")
    assert "## PCMW 9: Integrated care" in review.notes


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("review.yaml", RECORD.replace("chair: Mair Jones\n", "") + "notes: x y z\n", r"review.yaml: missing field 'chair'"),
        ("review.yaml", RECORD.replace("2025-05-20", "20/05/2025") + "notes: x\n", r"'review_date' must be a date like 2025-03-14"),
        ("review.yaml", RECORD.replace("Hywel Dda UHB", "Gwynedd") + "notes: x\n", r"field 'health_board': 'Gwynedd' is not a Welsh health board; expected one of abuhb"),
        ("review.yaml", RECORD + "outcomes: [pcmw-1, pcmw-14, acd-2]\nnotes: x\n", r"'pcmw-14' is not an outcome id"),
        ("review.yaml", RECORD + "notes_file: missing.md\n", r"field 'notes_file': .*missing.md does not exist"),
        ("review.yaml", RECORD + "notes: inline\nnotes_file: notes.md\n", r"either inline \('notes'\) or as 'notes_file', not both"),
        ("review.yaml", "cluster: [unclosed\n", r"'review.yaml' is not valid YAML at line 2"),
        ("review.yaml", "- just\n- a list\n", r"expected a mapping of fields"),
        ("review.json", "{\"cluster\": ", r"'review.json' is not valid JSON"),
        ("review.csv", "cluster,board\n", r"expected a .yaml, .yml, .json record"),
    ],
)
def test_letter_files_bad_records_name_the_field(tmp_path: Path, codebook: Codebook, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PeerReviewError, match=message):
        read_peer_review(path, codebook)


def test_letter_files_missing_record_is_named(tmp_path: Path) -> None:
    with pytest.raises(PeerReviewError, match="peer review file not found: .*nowhere.yaml"):
        read_peer_review(tmp_path / "nowhere.yaml")
