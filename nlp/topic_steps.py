"""The swappable steps of topic discovery: reducers, clusterers and the keyword vectorizer.

``nlp.topic_discovery`` runs BERTopic with whatever reducer and clusterer it is given; this module says
what those steps must provide (``Reducer``, ``Clusterer``) and builds them, so a caller, a test or a
benchmark swaps a step by passing an object, never by patching a global.

The default is ``NoReduction`` + ``AgglomerativeTopics``, not BERTopic's UMAP + HDBSCAN. Numbers from
the sample round (686 sentences, 2 shared cores, medians of 3 fresh processes;
``python -m evaluation.topic_discovery_speed``, results in ``evaluation/results/topic_discovery.json``):

======================  ========  ==========  ======  ======  ====  ====  ========
steps                   new proc  of which:   warm    topics  NMI   ARI   assigned
                                  1st fit
======================  ========  ==========  ======  ======  ====  ====  ========
agglomerative (chosen)  18.3 s    1.0 s       0.43 s  36      0.30  0.04  86%
UMAP + HDBSCAN          25.3 s    15.5 s      2.0 s   31      0.31  0.06  71%
same, NUMBA_CACHE_DIR   30.9 s    20.8 s      2.2 s   31      0.31  0.06  71%
PCA(10) + HDBSCAN       17.7 s    1.5 s       1.8 s   2       0.04  0.00  93%
======================  ========  ==========  ======  ======  ====  ====  ========

(NMI/ARI: sentence topic, outliers as one label, against the first theme coded for its answer.)

* The rest of a new process's time is ``import bertopic`` (9-18 s on this loaded machine: it imports
  torch, transformers and, through its plotting module, umap, whichever steps are used; it also
  compiles 66 numba functions with explicit signatures, 63 of them loaded from numba's cache). UMAP
  then adds ~15 s of numba compilation to its first fit. Almost none of umap-learn 0.5's functions
  are declared ``cache=True``, so numba's on-disk cache (``NUMBA_CACHE_DIR``) cannot keep them
  between processes: with it the first fit is no faster (20.8 s vs 15.5 s, noise on a shared
  machine). pynndescent's functions are ``cache=True``, but UMAP uses exact neighbours below 4,096
  points, so they do not run here.
* PCA + HDBSCAN needs no compilation but finds one giant blob (2 topics with the EOM selection) or,
  with leaf selection, leaves three quarters of the sentences unassigned.
* Average-linkage agglomerative clustering on cosine distance of the raw embeddings needs no
  compilation, fits in ~0.1 s, assigns more sentences than UMAP + HDBSCAN and agrees with the coded
  themes about as well (NMI 0.30 vs 0.31; ARI a little lower, 0.04 vs 0.06). It is deterministic.

``umap_reducer``, ``pca_reducer`` and ``hdbscan_clusterer`` stay available for callers who want them;
every factory that draws random numbers takes its seed as a parameter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import CountVectorizer

__all__ = [
    "DOMAIN_STOP_WORDS",
    "AgglomerativeTopics",
    "Clusterer",
    "NoReduction",
    "Reducer",
    "TextEmbedder",
    "default_clusterer",
    "default_reducer",
    "hdbscan_clusterer",
    "keyword_vectorizer",
    "pca_reducer",
    "umap_reducer",
]

# Words in so many of a round's sentences, across every theme, that as keywords they say nothing.
# From the sample round's document frequencies: "cluster" is in 173 of 686 sentences (25%), spread
# over every theme; "ncn" is its synonym. Welsh function words ("yn", "y", "ac", ...) come from the
# round's Welsh-language answers: "yn" is in 37 sentences, more than "money".
DOMAIN_STOP_WORDS: tuple[str, ...] = (
    "cluster", "clusters", "ncn", "ncns",
    "yn", "y", "yr", "ac", "a", "i", "o", "ar", "ei", "mae", "ni", "wedi", "am", "gyda", "bod", "ond",
    "hefyd", "ydy", "oedd", "fod", "eu", "ein", "sydd", "sy", "gan", "ddim", "yng", "rhwng", "gilydd",
    "rydym", "hyn", "heb", "cael", "clwstwr", "maer", "syn", "ir", "er", "dim",
    # De-identification placeholders ([PERSON], [PLACE], ...): frequent, and never a topic's meaning.
    "person", "place", "email", "phone", "nhs_number", "postcode", "url",
)  # fmt: skip

# Cosine distance at which average-linkage merging stops. Tuned on the sample round: 0.6 leaves 42%
# of sentences in groups too small to be topics; 0.8 merges into 13 broad topics (NMI 0.19); 0.7
# gives ~36 topics and NMI ~0.30 with 86% assigned.
AGGLOMERATIVE_DISTANCE = 0.7


@runtime_checkable
class TextEmbedder(Protocol):
    """Maps texts to L2-normalised float32 vectors, shape ``(len(texts), dim)``."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


