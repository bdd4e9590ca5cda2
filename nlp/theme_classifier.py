"""Multi-label theme classifier for short free-text answers: TF-IDF and sentence-embedding heads.

    >>> clf = ThemeClassifier(embedder, seed=0, min_labels=0).fit(texts, Y, label_ids)
    >>> clf.predict(["Waited three weeks for a call back"])      # (1, k) of 0/1
    >>> clf.predict_proba(["..."])                                # (1, k) scores in [0, 1]

Two views of the text, because each catches what the other misses on short comments:

- word 1–2-gram and character 2–5-gram TF-IDF, one logistic regression per theme: exact cue words
  and their misspellings ("recieved", "appt");
- sentence embeddings from the injected ``embedder``, one RBF-kernel SVM per theme (or logistic
  regression, ``embedding_kernel="linear"``): paraphrases that share no word with the training
  examples ("nobody got back to me" ~ "never returned my call").

Their per-theme scores are combined by a small per-theme logistic regression on the two heads'
out-of-fold log-odds (stacking), because how far to trust wording versus meaning differs by theme.
The stacker is unweighted and strongly regularised (``stacker_C``), so its output is a calibrated
probability whose cut-offs are tuned on a finer grid; the heads stay class-balanced so that rare
themes are still ranked well. ``combiner="mean"`` averages with a fixed ``embedding_weight`` instead. Each theme then gets its
own cut-off, tuned on out-of-fold scores from the training data only (``nlp.threshold_tuning``
says why). ``min_labels=1`` adds the most likely theme when none clears its cut-off, for codebooks
where every comment has a theme; ``min_labels=0`` lets "fits no theme" stand, as in our product.

Follows the scikit-learn estimator contract: ``__init__`` stores parameters, ``fit`` returns
``self``, learned state ends in ``_``, the seed is a parameter, and ``sklearn.base.clone`` works.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import FeatureUnion
from sklearn.svm import SVC

from nlp.threshold_tuning import CALIBRATED_GRID, DEFAULT_GRID, labels_from_scores, tune_thresholds


@runtime_checkable
class TextEmbedder(Protocol):
    """Anything that maps texts to L2-normalised float32 vectors, shape ``(len(texts), dim)``."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


# One fitted binary model per theme, or the constant score used when the training rows hold a
# single class for that theme (neither model can be fitted on one class).
_Head = LogisticRegression | SVC | float


