"""Suggest the themes a trained reviewer would code, with a score and the sentence that is the evidence.

One logistic model over (answer, theme) pairs (see ``theme_features``). It is fitted on whatever is
labelled: on day one the codebook's own examples, later the sample round and reviewers' decisions. The
decision threshold and the fallback floor are chosen on out-of-fold predictions (grouped by source, so
one cluster's answers never inform their own scores), never on the data being scored.

Follows the scikit-learn estimator contract: ``__init__`` stores parameters, ``fit`` returns self,
learned state ends in ``_``; the seed is a parameter, and the same seed and data give the same model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler

from corpora.codebook import Codebook

from .cue_words import compile_cues
from .embedding_protocol import Encodes
from .segmentation import Segment, make_sentencizer, segment
from .theme_features import FEATURE_NAMES, FEATURE_VERSION, build_bank, pair_features

# Answers that say nothing: they fit no theme, whatever a model would make of them. Anchored at the
# start and limited in length, so "N/A for us, but funding is..." is still analysed.
NON_ANSWER = re.compile(
    r"^\W*(?:"
    r"n\s*/\s*a|na|none|nil|no|nothing|not applicable|no comments?|no further comments?|"
    r"(?:nothing|nil|none|no) (?:further|else|more)?\s*(?:to add|to report|to say|comments?)?|"
    r"(?:see|as|same as|covered|refer to|please see)\s+(?:in\s+)?(?:above|before|below|previous(?:ly)?|attached|earlier|"
    r"section|comments?|answers?|question|the previous|the above|other)[\w\s/.-]*|"
    r"as per (?:the )?(?:previous|above|earlier)[\w\s]*|dim|dim byd|dim sylw|dim i'w ychwanegu|amherthnasol"
    r")(?:\W+(?:see|as|covered)\b[\w\s/.-]*)?\W*$",
    re.IGNORECASE,
)
MAX_NON_ANSWER_CHARS = 80


@dataclass(frozen=True)
class LabelledAnswer:
    """A text with the themes a reviewer coded (empty = fits none), and where it came from."""

    text: str
    question_id: str
    themes: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class ThemeScore:
    theme_id: str
    score: float
    sentence_index: int  # index into the answer's segments; -1 when the answer has none


@dataclass(frozen=True)
class AnswerScores:
    segments: tuple[Segment, ...]
    ranked: tuple[ThemeScore, ...]  # every candidate theme, best first
    suggested: tuple[ThemeScore, ...]  # those a reviewer should see, best first; empty = fits none
    sentence_embeddings: np.ndarray  # (len(segments), d): reused by outcome mapping, not recomputed


def is_non_answer(text: str) -> bool:
    stripped = text.strip()
    return not stripped or (len(stripped) <= MAX_NON_ANSWER_CHARS and bool(NON_ANSWER.match(stripped)))


class ThemeSuggester:
    """Multi-label theme suggestions per question kind, fitted on labelled answers and examples."""

    def __init__(
        self,
        codebook: Codebook,
        embedder: Encodes,
        *,
        seed: int = 0,
        C: float = 0.5,
        n_folds: int = 5,
        use_codebook_examples: bool = True,
    ) -> None:
        self.codebook = codebook
        self.embedder = embedder
        self.seed = seed
        self.C = C
        self.n_folds = n_folds
        self.use_codebook_examples = use_codebook_examples

    # ----------------------------------------------------------------------------------- fitting
    def fit(self, labelled: Sequence[LabelledAnswer]) -> ThemeSuggester:
        themes = self.codebook.themes_for(None)
        self.feature_version_ = FEATURE_VERSION
        self.theme_ids_ = tuple(t.id for t in themes)
        self._index = {tid: i for i, tid in enumerate(self.theme_ids_)}
        self._cues = [compile_cues((*t.keywords, t.label)) for t in themes]
        self._sentencizer = make_sentencizer()
        examples = self._codebook_examples() if self.use_codebook_examples else []
        training = [*examples, *labelled]
        entries = [(tid, a.text, a.source) for a in training for tid in a.themes if a.text.strip()]
        self.bank_ = build_bank(themes, entries, self.embedder.encode)
        self._slices = self.bank_.theme_slices()

        usable = [a for a in training if not is_non_answer(a.text)]
        X, y, groups, owner = self._pairs(usable, exclude_self=True)
        self.scaler_ = StandardScaler().fit(X)
        self.model_ = LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed)
        self.model_.fit(self.scaler_.transform(X), y)
        oof = self._out_of_fold(X, y, groups)
        self.threshold_, self.floor_, self.metrics_ = _choose_cutoffs(oof, y, usable, owner)
        self.metrics_["n_labelled"] = len(labelled)
        self.metrics_["n_codebook_examples"] = len(examples)
        self.fit_hash_ = _fit_hash(training, self.seed, self.C)
        return self

    def _codebook_examples(self) -> list[LabelledAnswer]:
        out = []
        for question in self.codebook.questions:
            for theme in question.themes:
                for i, example in enumerate(theme.examples):
                    out.append(LabelledAnswer(example, question.id, (theme.id,), f"example:{theme.id}:{i}"))
        return out

    def _groups_for(self, question_id: str | None) -> list[list[int]]:
        """The candidate themes, grouped as they compete: a question's own themes, or -- with no
        question -- all themes as one group. Kept as six groups, every question's leading theme got
        a near-certain "best in its question" score and the ranking across questions was left to
        noise (a long barrier answer about finance came out "innovation and progress" first)."""
        if question_id is None:
            return [[self._index[t.id] for q in self.codebook.questions for t in q.themes]]
        return [[self._index[t.id] for t in self.codebook.question(question_id).themes]]

    def _pairs(
        self, answers: Sequence[LabelledAnswer], *, exclude_self: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]]]:
        segs = [self._segments(a.text) for a in answers]
        sent_emb, ans_emb = self._embed(answers_text=[a.text for a in answers], segments=segs)
        rows, labels, groups, owner = [], [], [], []
        for i, answer in enumerate(answers):
            group = self._groups_for(answer.question_id)
            feats, _ = pair_features(
                sent_emb[i], ans_emb[i], answer.text, [s.text for s in segs[i]], group, self.bank_, self._slices,
                self._cues, answer.source if exclude_self else None,
            )
            flat = [t for g in group for t in g]
            rows.append(np.hstack([feats, self._one_hot(flat)]))
            labels.extend(1 if self.theme_ids_[t] in answer.themes else 0 for t in flat)
            groups.extend([answer.source] * len(flat))
            owner.extend((i, t) for t in flat)
        return np.vstack(rows), np.array(labels), np.array(groups), owner

    def _one_hot(self, flat: Sequence[int]) -> np.ndarray:
        hot = np.zeros((len(flat), len(self.theme_ids_)), dtype=np.float32)
        hot[np.arange(len(flat)), list(flat)] = 1.0
        return hot

    def _out_of_fold(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
        n_groups = len(set(groups.tolist()))
        folds = GroupKFold(n_splits=min(self.n_folds, n_groups))
        oof = np.zeros(len(y), dtype=np.float64)
        for train, test in folds.split(X, y, groups):
            if len(set(y[train].tolist())) < 2:
                oof[test] = y[train].mean()
                continue
            scaler = StandardScaler().fit(X[train])
            model = LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed)
            model.fit(scaler.transform(X[train]), y[train])
            oof[test] = model.predict_proba(scaler.transform(X[test]))[:, 1]
        return oof

    # -------------------------------------------------------------------------------- predicting
    def _segments(self, text: str) -> list[Segment]:
        segs = segment(text, self._sentencizer)
        if not segs and text.strip():
            stripped = text.strip()
            start = text.index(stripped)
            segs = [Segment(start, start + len(stripped), stripped)]
        return segs

    def segment_all(self, texts: Sequence[str]) -> list[list[Segment]]:
        """The coding units of each text, as ``score`` cuts them (exposed so that a caller can embed
        them ahead of scoring, e.g. while de-identification is still running)."""
        return [self._segments(t) for t in texts]

    @staticmethod
    def sentence_texts(segments: Sequence[Sequence[Segment]]) -> list[str]:
        """The one flat list of sentences ``score`` encodes in a single call, in that order."""
        return [s.text for segs in segments for s in segs]

    def _embed(self, answers_text: Sequence[str], segments: Sequence[Sequence[Segment]]) -> tuple[list[np.ndarray], np.ndarray]:
        """One encode call for every sentence; an answer's own vector is the normalised mean of its
        sentences' vectors. Encoding each whole answer as well would double the model's work (and the
        API's latency) for a vector that differs little from the mean of its parts."""
        flat = self.sentence_texts(segments)
        emb = np.asarray(self.embedder.encode(flat), dtype=np.float32) if flat else np.zeros((0, 0), np.float32)
        return self._split(emb, segments)

    def _split(self, emb: np.ndarray, segments: Sequence[Sequence[Segment]]) -> tuple[list[np.ndarray], np.ndarray]:
        dim = int(self.bank_.embeddings.shape[1])
        per_answer: list[np.ndarray] = []
        answers = np.zeros((len(segments), dim), dtype=np.float32)
        position = 0
        for i, segs in enumerate(segments):
            block = emb[position : position + len(segs)] if segs else np.zeros((0, dim), np.float32)
            per_answer.append(block)
            position += len(segs)
            if len(segs):
                mean = block.mean(axis=0)
                norm = float(np.linalg.norm(mean))
                answers[i] = mean / norm if norm > 0 else mean
        return per_answer, answers

    def score(self, texts: Sequence[str], question_ids: Sequence[str | None]) -> list[AnswerScores]:
        """Scores for every candidate theme of each text (already de-identified), and the suggestions."""
        segs = self.segment_all(texts)
        sent_emb, ans_emb = self._embed(texts, segs)
        return self._score_embedded(texts, question_ids, segs, sent_emb, ans_emb)

    def score_segmented(
        self, texts: Sequence[str], question_ids: Sequence[str | None], segments: Sequence[Sequence[Segment]],
        sentence_vectors: np.ndarray,
    ) -> list[AnswerScores]:
        """``score`` for texts already cut by ``segment_all`` whose ``sentence_texts`` are already
        encoded (``sentence_vectors``, one row per sentence, in that order): the same result as
        ``score`` given the same vectors."""
        flat = self.sentence_texts(segments)
        if len(flat) != len(sentence_vectors):
            raise ValueError(f"{len(flat)} sentences but {len(sentence_vectors)} vectors")
        emb = np.asarray(sentence_vectors, dtype=np.float32) if flat else np.zeros((0, 0), np.float32)
        sent_emb, ans_emb = self._split(emb, segments)
        return self._score_embedded(texts, question_ids, segments, sent_emb, ans_emb)

    def _score_embedded(
        self, texts: Sequence[str], question_ids: Sequence[str | None], segs: Sequence[Sequence[Segment]],
        sent_emb: list[np.ndarray], ans_emb: np.ndarray,
    ) -> list[AnswerScores]:
        out: list[AnswerScores] = []
        for i, text in enumerate(texts):
            if is_non_answer(text) or not segs[i]:
                out.append(AnswerScores(tuple(segs[i]), (), (), sent_emb[i]))
                continue
            group = self._groups_for(question_ids[i])
            feats, best = pair_features(
                sent_emb[i], ans_emb[i], text, [s.text for s in segs[i]], group, self.bank_, self._slices, self._cues, None
            )
            flat = [t for g in group for t in g]
            probs = self._positive_probability(np.hstack([feats, self._one_hot(flat)]))
            ranked = sorted(
                (ThemeScore(self.theme_ids_[t], float(p), int(b)) for t, p, b in zip(flat, probs, best)),
                key=lambda s: (-s.score, self._index[s.theme_id]),
            )
            suggested = [s for s in ranked if s.score >= self.threshold_]
            if not suggested and ranked and ranked[0].score >= self.floor_:
                suggested = [ranked[0]]
            out.append(AnswerScores(tuple(segs[i]), tuple(ranked), tuple(suggested), sent_emb[i]))
        return out

    def _positive_probability(self, X: np.ndarray) -> np.ndarray:
        """``model_.predict_proba(scaler_.transform(X))[:, 1]``, bit for bit, computed the way
        scikit-learn computes it (float32 standardising, float64 decision, ``expit``) but without its
        per-call input checks, which cost more than the arithmetic for one answer's few rows."""
        scaler, model = self.scaler_, self.model_
        if (
            X.dtype != np.float32 or len(model.classes_) != 2 or not (scaler.with_mean and scaler.with_std)
            or scaler.scale_ is None or not np.isfinite(X).all()
        ):
            return model.predict_proba(scaler.transform(X))[:, 1]  # anything unusual: the checked path
        Z = X - scaler.mean_.astype(np.float32)
        Z /= scaler.scale_.astype(np.float32)
        return expit((Z @ model.coef_.T + model.intercept_).reshape(-1))

    @property
    def has_current_features(self) -> bool:
        """Whether this model was fitted on the features this code computes. A model saved before a
        change of feature meaning (``FEATURE_VERSION``) would be fed numbers it never learnt from, and
        its scores would be quietly wrong: such a model must be refitted, not used."""
        return getattr(self, "feature_version_", None) == FEATURE_VERSION

    @property
    def identity(self) -> str:
        return f"theme-suggester:{self.codebook.version}:{self.fit_hash_}"

    def __getstate__(self) -> dict[str, object]:
        """Pickle the fitted state, not the embedder (a model in its own right) or the sentencizer."""
        state = dict(self.__dict__)
        state.pop("embedder", None)
        state.pop("_sentencizer", None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.embedder = None  # type: ignore[assignment]
        self._sentencizer = make_sentencizer()
        # Cue patterns are rebuilt from their keywords rather than trusted as pickled: a model saved by
        # an older version carries older (slower, equivalent) patterns, and the matches are the same.
        if "_cues" in state:
            self._cues = [compile_cues(c.keywords) for c in state["_cues"]]  # type: ignore[attr-defined]

    def with_embedder(self, embedder: Encodes) -> ThemeSuggester:
        """Re-attach an embedder after loading; it must be the one the model was fitted with."""
        self.embedder = embedder
        return self


def _choose_cutoffs(
    oof: np.ndarray, y: np.ndarray, answers: Sequence[LabelledAnswer], owner: Sequence[tuple[int, int]]
) -> tuple[float, float, dict[str, float]]:
    """Threshold maximising pair F1 out of fold; then the floor for a lone top theme that maximises
    the share of answers whose first suggestion is right (an empty suggestion is right only for an
    answer coded with no theme)."""
    grid = np.round(np.arange(0.10, 0.91, 0.01), 2)
    f1s = []
    for t in grid:
        pred = oof >= t
        tp = int((pred & (y == 1)).sum())
        fp = int((pred & (y == 0)).sum())
        fn = int((~pred & (y == 1)).sum())
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    threshold = float(grid[int(np.argmax(f1s))])
    by_answer: dict[int, list[tuple[float, int]]] = {}
    for (i, _t), p, label in zip(owner, oof, y):
        by_answer.setdefault(i, []).append((float(p), int(label)))
    best_floor, best_acc = threshold, -1.0
    for floor in np.round(np.arange(0.0, threshold + 0.001, 0.01), 2):
        acc = _top1_accuracy(by_answer, threshold, float(floor))
        if acc > best_acc + 1e-9:
            best_floor, best_acc = float(floor), acc
    return threshold, best_floor, {
        "oof_pair_f1": round(float(max(f1s)), 4),
        "oof_top1_accuracy": round(best_acc, 4),
        "threshold": threshold,
        "floor": best_floor,
        "n_answers": len(answers),
    }


def _top1_accuracy(by_answer: dict[int, list[tuple[float, int]]], threshold: float, floor: float) -> float:
    right = 0
    for pairs in by_answer.values():
        top_p, top_label = max(pairs, key=lambda pl: pl[0])
        has_gold = any(label for _, label in pairs)
        suggests = top_p >= threshold or top_p >= floor
        right += int(top_label == 1) if suggests else int(not has_gold)
    return right / max(1, len(by_answer))


def _fit_hash(training: Sequence[LabelledAnswer], seed: int, C: float) -> str:
    digest = hashlib.sha256(f"{seed}|{C}|{FEATURE_VERSION}|{list(FEATURE_NAMES)}".encode())
    for a in training:
        digest.update(f"{a.source}\x1f{a.question_id}\x1f{','.join(a.themes)}\x1f{a.text}\x1e".encode())
    return digest.hexdigest()[:12]

