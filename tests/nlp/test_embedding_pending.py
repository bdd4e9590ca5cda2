"""``CachedEmbedder.encode_pending``: the vectors ``encode`` would give, with nothing written until
``commit()`` -- what lets the suggestion service embed an answer before knowing whether
de-identification will change it, without ever storing a vector of identifiable text."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlp.embeddings import CachedEmbedder, EmbeddingCache

DIM = 6


class BytesEncoder:
    """A stand-in model: a unit vector from each text's bytes; it records what it was asked to encode."""

    dim = DIM
    identity = "stand-in/fake-fp32"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows) if rows else np.zeros((0, DIM), np.float32)


def test_embedding_pending_writes_nothing_until_committed(tmp_path: Path) -> None:
    encoder = BytesEncoder()
    with EmbeddingCache(tmp_path) as cache:
        cached = CachedEmbedder(encoder, cache)
        pending = cached.encode_pending(["Rhodri said the money ran out.", "Funding."])
        assert cache.count() == 0 and (cached.hits, cached.misses) == (0, 0)
        assert cache.get_many(encoder.identity, ["Rhodri said the money ran out."]) == [None]
        del pending  # dropped, never committed: no trace
        assert cache.count() == 0


def test_embedding_pending_commit_is_encode(tmp_path: Path) -> None:
    texts = ["a", "b", "a", "c"]
    with EmbeddingCache(tmp_path / "one") as one, EmbeddingCache(tmp_path / "two") as two:
        by_encode = CachedEmbedder(BytesEncoder(), one)
        by_pending = CachedEmbedder(BytesEncoder(), two)
        by_encode.encode(["b"])
        by_pending.encode(["b"])
        want = by_encode.encode(texts)
        pending = by_pending.encode_pending(texts)
        got = pending.commit()
        assert pending.commit() is got  # a second commit neither writes nor counts again
        np.testing.assert_array_equal(got, want)
        assert (by_pending.hits, by_pending.misses) == (by_encode.hits, by_encode.misses) == (1, 3)
        assert by_pending.embedder.calls == by_encode.embedder.calls == [["b"], ["a", "c"]]
        assert two.count() == one.count() == 3


def test_embedding_pending_of_nothing(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path) as cache:
        cached = CachedEmbedder(BytesEncoder(), cache)
        rows = cached.encode_pending([]).commit()
        assert rows.shape == (0, DIM) and cached.embedder.calls == []


def test_embedding_pending_calls_the_hook_once_just_before_the_model_runs(tmp_path: Path) -> None:
    """The suggestion service starts spaCy from this hook: it must come after tokenising (which needs
    the GIL) and before the first forward pass (which releases it), once, and only if the model runs."""
    from nlp.embeddings import Embedder

    events: list[str] = []

    def tokenize(texts: list[str]) -> list[list[int]]:
        events.append("tokenize")
        return [[101, *range(1, 2 + len(t) % 5), 102] for t in texts]

    def forward(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        events.append("forward")
        out = np.ones((ids.shape[0], DIM), np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    model = Embedder(tokenize, forward, model_id="stand-in", backend="onnx", precision="fp32", dim=DIM, max_batch=1)
    with EmbeddingCache(tmp_path) as cache:
        cached = CachedEmbedder(model, cache)
        cached.encode_pending(["one", "two", "three"], before_forward=lambda: events.append("hook")).commit()
        assert events == ["tokenize", "hook", "forward", "forward", "forward"]
        events.clear()
        cached.encode_pending(["one", "two"], before_forward=lambda: events.append("hook"))  # all cached
        assert events == []
        plain = CachedEmbedder(BytesEncoder(), cache)  # an encoder without the hook: called before it
        plain.encode_pending(["four"], before_forward=lambda: events.append("hook"))
        assert events == ["hook"] and plain.embedder.calls == [["four"]]
