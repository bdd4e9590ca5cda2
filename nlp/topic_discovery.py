"""Discovery of candidate new themes: BERTopic over a round's sentences, checked against the codebook.

The codebook fixes what reviewers code to; a round can still raise something it has no theme for
(car parking at a new surgery, a Welsh-language translation backlog). This module finds such things
so a person can decide whether the codebook needs a new theme. It never adds one itself.

    >>> discoverer = TopicDiscoverer(codebook, embedder=embedder, seed=0)
    >>> report = discoverer.discover(units, embedder.encode([u.text for u in units]))
    >>> [t.keywords for t in report.topics if t.is_candidate_new_theme]

How, in order:

1. BERTopic clusters the sentence embeddings with an injected reducer and clusterer (defaults:
   ``NoReduction`` + ``AgglomerativeTopics``; ``nlp.topic_steps`` says why not UMAP + HDBSCAN, with
   numbers). Sentences in no group of at least ``min_topic_size`` are *listed* in
   ``TopicReport.unassigned``, never dropped: every unit id is in exactly one topic or there.
2. Keywords are BERTopic's c-TF-IDF words over an English + domain stop-word vocabulary.
3. Guidance by the codebook: each theme is embedded with the *same* embedder as the sentences (its
   label and definition, and each example, averaged), each topic's centroid (mean of its sentence
   embeddings) is compared by cosine to every theme, and a topic whose best similarity is below
   ``new_theme_threshold`` is flagged as a candidate new theme.

Reproducible: the default steps draw no random numbers (agglomerative clustering and c-TF-IDF are
deterministic); a seeded step (``umap_reducer(seed)``) gets the discoverer's seed from its factory;
exemplars are chosen by distance to the centroid, not sampled. The same units, embeddings and seed
give the same topics, keywords and assignments in any process (tested, and checked across fresh
processes by ``evaluation/topic_discovery_speed.py``).

Speed: this module imports BERTopic only when ``discover`` runs, so importing it costs nothing.
BERTopic 0.17 itself imports umap (through its plotting module, whenever plotly is installed) and
torch/transformers, 9-18 s in a new process here, whichever steps are used; the default steps then
add no JIT compilation (first fit ~1 s; UMAP's first fit ~15 s per new process).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp.topic_steps import (
    Clusterer,
    Reducer,
    TextEmbedder,
    default_clusterer,
    default_reducer,
    keyword_vectorizer,
)

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import CountVectorizer

    from corpora.codebook import Codebook, Theme

__all__ = [
    "DEFAULT_NEW_THEME_THRESHOLD",
    "DiscoveredTopic",
    "SentenceUnit",
    "ThemeVectors",
    "TopicDiscoverer",
    "TopicReport",
    "embed_themes",
]

# Cosine similarity of a topic centroid to its nearest theme vector below which the topic is a
# candidate new theme. Chosen on the sample round with all-MiniLM-L6-v2 (evaluation/topic_discovery_speed.py,
# "threshold_evidence" in evaluation/results/topic_discovery.json): the centroid of the sentences coded
# to each theme sits at >= 0.588 from that theme's vector (lowest: relationships; median 0.79), while
# planted off-codebook topics sit at <= 0.56 (IT outages 0.56, car parking 0.54, Welsh translation
# backlog 0.34). 0.575 splits that gap. The gap is narrow, so on the sample round about a third of
# the topics are flagged, among them real candidates (rurality and travel distances) and non-themes
# worth a glance ("N/A", "see previous answer", Welsh-language sentences the English model cannot
# place); a false flag costs a reviewer a glance, a missed new theme is never seen.
# Another embedding model needs its own threshold.
DEFAULT_NEW_THEME_THRESHOLD = 0.575

# How many exemplar sentences a topic shows: enough to judge it, few enough to read.
MAX_EXEMPLARS = 5
# Below three members a "topic" cannot show the three exemplars a reviewer needs.
MIN_TOPIC_SIZE_FLOOR = 3


@dataclass(frozen=True)
class SentenceUnit:
    """One sentence of a round, already de-identified by the caller (this module never sees names).

    ``id`` must be unique within a call; ``question_id`` says which question the sentence answers
    (``None`` for text outside the six questions, e.g. peer-review notes).
    """

    id: str
    text: str
    question_id: str | None


@dataclass(frozen=True)
class DiscoveredTopic:
    """A group of sentences BERTopic found, with what a reviewer needs to judge it.

    ``exemplars`` are 3-5 exact unit texts nearest the topic centroid (fewer only when the topic holds
    fewer distinct texts). ``nearest_theme`` is the best-matching codebook theme id and
    ``nearest_theme_similarity`` its cosine similarity to the topic centroid; ``is_candidate_new_theme``
    is that similarity being below the discoverer's threshold.
    """

    topic_id: int
    keywords: tuple[str, ...]
    size: int
    exemplars: tuple[str, ...]
    sentence_ids: tuple[str, ...]
    nearest_theme: str | None
    nearest_theme_similarity: float
    is_candidate_new_theme: bool


@dataclass(frozen=True)
class TopicReport:
    """Everything one ``discover`` call found, and how, so a rerun can be matched to it.

    ``unassigned`` lists the sentence ids that fit no topic (HDBSCAN outliers), in input order: a
    reviewer can still read them. ``settings`` records the steps, thresholds and codebook version used.
    """

    topics: tuple[DiscoveredTopic, ...]
    unassigned: tuple[str, ...]
    seed: int
    n_sentences: int
    settings: Mapping[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (settings values that are not JSON scalars become strings)."""
        return {
            "seed": self.seed,
            "n_sentences": self.n_sentences,
            "settings": {k: _jsonable(v) for k, v in self.settings.items()},
            "topics": [
                {
                    "topic_id": t.topic_id,
                    "keywords": list(t.keywords),
                    "size": t.size,
                    "exemplars": list(t.exemplars),
                    "sentence_ids": list(t.sentence_ids),
                    "nearest_theme": t.nearest_theme,
                    "nearest_theme_similarity": t.nearest_theme_similarity,
                    "is_candidate_new_theme": t.is_candidate_new_theme,
                }
                for t in self.topics
            ],
            "unassigned": list(self.unassigned),
        }


