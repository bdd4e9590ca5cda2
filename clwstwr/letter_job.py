"""Write a peer review's outcome letter: draft it from the notes, render each language and format.

The CLI (``clwstwr letter``) and the demo call ``write_letter``; the API drafts and renders through the
same ``letters`` functions. The draft itself is written too (``outcome_letter.draft.json``) when asked,
so what the machine drafted can be kept beside what was sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment
from spacy.language import Language

from corpora.codebook import Codebook
from letters.letter_docx import letter_docx
from letters.letter_drafting import draft_letter
from letters.letter_model import LANGUAGES, LetterDraft, PeerReview, PeerReviewError
from letters.letter_rendering import render_letter_html, render_letter_text
from letters.message_catalogue import MessageCatalogue
from letters.pdf_export import html_to_pdf
from nlp.suggestion_service import SuggestionService

__all__ = ["FORMATS", "SAMPLE_REVIEW", "letter_files", "write_letter", "write_letter_files"]

FORMATS = ("html", "docx", "pdf", "txt", "json")
SAMPLE_REVIEW = Path(__file__).resolve().parents[1] / "corpora" / "sample" / "peer_review.yaml"
STEM = "outcome_letter"


def _check(languages: Sequence[str], formats: Sequence[str]) -> None:
    for language in languages:
        if language not in LANGUAGES:
            raise PeerReviewError(f"letter language {language!r} is not one of {', '.join(LANGUAGES)}")
    for fmt in formats:
        if fmt not in FORMATS:
            raise PeerReviewError(f"letter format {fmt!r} is not one of {', '.join(FORMATS)}")
    if not languages or not formats:
        raise PeerReviewError("a letter needs at least one language and one format")


def write_letter_files(
    draft: LetterDraft,
    out_dir: Path,
    codebook: Codebook,
    env: Environment,
    *,
    languages: Sequence[str] = ("en",),
    formats: Sequence[str] = ("html", "docx", "pdf"),
    catalogue: MessageCatalogue | None = None,
) -> list[Path]:
    """Render an existing draft (e.g. one a chair edited) into ``out_dir``; returns the files written.

    Names are ``outcome_letter.<language>.<format>``; the PDF is printed from the same HTML.
    """
    _check(languages, formats)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if "json" in formats:
        path = out_dir / f"{STEM}.draft.json"
        path.write_text(json.dumps(draft.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    for language in dict.fromkeys(languages):
        html = render_letter_html(draft, codebook, env, language, catalogue) if {"html", "pdf"} & set(formats) else ""
        for fmt in dict.fromkeys(formats):
            path = out_dir / f"{STEM}.{language}.{fmt}"
            if fmt == "html":
                path.write_text(html, encoding="utf-8")
            elif fmt == "txt":
                path.write_text(render_letter_text(draft, codebook, language, catalogue), encoding="utf-8")
            elif fmt == "docx":
                path.write_bytes(letter_docx(draft, codebook, language, catalogue))
            elif fmt == "pdf":
                html_to_pdf(html, path)
            else:
                continue
            written.append(path)
    return written


def write_letter(
    review: PeerReview,
    out_dir: Path,
    codebook: Codebook,
    env: Environment,
    nlp: Language,
    suggestions: SuggestionService | None,
    languages: Sequence[str] = ("en",),
    formats: Sequence[str] = ("html", "docx", "pdf"),
    catalogue: MessageCatalogue | None = None,
) -> list[Path]:
    """Draft the letter from the review's notes and write it in each language and format.

    ``suggestions`` adds theme tags to challenges and places sentences outside an outcome's section;
    without it the draft follows the notes' headings only.
    """
    _check(languages, formats)
    draft = draft_letter(review, codebook, nlp, suggestions)
    return write_letter_files(draft, out_dir, codebook, env, languages=languages, formats=formats, catalogue=catalogue)


def letter_files(paths: Sequence[Path]) -> dict[str, Path]:
    """Labels for printing what was written (``letter (en, pdf)`` -> path), as the demo lists files."""
    out: dict[str, Path] = {}
    for path in paths:
        parts = path.name.split(".")
        out[f"letter ({', '.join(parts[1:])})"] = path
    return out
