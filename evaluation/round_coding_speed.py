"""Coding the whole sample round (46 clusters x 6 questions) end to end, warm, against a naive loop.

In one process, with the models loaded and the suggester fitted (that is "warm"), each repeat codes
every answer of the sample round into a fresh database and, for the cold-cache figure, a fresh
embedding cache (so every sentence is embedded again):

  A  ``code_round``: de-identify, segment, embed, suggest, map, store -- batched per question
  B  baseline: the same answers one ``service.suggest`` call at a time (no batching), not stored

Medians of the repeats, A and B alternating.

    python -m evaluation.round_coding_speed [--repeats 5] [--out evaluation/results/round_coding_speed.json]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from clwstwr.coding import code_round
from clwstwr.context import AppContext
from clwstwr.importing import import_file
from clwstwr.settings import Settings
from clwstwr.suggesting import TextModels, build_suggestion_service, load_text_models
from corpora.sample_round import SAMPLE_ROUND_NAME, bundled_sample_path
from evaluation.results_file import write_result
from nlp.embeddings import CachedEmbedder, EmbeddingCache
from store import coding
from store.database import transaction

ROOT = Path(__file__).resolve().parents[1]


def fresh_context(models_path: Path) -> AppContext:
    home = Path(tempfile.mkdtemp(prefix="clwstwr-coding-"))
    ctx = AppContext.build(Settings(home=home, models_path=models_path))
    import_file(ctx.sessions, ctx.codebook, bundled_sample_path(), SAMPLE_ROUND_NAME, actor="bench")
    return ctx


def with_fresh_cache(models: TextModels) -> TextModels:
    cache = EmbeddingCache(Path(tempfile.mkdtemp(prefix="clwstwr-emb-")))
    return TextModels(embedder=CachedEmbedder(models.embedder.embedder, cache), spacy_pipeline=models.spacy_pipeline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "round_coding_speed.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="clwstwr-bench-"))
    settings = Settings(home=work)
    models = load_text_models(settings)
    ctx0 = fresh_context(settings.models_dir)
    build_suggestion_service(ctx0.settings, ctx0.codebook, models=models)  # fit once: warm
    with transaction(ctx0.sessions) as session:
        answers = coding.answers_to_code(session, SAMPLE_ROUND_NAME)
    kinds = {q.id: q.kind for q in ctx0.codebook.questions}

    a_cold, a_warm, b_cold = [], [], []
    for _ in range(args.repeats):
        cold = with_fresh_cache(models)
        service = build_suggestion_service(ctx0.settings, ctx0.codebook, models=cold)
        ctx = fresh_context(settings.models_dir)
        t0 = time.perf_counter()
        code_round(ctx, service, SAMPLE_ROUND_NAME, actor="bench")
        a_cold.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        code_round(ctx, service, SAMPLE_ROUND_NAME, actor="bench")
        a_warm.append(time.perf_counter() - t0)
        ctx.close()

        cold_b = with_fresh_cache(models)
        service_b = build_suggestion_service(ctx0.settings, ctx0.codebook, models=cold_b)
        t0 = time.perf_counter()
        for a in answers:
            service_b.suggest(a.text, kinds[a.question_id])
        b_cold.append(time.perf_counter() - t0)

    med = statistics.median
    result = {
        "what": "code every answer of the bundled sample round end to end (warm process)",
        "answers": len(answers),
        "repeats": args.repeats,
        "batched_cold_cache_seconds": round(med(a_cold), 2),
        "batched_warm_cache_seconds": round(med(a_warm), 2),
        "baseline_one_by_one_cold_cache_seconds": round(med(b_cold), 2),
        "speedup_batched_over_baseline": round(med(b / a for a, b in zip(a_cold, b_cold)), 2),
        "all_runs": {"batched_cold": [round(x, 2) for x in a_cold], "batched_warm": [round(x, 2) for x in a_warm],
                     "baseline_cold": [round(x, 2) for x in b_cold]},
        "target_seconds": 5,
        "embedder": models.embedder.identity,
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()
