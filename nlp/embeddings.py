"""Sentence embeddings of short answers, fast, and an on-disk cache that never mixes texts up.

Build an ``Embedder`` once with ``load_embedder`` (in the app's lifespan, at the start of a CLI
command) and pass it in; wrap it in ``CachedEmbedder`` with an ``EmbeddingCache`` under
``CLWSTWR_HOME`` to skip texts already embedded. Nothing here is a module-level singleton and nothing
is downloaded: the model comes from ``models.embedding_model.resolve_model``.

Every backend computes the same function -- the model's token embeddings, mean-pooled over real
tokens, L2-normalised (all-MiniLM-L6-v2's own pooling) -- as ``(n, dim)`` float32 rows:

=========  ===========================================================================================
``onnx``   ONNX Runtime, fp32. The model is exported locally with ``torch.onnx`` at first use into
           ``<cache_dir>/onnx/`` (an export, not a download), its attention/LayerNorm/GELU fused by
           ONNX Runtime's transformer optimiser, and checked against torch fp32 before it is kept.
           Cosine to torch fp32 ~1 - 1e-6. Needs ``onnxruntime`` and ``onnx``.
``bf16``   PyTorch with the weights in bfloat16. Only fast on CPUs with native bf16 (avx512_bf16 /
           AMX); cosine to fp32 ~0.9998 (>= 0.999 on every benchmark text).
``torch``  PyTorch fp32: the reference, always available.
=========  ===========================================================================================

``backend="auto"`` takes the first of onnx, bf16, torch that works here, logging a warning for each it
has to skip and why; an explicitly asked-for backend that cannot run falls back to ``torch``, also with
a warning. The chosen backend and precision are part of ``Embedder.identity`` and therefore of every
cache key. Speed figures: ``python -m evaluation.embedding_speed`` (``evaluation/results/``).

Batching: texts are tokenised once, sorted by token count and cut into batches of at most
``token_budget`` padded tokens (and ``max_batch`` texts), so a batch of short answers is not padded to
the one long answer in it. Int8 quantisation is not offered: it did not keep cosine >= 0.999.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from corpora.errors import ClwstwrError
from models.embedding_model import EmbeddingModelNotFoundError, model_identity, resolve_model

from .embedding_cache import EmbeddingCache, text_key

__all__ = [
    "Backend", "CachedEmbedder", "EmbeddingCache", "Embedder", "IdentifiedEncoder", "ModelUnavailableError",
    "PendingVectors", "cpu_supports_bf16", "load_embedder", "text_key",
]

log = logging.getLogger(__name__)

Backend = Literal["auto", "onnx", "bf16", "torch"]
_AUTO_ORDER: tuple[str, ...] = ("onnx", "bf16", "torch")

#: Padded tokens per forward pass. Small enough that long answers go in small batches, large enough
#: that a batch of short ones amortises the per-call overhead (tuned on the speed benchmark).
DEFAULT_TOKEN_BUDGET = 2048
DEFAULT_MAX_BATCH = 64
#: An exported ONNX model is kept only if every probe text has at least this cosine to torch fp32.
_ONNX_MIN_COSINE = 0.9999
_ONNX_EXPORT_VERSION = 1  # bump when the export recipe changes, so old exports are not reused
_PROBE_TEXTS = (
    "", "Funding.", "Mae diffyg amser yn rhwystr mawr i'r meddygon teulu; ŵyn, ŷd a thân.",
    "Time is the main barrier: GPs are running full clinics and cannot step away. " * 24,
    "The community pharmacists and optometrists are now part of every cluster meeting.",
)


class ModelUnavailableError(ClwstwrError):
    """The embedding model is not installed, or the configured one is not a local model directory.

    Raised by ``load_embedder`` in place of ``models.embedding_model.EmbeddingModelNotFoundError``
    (same code, same message: what to install or set); ``models`` cannot import ``corpora.errors``.
    """

    code = "CW420"


class IdentifiedEncoder(Protocol):
    """An encoder (``nlp.embedding_protocol.Encodes``) that can say which model and backend it is."""

    @property
    def identity(self) -> str: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


# ---------------------------------------------------------------------------------------- Embedder

#: (input_ids, attention_mask), both int64 (batch, seq) -> (batch, dim) float32 unit rows.
ForwardFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


class Embedder:
    """Texts in, ``(n, dim)`` float32 L2-normalised rows out, in input order.

    Built by ``load_embedder``; the constructor only stores what it is given (a test can pass its own
    ``tokenize``: texts -> token id lists with special tokens, truncated; ``forward``: see ``ForwardFn``).
    ``model_id`` is ``models.embedding_model.model_identity`` of the weights; with ``backend`` and
    ``precision`` it makes ``identity``. ``dim`` is the width (384 for all-MiniLM-L6-v2).
    """

    def __init__(
        self, tokenize: Callable[[list[str]], list[list[int]]], forward: ForwardFn, *, model_id: str, backend: str,
        precision: str, dim: int, token_budget: int = DEFAULT_TOKEN_BUDGET, max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self._tokenize, self._forward = tokenize, forward
        self.model_id, self.backend, self.precision, self.dim = model_id, backend, precision, dim
        self.token_budget, self.max_batch = token_budget, max_batch

    @property
    def identity(self) -> str:
        """``<model identity>/<runtime>-<precision>``, e.g. ``…/onnxruntime-fp32``, ``…/torch-bf16``:
        part of every cache key and of every recorded result."""
        runtime = "onnxruntime" if self.backend == "onnx" else "torch"
        return f"{self.model_id}/{runtime}-{self.precision}"

    def encode(self, texts: Sequence[str], *, before_forward: Callable[[], object] | None = None) -> np.ndarray:
        """``(len(texts), dim)`` float32, each row L2-normalised; ``(0, dim)`` for no texts. ``before_forward``
        is called once, just before the model first runs (when this thread stops needing the GIL).

        Raises:
            TypeError: an item is not a ``str`` (``None`` from an empty spreadsheet cell, say).
        """
        items = _checked(texts)
        out = np.empty((len(items), self.dim), dtype=np.float32)
        if not items:
            return out
        ids = self._tokenize(items)
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        for k, batch in enumerate(plan_batches(lengths, self.token_budget, self.max_batch)):
            padded = _pad([ids[j] for j in batch])
            if k == 0 and before_forward is not None:
                before_forward()
            out[batch] = self._forward(*padded)
        return out

    def encode_one(self, text: str) -> np.ndarray:
        """``(dim,)`` float32 unit vector of one text: the API's path (one unpadded forward pass)."""
        return self.encode([text])[0]

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens the model sees per text (special tokens included, after truncation)."""
        return [len(ids) for ids in self._tokenize(_checked(texts))]


def _checked(texts: Sequence[str]) -> list[str]:
    items = list(texts)
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, expected str")
    return items


def plan_batches(lengths: np.ndarray, token_budget: int, max_batch: int) -> list[np.ndarray]:
    """Index batches, longest texts first, each padding to at most ``token_budget`` tokens.

    A batch is padded to its first (longest) text, so sorting by length keeps padding to the gap
    between neighbours; a text longer than the budget goes alone.
    """
    order = np.argsort(-lengths, kind="stable")
    batches: list[np.ndarray] = []
    i = 0
    while i < len(order):
        n = max(1, min(max_batch, token_budget // max(int(lengths[order[i]]), 1)))
        batches.append(order[i : i + n])
        i += n
    return batches


# -------------------------------------------------------------------------------------- the factory


class _BackendUnavailable(RuntimeError):
    """This backend cannot run here; the message says why and what would fix it."""


def load_embedder(
    model: str | Path | None = None,
    *,
    backend: Backend = "auto",
    cache_dir: str | Path | None = None,
    threads: int | None = None,
    token_budget: int = DEFAULT_TOKEN_BUDGET,
    max_batch: int = DEFAULT_MAX_BATCH,
) -> Embedder:
    """Load the embedding model once, on the fastest faithful backend (see the module docstring).

    Args:
        model: a local model directory, or ``None`` for the bundled all-MiniLM-L6-v2.
        backend: ``auto`` (onnx, else bf16 on a CPU with native bf16, else torch) or one of them.
        cache_dir: where the ONNX export is kept (``<CLWSTWR_HOME>/cache``). Without it the onnx
            backend is skipped (exporting at every start would cost seconds).
        threads: intra-op threads for ONNX Runtime (default: the CPUs this process may use). Torch's
            thread count is process-wide, so it is changed only when this is given.

    Raises:
        ModelUnavailableError: no model at ``model``, or the bundled package is missing.
        ValueError: an unknown ``backend``; a model that does not mean-pool or has no tokenizer.json.
    """
    if backend not in ("auto", *_AUTO_ORDER):
        raise ValueError(f"backend must be one of auto, onnx, bf16, torch; got {backend!r}")
    try:
        path = resolve_model(model)
        model_id = model_identity(path)
    except EmbeddingModelNotFoundError as exc:
        raise ModelUnavailableError(exc.message) from exc
    _check_mean_pooling(path)
    n_threads = threads if threads is not None else _available_cpus()
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    tokenize = _load_tokenizer(path)
    dim = int(json.loads((path / "config.json").read_text())["hidden_size"])
    candidates = _AUTO_ORDER if backend == "auto" else (backend, "torch") if backend != "torch" else ("torch",)
    for name in candidates:
        try:
            forward, precision = _load_backend(name, path, model_id, cache_dir, n_threads, tokenize)
        except _BackendUnavailable as exc:
            log.warning("embedding backend %s unavailable, trying the next one: %s", name, exc)
            continue
        embedder = Embedder(
            tokenize, forward, model_id=model_id, backend=name, precision=precision, dim=dim,
            token_budget=token_budget, max_batch=max_batch,
        )
        log.info("embedding model loaded: %s (threads=%d)", embedder.identity, n_threads)
        return embedder
    raise AssertionError("the torch backend is always available")  # pragma: no cover


def _load_backend(
    name: str, path: Path, model_id: str, cache_dir: str | Path | None, threads: int,
    tokenize: Callable[[list[str]], list[list[int]]],
) -> tuple[ForwardFn, str]:
    if name == "onnx":
        return _load_onnx(path, model_id, cache_dir, threads, tokenize), "fp32"
    if name == "bf16":
        if not cpu_supports_bf16():
            raise _BackendUnavailable("this CPU has no native bfloat16 (avx512_bf16/amx_bf16): bf16 would be slow")
        import torch

        return _torch_forward(_load_torch_model(path).to(torch.bfloat16)), "bf16"
    return _torch_forward(_load_torch_model(path)), "fp32"


def _available_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def cpu_supports_bf16() -> bool:
    """True if the CPU computes bfloat16 natively (Linux ``/proc/cpuinfo`` flags)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _check_mean_pooling(path: Path) -> None:
    """Every backend mean-pools and normalises; refuse a model configured otherwise."""
    pooling = path / "1_Pooling" / "config.json"
    if pooling.is_file():
        cfg = json.loads(pooling.read_text())
        other = [k for k, v in cfg.items() if k.startswith("pooling_mode_") and v and k != "pooling_mode_mean_tokens"]
        if other or not cfg.get("pooling_mode_mean_tokens", False):
            raise ValueError(f"{path}: only mean-pooling sentence-transformers models are supported, not {other}")


