"""The demo: the main job end to end on the bundled sample round, on the embedded defaults.

Import the sample round (a no-op when already stored), code every answer with the suggester, and
write the report, ``summary.json`` and the coded responses.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path

from corpora.sample_round import SAMPLE_ROUND_NAME, bundled_sample_path, load_clusters
from store import coding
from store.database import transaction

from .coded_export import write_coded_responses
from .coding import code_round
from .context import AppContext
from .importing import import_file
from .reporting import write_round_report
from .suggesting import TextModels, build_suggestion_service


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
    service = build_suggestion_service(ctx.settings, ctx.codebook, models=text_models, progress=progress)
    places = tuple(p for c in load_clusters() for p in c.places)
    run = code_round(ctx, service, SAMPLE_ROUND_NAME, actor=actor, extra_places=places, progress=progress)
    progress(f"coded {run.answers} answers")
    progress("writing the report")
    files = write_round_report(ctx, SAMPLE_ROUND_NAME, out_dir)
    with transaction(ctx.sessions) as session:
        answers = coding.coded_answers(session, run.run_id)
    boards = {b.id: b.short_name for b in ctx.codebook.health_boards}
    csv_path, jsonl_path = write_coded_responses(answers, boards, out_dir)
    return {"report": files.html, "summary": files.summary_json, "coded responses": csv_path, "coded responses (json)": jsonl_path}
