"""`clwstwr letter` and `write_letter` as the chair and the demo use them: files written in every
format, readable, and a bad review refused with a clear message and exit status 2."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from clwstwr.cli import main
from clwstwr.letter_job import SAMPLE_REVIEW, write_letter, write_letter_files
from corpora.codebook import Codebook
from letters.letter_drafting import draft_letter
from letters.letter_model import LetterDraft, PeerReviewError
from letters.peer_review_files import read_peer_review
from letters.rendering import make_environment
from nlp.segmentation import make_sentencizer


def _run(home: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), "letter", *args])


def test_letter_cli_writes_html_docx_and_pdf(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run(tmp_path / "home", "--review", str(SAMPLE_REVIEW), "--out", str(out), "--no-models")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["outcome_letter.en.docx", "outcome_letter.en.html", "outcome_letter.en.pdf"]
    assert f"written: {out / 'outcome_letter.en.pdf'}" in result.output
    page = (out / "outcome_letter.en.html").read_text(encoding="utf-8")
    assert "Cluster peer review of Dwyfor Llŷn, 14 March 2025" in page and "{{" not in page
    assert [c.text for c in docx.Document(str(out / "outcome_letter.en.docx")).tables[1].rows[0].cells][:2] == ["Outcome", "Action"]
    pdf = out / "outcome_letter.en.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "Dwyfor Llŷn" in text and "to be agreed" in text and "Yours sincerely," in text


def test_letter_cli_welsh_and_bilingual_text_and_draft_json(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run(tmp_path / "home", "--review", str(SAMPLE_REVIEW), "--out", str(out), "--no-models",
                  "--language", "cy", "--language", "bilingual", "--format", "txt", "--format", "json")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "outcome_letter.bilingual.txt", "outcome_letter.cy.txt", "outcome_letter.draft.json"]
    welsh = (out / "outcome_letter.cy.txt").read_text(encoding="utf-8")
    assert welsh.startswith("Cyfieithiad drafft") and "Adolygiad gan gymheiriaid o glwstwr Dwyfor Llŷn, 14 Mawrth 2025" in welsh
    draft = LetterDraft.from_dict(json.loads((out / "outcome_letter.draft.json").read_text(encoding="utf-8")))
    assert draft.review.cluster == "Dwyfor Llŷn" and len(draft.actions) == 10


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("cluster: X\nhealth_board: pthb\n", "error [CW600]: review.yaml: missing field 'review_date'"),
        ("cluster: X\nhealth_board: pthb\nreview_date: 2025-01-01\nchair: A\nsppc_representative: B\n"
         "reviewing: C\nnotes_file: notes.pdf\n", "error [CW600]: notes file 'notes.pdf': .pdf is not accepted"),
    ],
)
def test_letter_cli_bad_review_is_refused_with_code_and_exit_2(tmp_path: Path, record: str, message: str) -> None:
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.7")
    (tmp_path / "review.yaml").write_text(record, encoding="utf-8")
    result = _run(tmp_path / "home", "--review", str(tmp_path / "review.yaml"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_letter_cli_help_names_the_options(tmp_path: Path) -> None:
    result = _run(tmp_path / "home", "--help")
    assert result.exit_code == 0
    for option in ("--review", "--out", "--language", "--format", "[en|cy|bilingual]", "[html|docx|pdf|txt|json]"):
        assert option in result.output


def test_letter_job_refuses_unknown_formats_and_languages(tmp_path: Path, codebook: Codebook) -> None:
    draft = draft_letter(read_peer_review(SAMPLE_REVIEW, codebook), codebook, make_sentencizer())
    with pytest.raises(PeerReviewError, match="letter format 'odt' is not one of html, docx, pdf, txt, json"):
        write_letter_files(draft, tmp_path, codebook, make_environment(), formats=("odt",))
    with pytest.raises(PeerReviewError, match="letter language 'fr'"):
        write_letter_files(draft, tmp_path, codebook, make_environment(), languages=("fr",))


@pytest.mark.slow
def test_letter_job_with_the_real_models_writes_every_language(
    tmp_path: Path, codebook: Codebook, suggestion_service, models_home: Path
) -> None:
    review = read_peer_review(SAMPLE_REVIEW, codebook)
    paths = write_letter(review, tmp_path / "out", codebook, make_environment(), make_sentencizer(), suggestion_service,
                         languages=("en", "cy", "bilingual"), formats=("html", "docx"))
    assert [p.name for p in paths] == [f"outcome_letter.{lang}.{fmt}" for lang in ("en", "cy", "bilingual") for fmt in ("html", "docx")]
    welsh = (tmp_path / "out" / "outcome_letter.cy.html").read_text(encoding="utf-8")
    assert "Themâu:" in welsh  # challenges carry their theme labels, in Welsh
    # The command line loads the same fitted models from the data directory.
    result = _run(models_home, "--review", str(SAMPLE_REVIEW), "--out", str(tmp_path / "cli"), "--format", "html")
    assert result.exit_code == 0, result.output
    assert "Themes:" in (tmp_path / "cli" / "outcome_letter.en.html").read_text(encoding="utf-8")