def _max_seq_length(path: Path) -> int:
    cfg = path / "sentence_bert_config.json"
    return int(json.loads(cfg.read_text()).get("max_seq_length", 256)) if cfg.is_file() else 256


def _load_tokenizer(path: Path) -> Callable[[list[str]], list[list[int]]]:
    """The model's fast tokenizer, truncating at its ``max_seq_length`` and never padding.

    The bundled tokenizer.json itself says "truncate and pad to 128"; sentence-transformers overrides
    that with max_seq_length (256), and so must we, or long answers would be cut short.
    """
    file = path / "tokenizer.json"
    if not file.is_file():
        raise ValueError(f"{path} has no tokenizer.json: save the model with a fast tokenizer")
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(file))
    tok.no_padding()
    tok.enable_truncation(max_length=_max_seq_length(path))

    def tokenize(texts: list[str]) -> list[list[int]]:
        return [e.ids for e in tok.encode_batch(texts)]

    return tokenize


def _load_torch_model(path: Path, attn_implementation: str | None = None):  # -> transformers.PreTrainedModel
    from transformers import AutoModel

    kwargs = {"attn_implementation": attn_implementation} if attn_implementation else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AutoModel.from_pretrained(str(path), local_files_only=True, **kwargs).eval()


def _mean_pool_normalise(hidden, mask):  # torch tensors
    import torch

    m = mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * m).sum(dim=1)
    pooled = summed / m.sum(dim=1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2.0, dim=1)


