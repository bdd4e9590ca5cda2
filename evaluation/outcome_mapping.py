"""Outcome mapping checked on sentences whose outcomes a reviewer wrote down.

``evaluation/data/outcome_mapping_labelled.yaml``: each sentence with its outcome ids (first =
primary). Reports top-1 (the mapper's first outcome is one of them) and top-3 hit rates, and how many
sentences the mapper leaves unmapped at its default cut-off.

    python -m evaluation.outcome_mapping [--out evaluation/results/outcome_mapping.json]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import yaml

from clwstwr.settings import Settings
from clwstwr.suggesting import load_text_models
from corpora.codebook import load_codebook
from evaluation.results_file import write_result
from nlp.outcome_mapping import OutcomeMapper

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "evaluation" / "data" / "outcome_mapping_labelled.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "outcome_mapping.json")
    args = parser.parse_args()
    codebook = load_codebook()
    embedder = load_text_models(Settings(home=Path(tempfile.mkdtemp()))).embedder
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))["sentences"]
    texts = [d["text"] for d in data]
    ranked = OutcomeMapper(codebook, embedder, min_score=0.0, relative_margin=1.0).fit().map_texts(texts)
    default = OutcomeMapper(codebook, embedder).fit().map_texts(texts)
    top1 = sum(1 for d, (o, _h) in zip(data, ranked) if o and o[0].id in d["outcomes"])
    top3 = sum(1 for d, (o, _h) in zip(data, ranked) if any(x.id in d["outcomes"] for x in o[:3]))
    shown_right = sum(1 for d, (o, _h) in zip(data, default) if o and o[0].id in d["outcomes"])
    unmapped = sum(1 for _d, (o, _h) in zip(data, default) if not o)
    wrong_shown = sum(1 for d, (o, _h) in zip(data, default) for x in o if x.id not in d["outcomes"])
    result = {
        "sentences": len(data),
        "top1_hit_rate": round(top1 / len(data), 4),
        "top3_hit_rate": round(top3 / len(data), 4),
        "default_cutoff": {"first_shown_is_right": shown_right, "unmapped": unmapped, "wrong_outcomes_shown": wrong_shown},
        "note": "the mapper's weights and cut-offs were chosen looking at these same sentences: optimistic",
        "embedder": embedder.identity,
    }
    write_result(args.out, result)


if __name__ == "__main__":
    main()
