"""One answer at a time, the suggestion service embeds while it de-identifies. That must be invisible:
the same suggestion, scores and vectors as de-identifying first and embedding after (``suggest_many``),
and a text that de-identification changes is embedded again from its de-identified form, with no
vector of the original text ever written to the cache. Real models (session fixtures)."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from nlp.embeddings import CachedEmbedder, EmbeddingCache
from nlp.suggestion_service import SuggestionService
from nlp.suggestions import Suggestion

pytestmark = pytest.mark.slow

PLAIN = "The cluster budget has been frozen for years and all the money we get is non-recurrent."
WITH_NAMES = (
    "Meetings are well run and the agenda is clear.\n"
    "Our cluster lead Dr Gwenllian Pritchard (gwenllian.pritchard@wales.nhs.uk, 07700 900123) has no protected "
    "time, and the funding always runs out in March."
)
TEXTS = [
    (PLAIN, "barrier"),
    ("Meetings are well run.\nThe real barrier is money: everything is non-recurrent funding. GPs cannot be released.",
     "barrier"),
    (WITH_NAMES, "barrier"),
    ("Strong leadership from our cluster lead, and trust between the practices.", None),
    ("Mae diffyg amser yn rhwystr mawr i'r meddygon teulu; ŵyn, ŷd a thân.", "barrier"),
    ("N/A", "support_needed"),
    ("", "barrier"),
    ("   ", "enabler"),
]


def fresh_service(base: SuggestionService, directory: Path) -> SuggestionService:
    """The session's models with an empty embedding cache of their own, so that neither path can be
    answered by vectors the other stored."""
    suggester = copy.copy(base.suggester)
    inner = base.suggester.embedder.embedder
    suggester.with_embedder(CachedEmbedder(inner, EmbeddingCache(directory)))
    return SuggestionService(base.codebook, base.deidentifier, suggester, base.mapper)


def stored(service: SuggestionService, texts: list[str]) -> list[np.ndarray | None]:
    embedder = service.suggester.embedder
    return embedder.cache.get_many(embedder.identity, texts)


def sentences_of(service: SuggestionService, text: str) -> list[str]:
    return service.suggester.sentence_texts(service.suggester.segment_all([text]))


def test_suggestion_overlap_gives_what_the_sequential_path_gives(suggestion_service, tmp_path: Path) -> None:
    overlapped = fresh_service(suggestion_service, tmp_path / "overlapped")
    sequential = fresh_service(suggestion_service, tmp_path / "sequential")
    for text, kind in TEXTS:
        got = overlapped.suggest(text, kind)
        want = sequential.suggest_many([text], [kind])[0]
        assert got == want, text  # themes, scores (exact floats), evidence and offsets, outcomes, headings
        clean_sentences = sentences_of(sequential, want.text)
        for a, b in zip(stored(overlapped, clean_sentences), stored(sequential, clean_sentences)):
            assert a is not None and b is not None
            np.testing.assert_array_equal(a, b)  # the very same vector, not merely a close one
    assert overlapped.suggester.embedder.misses == sequential.suggester.embedder.misses


def test_suggestion_overlap_reembeds_a_changed_text_and_never_caches_the_original(
    suggestion_service, tmp_path: Path
) -> None:
    service = fresh_service(suggestion_service, tmp_path / "cache")
    result = service.suggest(WITH_NAMES, "barrier")
    assert "Gwenllian" not in result.text and "[PERSON]" in result.text and "[EMAIL]" in result.text
    assert result.themes and result.themes[0].evidence in result.text
    raw_only = [s for s in sentences_of(service, WITH_NAMES) if s not in sentences_of(service, result.text)]
    assert raw_only and stored(service, raw_only) == [None] * len(raw_only)
    assert all(v is not None for v in stored(service, sentences_of(service, result.text)))
    assert service.suggester.embedder.cache.count() == len(sentences_of(service, result.text))


def test_suggestion_overlap_is_safe_under_concurrent_requests(suggestion_service, tmp_path: Path) -> None:
    """The API serves requests on several threads at once; they share the one embedding worker."""
    overlapped = fresh_service(suggestion_service, tmp_path / "overlapped")
    sequential = fresh_service(suggestion_service, tmp_path / "sequential")
    jobs = [(f"{text} ({i})", kind) for i in range(3) for text, kind in TEXTS[:5]]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda job: overlapped.suggest(*job), jobs))
    want = [sequential.suggest_many([t], [k])[0] for t, k in jobs]
    # Same texts, themes, evidence and offsets exactly. Scores to 1e-6, not bit for bit: the jobs share
    # sentences, and which of them a concurrent job finds already cached decides whether the rest are
    # embedded in a batch of one or two, and ONNX Runtime's sums round differently in the last bit.
    assert [_without_scores(g) for g in got] == [_without_scores(w) for w in want]
    for g, w in zip(got, want):
        assert [t.score for t in g.themes] == pytest.approx([t.score for t in w.themes], abs=1e-6)
        assert [o.score for o in g.outcomes] == pytest.approx([o.score for o in w.outcomes], abs=1e-6)
        assert [h.score for h in g.headings] == pytest.approx([h.score for h in w.headings], abs=1e-6)
    overlapped.close()


def _without_scores(s: Suggestion) -> tuple[object, ...]:
    return (s.text, s.kind, s.model, [(t.id, t.evidence, t.evidence_start, t.evidence_end) for t in s.themes],
            [o.id for o in s.outcomes], [h.id for h in s.headings])


def test_suggestion_overlap_keeps_the_input_contract(suggestion_service) -> None:
    from nlp.suggestion_service import UnknownKindError

    with pytest.raises(TypeError, match="expected str"):
        suggestion_service.suggest(None, "barrier")  # type: ignore[arg-type]
    with pytest.raises(UnknownKindError, match="unknown kind"):
        suggestion_service.suggest(PLAIN, "not-a-kind")