def _torch_forward(model) -> ForwardFn:
    import torch

    def forward(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            ids = torch.from_numpy(input_ids)
            mask = torch.from_numpy(attention_mask)
            hidden = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids))[0]
            # Pool in fp32 whatever the weights' precision: the sum over 256 tokens is where bf16 loses.
            return _mean_pool_normalise(hidden.float(), mask).numpy()

    return forward


# ----------------------------------------------------------------------------------- ONNX backend


def _load_onnx(
    path: Path, model_id: str, cache_dir: str | Path | None, threads: int,
    tokenize: Callable[[list[str]], list[list[int]]],
) -> ForwardFn:
    if cache_dir is None:
        raise _BackendUnavailable("no cache_dir to keep the ONNX export in (pass the CLWSTWR_HOME cache)")
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise _BackendUnavailable(f"onnxruntime is not installed ({exc}); `pip install onnxruntime onnx`") from exc
    target = Path(cache_dir) / "onnx" / f"{model_id}-ort{ort.__version__}-v{_ONNX_EXPORT_VERSION}" / "model.onnx"
    if not target.is_file():
        _export_onnx(path, target, tokenize)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # No busy-waiting between ops: on a shared or busy machine a spinning thread steals the core its
    # partner needs (single-text p50 went 59 -> 32 ms under load); batch throughput did not suffer.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])

    def forward(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        return session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})[0]

    return forward


