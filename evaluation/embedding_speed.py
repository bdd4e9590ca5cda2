"""Embedding throughput: our ``Embedder`` against plain ``SentenceTransformer.encode``, same process.

    python -m evaluation.embedding_speed [--repeats 7] [--out evaluation/results/embedding_speed.json]
                                         [--backend auto] [--also bf16 torch]

The texts are ``evaluation/data/embedding_speed_answers.jsonl``: 300 answer-like texts composed from
hand-written sentences in the voice of Welsh primary care cluster self-reflection returns (English and
Welsh, from "N/A" to ~190 words; no external data). Each repeat times the baseline (fp32,
``batch_size=32``) and then our fast path back to back (A B A B ...), so machine load hits both alike;
the reported speed-up is the median of the per-repeat ratios, the times are medians. On a shared
machine read ``load_average`` in the output before comparing runs.

Also measured: min/mean cosine of our vectors to the baseline's over every text; warm single-text
latency (p50/p99, and CPU time) of a 40-word answer (``SINGLE_TEXT``), the API's path; a cold then
warm run through the on-disk cache (the warm run must be all hits and return identical vectors).
``--also`` times extra backends in the same interleaving, to show why the default is the default.

Result of record (2026-11-22, 2 shared AMD EPYC cores, load average ~5): onnx 2.35x baseline, min
cosine 0.9999999; bf16 1.56x (min cosine 0.99982); our torch fp32 with length-bucketed batches 1.16x.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from models.embedding_model import bundled_model_path
from nlp.embeddings import CachedEmbedder, EmbeddingCache, Embedder, load_embedder

DATA = Path(__file__).parent / "data" / "embedding_speed_answers.jsonl"
DEFAULT_OUT = Path(__file__).parent / "results" / "embedding_speed.json"
DEFAULT_CACHE = Path(__file__).parent / ".cache" / "embedding_speed"  # git-ignored; holds the ONNX export
BASELINE_BATCH_SIZE = 32
SINGLE_TEXT_CALLS = 200
#: The API's typical request: one 40-word answer (~50 tokens).
SINGLE_TEXT = (
    "Time is the main barrier because the GPs are running full clinics and cannot step away, "
    "so practice managers attend the cluster meetings instead, and funding for the wellbeing "
    "coordinator ends in March with no decision yet on its renewal."
)


def load_texts(path: Path = DATA) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _latency_ms(fn: Callable[[], object], calls: int = SINGLE_TEXT_CALLS, warmup: int = 20) -> dict[str, float]:
    """Wall-clock p50/p99 per call, plus the process CPU time per call (all threads): on a busy shared
    machine wall time mostly measures waiting for a core, CPU time what the call itself costs."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(calls):
        c0 = time.process_time()
        seconds, _ = _timed(fn)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append(seconds * 1000)
    return {
        "p50_ms": round(float(np.percentile(wall, 50)), 2),
        "p99_ms": round(float(np.percentile(wall, 99)), 2),
        "cpu_ms_p50": round(float(np.percentile(cpu, 50)), 2),
        "calls": calls,
    }


