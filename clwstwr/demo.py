"""The demo: the main job end to end on the bundled sample round, on the embedded defaults.

Import the sample round (a no-op when already stored), code every answer with the suggester, write
the all-Wales report (HTML, Word, PDF) with ``summary.json`` and the coded responses, and draft one
outcome letter from the bundled sample peer-review notes in English, Welsh and bilingual, each as
HTML, Word and PDF.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path

from corpora.sample_round import SAMPLE_ROUND_NAME, bundled_sample_path, load_clusters
from letters.peer_review_files import read_peer_review
from nlp.segmentation import make_sentencizer
from store import coding
from store.database import transaction

from .coded_export import write_coded_responses
from .coding import code_round
from .context import AppContext
from .importing import import_file
from .letter_job import SAMPLE_REVIEW, letter_files, write_letter
from .reporting import write_round_report
from .suggesting import TextModels, build_suggestion_service, load_text_models

LETTER_LANGUAGES = ("en", "cy", "bilingual")


def run_demo(
    ctx: AppContext,
    out_dir: Path,
    *,
    text_models: TextModels | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Path]:
    sample = bundled_sample_path()
    progress(f"importing the sample round from {sample.name}")
    actor = getpass.getuser()
    result = import_file(ctx.sessions, ctx.codebook, sample, SAMPLE_ROUND_NAME, actor=actor, progress=progress)
    if result.already_imported:
        progress("sample round already stored; reusing it")
    progress("loading the text models")
    models = text_models or load_text_models(ctx.settings)
    service = build_suggestion_service(ctx.settings, ctx.codebook, models=models, progress=progress)
    places = tuple(p for c in load_clusters() for p in c.places)
    run = code_round(ctx, service, SAMPLE_ROUND_NAME, actor=actor, extra_places=places, progress=progress)
    progress(f"coded {run.answers} answers")
    progress("writing the report")
    files = write_round_report(ctx, SAMPLE_ROUND_NAME, out_dir, text_models=models, mapper=service.mapper, progress=progress)
    with transaction(ctx.sessions) as session:
        answers = coding.coded_answers(session, run.run_id)
    boards = {b.id: b.short_name for b in ctx.codebook.health_boards}
    csv_path, jsonl_path = write_coded_responses(answers, boards, out_dir)
    progress("drafting the outcome letter from the sample peer-review notes")
    review = read_peer_review(SAMPLE_REVIEW, ctx.codebook)
    letters = write_letter(
        review, out_dir, ctx.codebook, ctx.templates, make_sentencizer(), service, languages=LETTER_LANGUAGES
    )
    return {
        **files.written(),
        "coded responses": csv_path,
        "coded responses (json)": jsonl_path,
        **letter_files(letters),
    }
