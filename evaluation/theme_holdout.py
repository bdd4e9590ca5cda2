"""Theme suggestion quality on answers the suggester never saw: the held-out set.

``evaluation/data/holdout_answers.yaml`` was written independently of all training data (other voices,
contrasts, Welsh, non-answers) and is never used for fitting. Reported for the bundled suggester (fitted
on the codebook examples and the bundled training answers) and for the day-one suggester (codebook
examples only):

- top-1 precision: of the answers a reviewer coded with at least one theme, the share whose first
  suggested theme is one of the reviewer's (the product's bar: at least 18 of every 20, 0.90);
- fits-none accuracy on answers coded with no theme;
- micro/macro F1 of the suggested sets, per-theme F1; a bootstrap 95% interval for top-1 precision;
- the same for the bundled suggester given no question (``bundled_without_question``), as
  ``clwstwr suggest`` without ``--kind`` ranks the themes of all six questions together.

    python -m evaluation.theme_holdout [--out evaluation/results/theme_holdout.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import yaml

from clwstwr.settings import Settings
from clwstwr.suggesting import bundled_labelled, load_text_models
from corpora.codebook import load_codebook
from nlp.theme_suggester import LabelledAnswer, ThemeSuggester

ROOT = Path(__file__).resolve().parents[1]
HOLDOUT = ROOT / "evaluation" / "data" / "holdout_answers.yaml"


def load_holdout() -> list[LabelledAnswer]:
    doc = yaml.safe_load(HOLDOUT.read_text(encoding="utf-8"))
    return [LabelledAnswer(str(a["text"] or ""), a["question"], tuple(a["themes"] or ()), a["id"]) for a in doc["answers"]]


def score(suggester: ThemeSuggester, answers: list[LabelledAnswer], seed: int = 0) -> dict[str, object]:
    results = suggester.score([a.text for a in answers], [a.question_id for a in answers])
    hits: list[int] = []
    none_right = none_total = 0
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    misses = []
    for a, r in zip(answers, results):
        gold = set(a.themes)
        pred = [s.theme_id for s in r.suggested]
        for t in set(pred) | gold:
            tp[t] += int(t in gold and t in pred)
            fp[t] += int(t in pred and t not in gold)
            fn[t] += int(t in gold and t not in pred)
        if gold:
            hit = int(bool(pred) and pred[0] in gold)
            hits.append(hit)
            if not hit:
                misses.append({"id": a.source, "gold": list(a.themes), "suggested": pred[:3]})
        else:
            none_total += 1
            none_right += int(not pred)
    rng = random.Random(seed)
    boot = sorted(sum(rng.choice(hits) for _ in hits) / len(hits) for _ in range(2000))
    f1 = {t: (2 * tp[t] / (2 * tp[t] + fp[t] + fn[t]) if tp[t] + fp[t] + fn[t] else 0.0) for t in sorted(tp | fp | fn)}
    micro = 2 * sum(tp.values()) / (2 * sum(tp.values()) + sum(fp.values()) + sum(fn.values()))
    return {
        "top1_precision": round(sum(hits) / len(hits), 4),
        "top1_hits": f"{sum(hits)} of {len(hits)}",
        "top1_precision_ci95": [round(boot[50], 4), round(boot[1949], 4)],
        "fits_none_accuracy": f"{none_right} of {none_total}",
        "micro_f1": round(micro, 4),
        "macro_f1": round(sum(f1.values()) / len(f1), 4),
        "per_theme_f1": {k: round(v, 4) for k, v in f1.items()},
        "top1_misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "theme_holdout.json")
    args = parser.parse_args()
    codebook = load_codebook()
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="clwstwr-holdout-")))
    embedder = load_text_models(settings).embedder
    holdout = load_holdout()
    labelled = bundled_labelled(codebook)
    bundled = ThemeSuggester(codebook, embedder, seed=0).fit(labelled)
    day_one = ThemeSuggester(codebook, embedder, seed=0).fit([])
    result = {
        "holdout": {"file": str(HOLDOUT.relative_to(ROOT)), "answers": len(holdout)},
        "bundled": {"training_answers": len(labelled), "fit": bundled.metrics_, **score(bundled, holdout)},
        "codebook_only": {"fit": day_one.metrics_, **score(day_one, holdout)},
        # `clwstwr suggest` without --kind ranks the themes of all six questions together
        "bundled_without_question": score(bundled, [replace(a, question_id=None) for a in holdout]),
        "target_top1_precision": 0.90,
        "codebook_version": codebook.version,
        "embedder": embedder.identity,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name in ("bundled", "codebook_only", "bundled_without_question"):
        r = result[name]
        print(f"{name}: top-1 {r['top1_hits']} = {r['top1_precision']} (95% CI {r['top1_precision_ci95']}); "
              f"fits-none {r['fits_none_accuracy']}; micro-F1 {r['micro_f1']}")


if __name__ == "__main__":
    main()