@runtime_checkable
class Reducer(Protocol):
    """A dimensionality reduction step as BERTopic calls it: ``fit(X)`` then ``transform(X)``."""

    def fit(self, X: np.ndarray, y: Any = None) -> Any: ...

    def transform(self, X: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Clusterer(Protocol):
    """A clustering step as BERTopic calls it: ``fit(X)``, then labels in ``labels_`` (-1 = outlier)."""

    def fit(self, X: np.ndarray, y: Any = None) -> Any: ...


class NoReduction:
    """The "skip this step" reducer: clusters the embeddings as they are.

    A real class rather than ``None`` so that "no reduction" is a choice a caller makes and a result
    records, not a default someone forgot to set.
    """

    def fit(self, X: np.ndarray, y: Any = None) -> NoReduction:
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X)

    def __repr__(self) -> str:
        return "NoReduction()"


class AgglomerativeTopics:
    """Average-linkage clustering on cosine distance, cut at ``distance_threshold``.

    Groups with fewer than ``min_cluster_size`` members become outliers (label -1), so, as with
    HDBSCAN, a sentence that belongs to no sizeable group is listed as unassigned rather than forced
    into a topic. Labels are numbered by first appearance in the input. Deterministic: no seed.
    Follows the scikit-learn contract: ``__init__`` stores parameters, ``fit`` sets ``labels_``.
    """

    def __init__(self, *, min_cluster_size: int = 5, distance_threshold: float = AGGLOMERATIVE_DISTANCE) -> None:
        self.min_cluster_size = min_cluster_size
        self.distance_threshold = distance_threshold

    def fit(self, X: np.ndarray, y: Any = None) -> AgglomerativeTopics:
        X = np.asarray(X, dtype=np.float64)
        n = X.shape[0]
        if n < 2:
            self.labels_ = np.full(n, -1, dtype=int)
            return self
        from sklearn.cluster import AgglomerativeClustering

        raw = AgglomerativeClustering(
            n_clusters=None, distance_threshold=self.distance_threshold, metric="cosine", linkage="average"
        ).fit(X).labels_
        sizes = np.bincount(raw)
        renumber: dict[int, int] = {}
        labels = np.full(n, -1, dtype=int)
        for i, group in enumerate(raw.tolist()):
            if sizes[group] < self.min_cluster_size:
                continue
            labels[i] = renumber.setdefault(group, len(renumber))
        self.labels_ = labels
        return self

    def __repr__(self) -> str:
        return (
            f"AgglomerativeTopics(min_cluster_size={self.min_cluster_size}, "
            f"distance_threshold={self.distance_threshold})"
        )


def default_reducer(seed: int) -> Reducer:
    """The chosen default: ``NoReduction`` (agglomerative clustering works on the raw embeddings).

    ``seed`` is accepted so every reducer factory has the same signature; this one draws no random
    numbers.
    """
    return NoReduction()


def default_clusterer(min_topic_size: int) -> Clusterer:
    """The chosen default: ``AgglomerativeTopics`` with ``min_cluster_size=min_topic_size``."""
    return AgglomerativeTopics(min_cluster_size=min_topic_size)


def pca_reducer(seed: int, *, n_components: int = 10) -> Reducer:
    """PCA, exact solver (so the seed cannot matter, but it is passed so a solver swap stays seeded)."""
    from sklearn.decomposition import PCA

    return PCA(n_components=n_components, svd_solver="full", random_state=seed)


def umap_reducer(seed: int, *, n_neighbors: int = 15, n_components: int = 5) -> Reducer:
    """BERTopic's default UMAP, seeded. Costs numba compilation (~15-25 s) once per new process.

    ``random_state`` makes UMAP single-threaded, which is what makes it reproducible; ``n_jobs=1``
    says so explicitly (and silences umap's warning about it).
    """
    from umap import UMAP

    return UMAP(
        n_neighbors=n_neighbors,
        n_components=n_components,
        min_dist=0.0,
        metric="cosine",
        random_state=seed,
        n_jobs=1,
        low_memory=False,
    )


def hdbscan_clusterer(min_topic_size: int) -> Clusterer:
    """BERTopic's default HDBSCAN (the ``hdbscan`` package: Cython, no JIT); deterministic, no seed."""
    from hdbscan import HDBSCAN

    return HDBSCAN(
        min_cluster_size=min_topic_size,
        metric="euclidean",
        cluster_selection_method="eom",
        prediction_data=False,
    )


def keyword_vectorizer(extra_stop_words: tuple[str, ...] = DOMAIN_STOP_WORDS) -> CountVectorizer:
    """English stop words plus ``extra_stop_words``; unigrams and bigrams; for BERTopic's c-TF-IDF."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    stop_words = sorted(ENGLISH_STOP_WORDS | set(extra_stop_words))
    return CountVectorizer(stop_words=stop_words, ngram_range=(1, 2), min_df=1, lowercase=True)