@dataclass(frozen=True)
class ThemeVectors:
    """One L2-normalised vector per theme, rows in ``theme_ids`` order, shape ``(n_themes, dim)``."""

    theme_ids: tuple[str, ...]
    vectors: np.ndarray


def embed_themes(themes: Sequence[Theme], embedder: TextEmbedder) -> ThemeVectors:
    """Embed each theme as the mean of "label: definition" and each of its examples, re-normalised.

    The examples carry the register real answers use ("Cuts to the cluster pot this year."), the
    definition the theme's edges; averaging both gives a vector that short sentences land near.
    """
    texts: list[str] = []
    spans: list[tuple[int, int]] = []
    for theme in themes:
        start = len(texts)
        texts.append(f"{theme.label}: {theme.definition}")
        texts.extend(theme.examples)
        spans.append((start, len(texts)))
    if not texts:
        raise ValueError("embed_themes needs at least one theme")
    matrix = _as_matrix(embedder.encode(texts), len(texts), what="theme text embeddings")
    vectors = np.stack([_unit(matrix[a:b].mean(axis=0)) for a, b in spans])
    return ThemeVectors(theme_ids=tuple(t.id for t in themes), vectors=vectors)


class TopicDiscoverer:
    """Finds topics in a round's sentences and flags those no codebook theme covers.

    Parameters are stored as given (scikit-learn's contract): ``reducer``/``clusterer``/``vectorizer``
    ``None`` mean the defaults of ``nlp.topic_steps``, built fresh by its factories on each call with
    this ``seed`` and ``min_topic_size``; pass ``nlp.topic_steps.NoReduction()`` to skip reduction.
    ``embedder`` embeds the codebook's themes and must be the one that made the sentence embeddings;
    ``kind`` limits the comparison to one question's themes (``None``: every theme).
    """

    def __init__(
        self,
        codebook: Codebook,
        *,
        embedder: TextEmbedder,
        reducer: Reducer | None = None,
        clusterer: Clusterer | None = None,
        vectorizer: CountVectorizer | None = None,
        seed: int = 0,
        min_topic_size: int = 5,
        new_theme_threshold: float = DEFAULT_NEW_THEME_THRESHOLD,
        kind: str | None = None,
        top_n_words: int = 10,
    ) -> None:
        self.codebook = codebook
        self.embedder = embedder
        self.reducer = reducer
        self.clusterer = clusterer
        self.vectorizer = vectorizer
        self.seed = seed
        self.min_topic_size = min_topic_size
        self.new_theme_threshold = new_theme_threshold
        self.kind = kind
        self.top_n_words = top_n_words

    def discover(self, units: Sequence[SentenceUnit], embeddings: np.ndarray) -> TopicReport:
        """Cluster ``units`` (their ``embeddings``, shape ``(len(units), dim)``, row i for unit i).

        Raises ``ValueError`` for duplicate unit ids, an embeddings matrix of the wrong shape, or a
        ``min_topic_size`` below 3. Fewer units than ``min_topic_size`` cannot form a topic: they are
        all returned as unassigned without running BERTopic.
        """
        if self.min_topic_size < MIN_TOPIC_SIZE_FLOOR:
            raise ValueError(f"min_topic_size must be at least {MIN_TOPIC_SIZE_FLOOR}, got {self.min_topic_size}")
        ids = [u.id for u in units]
        if len(set(ids)) != len(ids):
            dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
            raise ValueError(f"sentence unit ids must be unique; repeated: {', '.join(dupes[:10])}")
        X = _as_matrix(embeddings, len(units), what="sentence embeddings")
        reducer = self.reducer if self.reducer is not None else default_reducer(self.seed)
        clusterer = self.clusterer if self.clusterer is not None else default_clusterer(self.min_topic_size)
        vectorizer = self.vectorizer if self.vectorizer is not None else keyword_vectorizer()
        settings = self._settings(reducer, clusterer, vectorizer)
        if len(units) < self.min_topic_size:
            return TopicReport((), tuple(ids), self.seed, len(units), MappingProxyType(settings))

        labels, keywords = _fit_bertopic(
            [u.text for u in units], X, reducer, clusterer, vectorizer, self.top_n_words
        )
        themes = embed_themes(self.codebook.themes_for(self.kind), self.embedder)
        topics = []
        for topic_id in sorted(t for t in set(labels) if t != -1):
            rows = np.flatnonzero(labels == topic_id)
            centroid = _unit(X[rows].mean(axis=0))
            sims = themes.vectors @ centroid
            best = int(np.argmax(sims))
            similarity = round(float(sims[best]), 6)
            topics.append(
                DiscoveredTopic(
                    topic_id=int(topic_id),
                    keywords=keywords[topic_id],
                    size=len(rows),
                    exemplars=_exemplars(units, X, rows, centroid),
                    sentence_ids=tuple(units[i].id for i in rows),
                    nearest_theme=themes.theme_ids[best],
                    nearest_theme_similarity=similarity,
                    is_candidate_new_theme=similarity < self.new_theme_threshold,
                )
            )
        unassigned = tuple(units[i].id for i in np.flatnonzero(labels == -1))
        return TopicReport(tuple(topics), unassigned, self.seed, len(units), MappingProxyType(settings))

    def _settings(self, reducer: Any, clusterer: Any, vectorizer: Any) -> dict[str, object]:
        import bertopic

        return {
            "reducer": repr(reducer),
            "clusterer": repr(clusterer),
            "vectorizer": f"CountVectorizer(ngram_range={vectorizer.ngram_range}, "
            f"extra_stop_words={_extra_stop_words(vectorizer)})",
            "min_topic_size": self.min_topic_size,
            "new_theme_threshold": self.new_theme_threshold,
            "top_n_words": self.top_n_words,
            "kind": self.kind,
            "codebook_version": self.codebook.version,
            "bertopic_version": bertopic.__version__,
        }