class ThemeClassifier(BaseEstimator):
    """One-vs-rest theme classifier over TF-IDF and (optionally) sentence-embedding features.

    Parameters
    ----------
    embedder:
        Object with ``encode(list[str]) -> np.ndarray`` (L2-normalised rows). ``None`` means the
        TF-IDF head only (no model needed; what the tests and a cold start use).
    seed:
        Seeds the fold split used for threshold tuning and the solvers; same seed, same output.
    text_C, embedding_C:
        Inverse regularisation strength of the TF-IDF and embedding heads.
    embedding_kernel:
        ``"rbf"``: an RBF-kernel SVM per theme on the embeddings (themes are not linearly
        separable in MiniLM space; +0.01 macro-F1 in cross-validation on pxtextmining, at about
        twice the fit time). ``"linear"``: logistic regression, faster.
    combiner:
        ``"stacked"`` (learn per-theme weights of the two heads from out-of-fold scores) or
        ``"mean"`` (fixed ``embedding_weight``). Ignored when ``embedder`` is ``None``.
    stacker_C:
        Inverse regularisation of the per-theme stacker. 0.1 with an unweighted stacker beat
        1.0 with a class-balanced one by +0.008 macro-F1 (paired s.e. ~0.002) in cross-validation
        on pxtextmining train (stacker and cut-offs refitted in 3 x 5 folds over the heads'
        out-of-fold scores; 0.03 and 0.3 were worse): two inputs per theme need little freedom.
    embedding_weight:
        Weight of the embedding head for ``combiner="mean"`` (0 = TF-IDF only, 1 = embeddings
        only); 0 also skips embedding altogether.
    char_ngrams:
        Add character 2–5-gram TF-IDF to the word 1–2-grams; helps with misspellings in
        handwritten-then-typed comments, costs fit time.
    n_folds:
        Folds for the out-of-fold scores that thresholds are tuned on. Fewer than two (or fewer
        rows than folds) falls back to a cut-off of 0.5 for every theme and, with an embedder,
        to the fixed-weight mean.
    min_labels:
        Labels each comment gets at least, by falling back to the themes closest to their
        cut-off: 1 for codebooks where every comment is coded, 0 where "no theme" is an answer.
    """

    def __init__(
        self,
        embedder: TextEmbedder | None = None,
        *,
        seed: int = 0,
        text_C: float = 2.0,
        embedding_C: float = 3.0,
        embedding_kernel: str = "rbf",
        combiner: str = "stacked",
        embedding_weight: float = 0.4,
        stacker_C: float = 0.1,
        char_ngrams: bool = True,
        n_folds: int = 5,
        min_labels: int = 1,
    ) -> None:
        self.embedder = embedder
        self.seed = seed
        self.text_C = text_C
        self.embedding_C = embedding_C
        self.embedding_kernel = embedding_kernel
        self.combiner = combiner
        self.embedding_weight = embedding_weight
        self.stacker_C = stacker_C
        self.char_ngrams = char_ngrams
        self.n_folds = n_folds
        self.min_labels = min_labels

    # ----------------------------------------------------------------------------------- public

    def fit(self, texts: Sequence[str], Y: np.ndarray, label_ids: Sequence[str]) -> ThemeClassifier:
        """Learn from ``texts`` and their 0/1 labels ``Y`` (n, k), columns named by ``label_ids``.

        Raises ``ValueError`` when the shapes disagree or ``Y`` is not 0/1.
        """
        texts = list(texts)
        Y = np.asarray(Y)
        if Y.ndim != 2 or Y.shape[0] != len(texts) or Y.shape[1] != len(label_ids):
            raise ValueError(
                "Y must have shape (len(texts), len(label_ids)) = "
                f"({len(texts)}, {len(label_ids)}); got {Y.shape}"
            )
        if not np.isin(Y, (0, 1)).all():
            raise ValueError("Y must hold only 0 and 1")
        if self.combiner not in ("stacked", "mean"):
            raise ValueError(f"combiner must be 'stacked' or 'mean', not {self.combiner!r}")
        if self.embedding_kernel not in ("rbf", "linear"):
            raise ValueError(
                f"embedding_kernel must be 'rbf' or 'linear', not {self.embedding_kernel!r}"
            )
        Y = Y.astype(np.int8)

        self.label_ids_ = list(label_ids)
        self.vectorizer_ = self._make_vectorizer().fit(texts)
        text_features = self.vectorizer_.transform(texts)
        embeddings = self._embed(texts)

        held_out = self._out_of_fold_scores(text_features, embeddings, Y)
        self.stackers_: list[_Head] | None = None
        if held_out is None:
            self.thresholds_ = np.full(Y.shape[1], 0.5)
        else:
            text_scores, embedding_scores = held_out
            if embedding_scores is not None and self.combiner == "stacked":
                # Three parameters per theme, fitted on scores the heads gave to unseen rows, so
                # the weights reflect how each head generalises rather than how it memorises.
                stack_inputs = _stack_features(text_scores, embedding_scores)
                self.stackers_ = _fit_heads(
                    stack_inputs, Y, self.stacker_C, self.seed, per_label=True, balanced=False
                )
            grid = DEFAULT_GRID if self.stackers_ is None else CALIBRATED_GRID
            self.thresholds_ = tune_thresholds(
                self._combine(text_scores, embedding_scores), Y, grid
            )
        self.text_heads_ = _fit_heads(text_features, Y, self.text_C, self.seed)
        self.embedding_heads_ = (
            _fit_heads(embeddings, Y, self.embedding_C, self.seed, kernel=self.embedding_kernel)
            if embeddings is not None
            else None
        )
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Per-theme scores in [0, 1], shape ``(len(texts), k)``; compare with ``thresholds_``."""
        self._check_fitted()
        texts = list(texts)
        text_features = self.vectorizer_.transform(texts)
        embeddings = self._embed(texts)
        return self._combine(
            _score_heads(self.text_heads_, text_features),
            _score_heads(self.embedding_heads_, embeddings) if self.embedding_heads_ else None,
        )

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """0/1 matrix ``(len(texts), k)``: scores at or over each theme's tuned cut-off, topped up
        to ``min_labels`` themes per comment."""
        scores = self.predict_proba(texts)
        return labels_from_scores(scores, self.thresholds_, self.min_labels)

    # ---------------------------------------------------------------------------------- helpers

    def _make_vectorizer(self) -> FeatureUnion:
        # sublinear_tf: a word repeated in a long rant is not ten times the evidence.
        # min_df=2: a feature seen once can only memorise its one comment.
        parts: list[tuple[str, TfidfVectorizer]] = [
            ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)),
        ]
        if self.char_ngrams:
            parts.append(
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                    ),
                )
            )
        return FeatureUnion(parts)

    def _embed(self, texts: list[str]) -> np.ndarray | None:
        if self.embedder is None or (self.combiner == "mean" and self.embedding_weight <= 0):
            return None
        vectors = np.asarray(self.embedder.encode(texts), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ValueError(
                f"embedder.encode returned shape {vectors.shape} for {len(texts)} texts; "
                "expected (n_texts, dim)"
            )
        return vectors

    def _combine(self, text_scores: np.ndarray, embedding_scores: np.ndarray | None) -> np.ndarray:
        if embedding_scores is None:
            return text_scores
        stackers = getattr(self, "stackers_", None)
        if stackers is not None:
            features = _stack_features(text_scores, embedding_scores)
            return np.column_stack(
                [_score_heads([head], features[j]).ravel() for j, head in enumerate(stackers)]
            )
        w = float(self.embedding_weight)
        return (1.0 - w) * text_scores + w * embedding_scores

    def _out_of_fold_scores(
        self, text_features: sp.spmatrix, embeddings: np.ndarray | None, Y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """Each head's scores for every training row from models that did not see that row;
        ``None`` if there are too few rows to split.

        The TF-IDF vocabulary is fitted once on all training texts: it uses no labels, so sharing
        it across folds leaks nothing the thresholds could overfit to, and saves a refit per fold.
        """
        n_rows = Y.shape[0]
        if self.n_folds < 2 or n_rows < self.n_folds:
            return None
        text_scores = np.zeros(Y.shape, dtype=np.float64)
        embedding_scores = None if embeddings is None else np.zeros(Y.shape, dtype=np.float64)
        folds = KFold(n_splits=self.n_folds, shuffle=True, random_state=self.seed)
        for train_idx, held_idx in folds.split(np.arange(n_rows)):
            heads = _fit_heads(text_features[train_idx], Y[train_idx], self.text_C, self.seed)
            text_scores[held_idx] = _score_heads(heads, text_features[held_idx])
            if embeddings is not None:
                heads = _fit_heads(
                    embeddings[train_idx], Y[train_idx], self.embedding_C, self.seed,
                    kernel=self.embedding_kernel,
                )
                embedding_scores[held_idx] = _score_heads(heads, embeddings[held_idx])
        return text_scores, embedding_scores

    def _check_fitted(self) -> None:
        if not hasattr(self, "thresholds_"):
            raise NotFittedError("ThemeClassifier is not fitted yet; call fit(texts, Y, label_ids)")


def _fit_heads(
    X: sp.spmatrix | np.ndarray,
    Y: np.ndarray,
    C: float,
    seed: int,
    *,
    per_label: bool = False,
    kernel: str = "linear",
    balanced: bool = True,
) -> list[_Head]:
    """One class-balanced logistic regression per label column of ``Y``.

    With ``per_label``, ``X`` is a sequence of per-label feature matrices (the stackers' inputs);
    ``balanced=False`` drops the class weights (the stackers, whose scores should be calibrated).
    ``class_weight="balanced"`` because most themes are on under 5% of comments; unweighted, the
    rare ones would score near zero everywhere and no threshold could recover their ranking.
    """
    heads: list[_Head] = []
    for j in range(Y.shape[1]):
        column = Y[:, j]
        features = X[j] if per_label else X
        positives = int(column.sum())
        if positives == 0 or positives == len(column):
            heads.append(float(positives > 0))
            continue
        if sp.issparse(features):
            # Dual liblinear: ~15x faster than the primal solver when features outnumber rows.
            model = LogisticRegression(
                C=C, class_weight="balanced", solver="liblinear", dual=True,
                max_iter=1000, random_state=seed,
            )
        elif kernel == "rbf":
            model = SVC(C=C, kernel="rbf", class_weight="balanced")
        else:
            model = LogisticRegression(
                C=C, class_weight="balanced" if balanced else None, max_iter=2000
            )
        heads.append(model.fit(features, column))
    return heads


def _score_heads(heads: list[_Head], X: sp.spmatrix | np.ndarray) -> np.ndarray:
    n_rows = X.shape[0]
    columns = [_score_head(head, X) for head in heads]
    return np.column_stack(columns) if columns else np.zeros((n_rows, 0))


def _score_head(head: _Head, X: sp.spmatrix | np.ndarray) -> np.ndarray:
    if isinstance(head, float):
        return np.full(X.shape[0], head)
    if isinstance(head, SVC):
        # Squashed margin, not a probability (Platt scaling would cost five more fits per theme):
        # the stacker and the tuned thresholds only need a monotone score in [0, 1].
        return 1.0 / (1.0 + np.exp(-2.0 * head.decision_function(X)))
    return head.predict_proba(X)[:, 1]


def _stack_features(text_scores: np.ndarray, embedding_scores: np.ndarray) -> list[np.ndarray]:
    """Per theme, an (n, 2) matrix of the two heads' log-odds: the stacker's input."""
    def log_odds(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-4, 1 - 1e-4)
        return np.log(p / (1 - p))

    text_logit, embedding_logit = log_odds(text_scores), log_odds(embedding_scores)
    return [
        np.column_stack([text_logit[:, j], embedding_logit[:, j]])
        for j in range(text_scores.shape[1])
    ]