def _export_onnx(path: Path, target: Path, tokenize: Callable[[list[str]], list[list[int]]]) -> None:
    """Export model + mean pooling + normalisation to ``target``, fuse it, and keep it only if it agrees
    with torch fp32 on the probe texts (cosine >= 0.9999 each, padded and unpadded batches).

    Written to a temporary file and renamed, so a second process never reads half a file; two
    processes exporting at once both produce a checked file and the last rename wins.
    """
    try:
        import onnx  # noqa: F401  (the optimiser needs it)
        import torch
        from onnxruntime.transformers import optimizer
    except ImportError as exc:
        raise _BackendUnavailable(f"cannot export to ONNX ({exc}); `pip install onnx onnxruntime`") from exc

    log.info("exporting %s to ONNX at %s (once)", path, target)
    # Eager attention exports the textbook pattern ONNX Runtime fuses into its Attention kernel.
    model = _load_torch_model(path, attn_implementation="eager")
    cfg = json.loads((path / "config.json").read_text())

    class Pooled(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            types = torch.zeros_like(input_ids)
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=types)[0]
            return _mean_pool_normalise(hidden, attention_mask)

    wrapped = Pooled(model).eval()
    ids, mask = _pad(tokenize(["a short example", "a longer example sentence for export"]))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        raw, fused = Path(tmp) / "raw.onnx", Path(tmp) / "fused.onnx"
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    wrapped, (torch.from_numpy(ids), torch.from_numpy(mask)), str(raw),
                    input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                    dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                  "embedding": {0: "batch"}},
                    opset_version=17, dynamo=False,
                )
            opt = optimizer.optimize_model(
                str(raw), model_type="bert", num_heads=int(cfg["num_attention_heads"]),
                hidden_size=int(cfg["hidden_size"]), opt_level=1, use_gpu=False,
            )
            opt.save_model_to_file(str(fused))
        except Exception as exc:  # the exporter's failure modes are many and version-specific
            raise _BackendUnavailable(f"ONNX export failed: {type(exc).__name__}: {exc}") from exc
        worst = _check_onnx_export(fused, model, tokenize)
        if worst < _ONNX_MIN_COSINE:
            raise _BackendUnavailable(f"the ONNX export disagrees with torch fp32 (min cosine {worst:.6f})")
        os.replace(fused, target)
    log.info("ONNX export checked (min cosine to torch fp32 %.7f) and saved", worst)