def _cosines(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    ours = ours / np.linalg.norm(ours, axis=1, keepdims=True)
    ref = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    return np.sum(ours * ref, axis=1)


def run(repeats: int, backend: str, also: list[str], cache_dir: Path) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: we load from a path anyway
    from sentence_transformers import SentenceTransformer

    texts = load_texts()
    load_before = os.getloadavg()
    baseline = SentenceTransformer(str(bundled_model_path()), device="cpu")
    load_s, fast = _timed(lambda: load_embedder(backend=backend, cache_dir=cache_dir))  # type: ignore[arg-type]
    assert isinstance(fast, Embedder)
    others = {name: load_embedder(backend=name, cache_dir=cache_dir) for name in also}  # type: ignore[arg-type]

    tokens = sum(fast.token_counts(texts))  # real tokens, truncated as the model sees them

    def base_fn() -> np.ndarray:
        return baseline.encode(texts, batch_size=BASELINE_BATCH_SIZE, convert_to_numpy=True, show_progress_bar=False)

    runners: dict[str, Callable[[], np.ndarray]] = {"baseline": base_fn, "fast": lambda: fast.encode(texts)}
    runners.update({f"also:{k}": (lambda e=e: e.encode(texts)) for k, e in others.items()})
    outputs = {name: fn() for name, fn in runners.items()}  # warm-up, untimed
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, fn in runners.items():  # A B A B ...: both see the same machine load
            seconds, outputs[name] = _timed(fn)
            times[name].append(seconds)

    reference = np.asarray(outputs["baseline"], dtype=np.float32)

    def summary(name: str) -> dict:
        med = statistics.median(times[name])
        cos = _cosines(np.asarray(outputs[name], dtype=np.float32), reference)
        ratios = [b / t for b, t in zip(times["baseline"], times[name])]
        return {
            "seconds_median": round(med, 3),
            "seconds_all": [round(t, 3) for t in times[name]],
            "texts_per_s": round(len(texts) / med, 1),
            "tokens_per_s": round(tokens / med, 1),
            "speedup_vs_baseline_median_of_pairs": round(statistics.median(ratios), 3),
            "min_cosine_vs_baseline": round(float(cos.min()), 7),
            "mean_cosine_vs_baseline": round(float(cos.mean()), 7),
            "texts_below_0_999": int((cos < 0.999).sum()),
        }

    one = SINGLE_TEXT
    latency = {
        "text_words": len(one.split()),
        "text_tokens": fast.token_counts([one])[0],
        "fast": _latency_ms(lambda: fast.encode_one(one)),
        "baseline": _latency_ms(
            lambda: baseline.encode([one], convert_to_numpy=True, show_progress_bar=False), calls=50
        ),
    }

    with tempfile.TemporaryDirectory() as tmp:
        with EmbeddingCache(tmp) as cache:
            cached = CachedEmbedder(fast, cache)
            cold_s, cold = _timed(lambda: cached.encode(texts))
            misses_cold = cached.misses
            warm_s, warm = _timed(lambda: cached.encode(texts))
            hits_warm, misses_warm = cached.hits, cached.misses - misses_cold
            single_hit = _latency_ms(lambda: cached.encode_one(texts[0]), calls=100)
        cache_result = {
            "distinct_texts": len(set(texts)),
            "cold_seconds": round(cold_s, 3),
            "cold_misses": misses_cold,
            "warm_seconds": round(warm_s, 4),
            "warm_hits": hits_warm,
            "warm_misses": misses_warm,
            "warm_identical_to_cold": bool(np.array_equal(cold, warm)),
            "single_text_hit": single_hit,
        }

    import torch

    try:
        import onnxruntime

        ort_version = onnxruntime.__version__
    except ImportError:
        ort_version = None
    return {
        "benchmark": "embedding_speed",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": f"python -m evaluation.embedding_speed --repeats {repeats} --backend {backend}"
        + (f" --also {' '.join(also)}" if also else ""),
        "machine": {
            "cpu_count": os.cpu_count(),
            "cpu": _cpu_model(),
            "platform": platform.platform(),
            "load_average_start": [round(x, 2) for x in load_before],
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "onnxruntime": ort_version,
        },
        "data": {"file": str(DATA.relative_to(Path(__file__).parent.parent)), "texts": len(texts), "tokens": tokens},
        "repeats": repeats,
        "baseline": {
            "what": f"SentenceTransformer.encode fp32 batch_size={BASELINE_BATCH_SIZE}", **summary("baseline")
        },
        "fast": {
            "backend": fast.backend,
            "identity": fast.identity,
            "token_budget": fast.token_budget,
            "load_seconds": round(load_s, 2),
            **summary("fast"),
        },
        "also": {name: {"identity": e.identity, **summary(f"also:{name}")} for name, e in others.items()},
        "single_text_latency_warm": latency,
        "cache": cache_result,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--backend", default="auto", choices=["auto", "onnx", "bf16", "torch"])
    parser.add_argument("--also", nargs="*", default=[], choices=["onnx", "bf16", "torch"],
                        help="extra backends to time in the same interleaving")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="where the ONNX export is kept")
    args = parser.parse_args(argv)
    result = run(args.repeats, args.backend, args.also, args.cache_dir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    fast, base = result["fast"], result["baseline"]
    lat = result["single_text_latency_warm"]["fast"]
    print(
        f"{fast['identity']}: {fast['speedup_vs_baseline_median_of_pairs']}x baseline "
        f"({fast['tokens_per_s']} vs {base['tokens_per_s']} tokens/s), min cosine {fast['min_cosine_vs_baseline']}, "
        f"single text p50 {lat['p50_ms']} ms p99 {lat['p99_ms']} ms; wrote {args.out}"
    )


if __name__ == "__main__":
    main()