def _fit_bertopic(
    docs: list[str],
    X: np.ndarray,
    reducer: Any,
    clusterer: Any,
    vectorizer: Any,
    top_n_words: int,
) -> tuple[np.ndarray, dict[int, tuple[str, ...]]]:
    """Run BERTopic on precomputed embeddings; labels per doc (-1 outlier) and keywords per topic."""
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer

    model = BERTopic(
        embedding_model=None,  # embeddings are passed in; BERTopic must never load a model itself
        umap_model=reducer,
        hdbscan_model=clusterer,
        vectorizer_model=vectorizer,
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=top_n_words,
        calculate_probabilities=False,
        verbose=False,
    )
    topics, _ = model.fit_transform(docs, embeddings=X)
    labels = np.asarray(topics, dtype=int)
    keywords = {
        int(t): tuple(word for word, score in (model.get_topic(t) or []) if word and score > 0)
        for t in set(labels.tolist())
        if t != -1
    }
    return labels, keywords


def _exemplars(units: Sequence[SentenceUnit], X: np.ndarray, rows: np.ndarray, centroid: np.ndarray) -> tuple[str, ...]:
    """Up to ``MAX_EXEMPLARS`` distinct texts nearest the centroid; ties broken by input order."""
    sims = X[rows] @ centroid
    order = sorted(range(len(rows)), key=lambda k: (-round(float(sims[k]), 6), int(rows[k])))
    chosen: list[str] = []
    for k in order:
        text = units[int(rows[k])].text
        if text not in chosen:
            chosen.append(text)
        if len(chosen) == MAX_EXEMPLARS:
            break
    return tuple(chosen)


def _as_matrix(embeddings: np.ndarray, n: int, *, what: str) -> np.ndarray:
    matrix = np.asarray(embeddings, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != n:
        raise ValueError(f"{what}: expected shape ({n}, dim), got {matrix.shape}")
    if n and not np.isfinite(matrix).all():
        raise ValueError(f"{what}: contains NaN or infinite values")
    return matrix


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def _extra_stop_words(vectorizer: Any) -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    stop = vectorizer.stop_words
    if stop is None or isinstance(stop, str):
        return [] if stop is None else [stop]
    return sorted(set(stop) - ENGLISH_STOP_WORDS)


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