def _pad(ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    shape = (len(ids), max(len(x) for x in ids))
    input_ids, mask = np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=np.int64)
    for r, x in enumerate(ids):
        input_ids[r, : len(x)] = x
        mask[r, : len(x)] = 1
    return input_ids, mask


def _check_onnx_export(file: Path, torch_model, tokenize: Callable[[list[str]], list[list[int]]]) -> float:
    """Min cosine between the export and torch fp32 over the probes, batched together and one by one."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    reference = _torch_forward(torch_model)
    ids = tokenize(list(_PROBE_TEXTS))
    worst = 1.0
    for group in [ids, *([x] for x in ids)]:
        input_ids, mask = _pad(group)
        got = session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
        want = reference(input_ids, mask)
        if not np.all(np.isfinite(got)):
            return float("-inf")
        worst = min(worst, float(np.min(np.sum(got * want, axis=1))))
    return worst


# -------------------------------------------------------------------------------------------- cache



class CachedEmbedder:
    """An encoder that answers from ``cache`` and encodes only the texts it has not seen.

    Per ``encode`` call: one cache query, one ``embedder.encode`` of the distinct misses, one write.
    ``hits`` and ``misses`` count distinct texts over the object's life. ``encode_pending`` writes
    nothing until ``commit()``: the suggestion service embeds an answer while it is being de-identified
    and drops the vectors unstored if that changes the text (no vector of identifiable text is kept).
    """

    def __init__(self, embedder: IdentifiedEncoder, cache: EmbeddingCache) -> None:
        self.embedder, self.cache = embedder, cache
        self.hits, self.misses = 0, 0

    @property
    def identity(self) -> str:
        return self.embedder.identity

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Same contract as ``Embedder.encode``; cached rows are exactly the stored float32 values."""
        return self.encode_pending(texts).commit()

    def encode_pending(self, texts: Sequence[str], *, before_forward: Callable[[], object] | None = None
                       ) -> PendingVectors:
        """What ``encode`` would return; misses are stored and counted only by ``commit()``.
        ``before_forward`` (see ``Embedder.encode``) is called only if the model has to run."""
        items = _checked(texts)
        unique = list(dict.fromkeys(items))
        cached = self.cache.get_many(self.identity, unique)
        missing = [t for t, v in zip(unique, cached) if v is None]
        vectors = dict(zip(unique, cached))
        hook = {"before_forward": before_forward} if before_forward is not None else {}
        if missing and hook and not isinstance(self.embedder, Embedder):
            hook.pop("before_forward")()  # an encoder that takes no hook: called as near its model as we can
        fresh = np.asarray(self.embedder.encode(missing, **hook), dtype=np.float32) if missing else None
        vectors.update(zip(missing, fresh if fresh is not None else ()))
        empty = np.zeros((0, getattr(self.embedder, "dim", 0)), np.float32)
        rows = np.stack([vectors[t] for t in items]).astype(np.float32, copy=False) if items else empty
        return PendingVectors(self, rows, missing, fresh, len(unique) - len(missing))

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


@dataclass
class PendingVectors:
    """Vectors from ``CachedEmbedder.encode_pending``, not yet written to the cache."""

    owner: CachedEmbedder
    rows: np.ndarray
    missing: list[str]
    fresh: np.ndarray | None
    hits: int
    committed: bool = False

    def commit(self) -> np.ndarray:
        """Store the newly computed vectors, count hits and misses (once), and return the rows."""
        if not self.committed:
            self.committed = True
            if self.fresh is not None:
                self.owner.cache.put_many(self.owner.identity, self.missing, self.fresh)
            self.owner.hits += self.hits
            self.owner.misses += len(self.missing)
        return self.rows
