"""Map answers, sentences and themes to PCMW/ACD outcomes and to recommendation headings.

There is no labelled data for this mapping, so it is a transparent similarity model rather than a
fitted one: each outcome has a *profile* (its name, our description, every maturity or success
criterion, its keywords), each heading likewise, and a text's score for a target is its best
sentence-to-profile cosine rescaled to [0, 1], plus a small bonus when the text uses the target's own
cue words. The rescaling anchors are the cosine levels MiniLM gives unrelated domain sentences (about
0.15) and near-paraphrases (about 0.65); ``min_score`` then keeps only targets a reader would agree the
text speaks to. Weights and cut-offs were checked on ``evaluation/data/outcome_mapping_labelled.yaml``
(``python -m evaluation.outcome_mapping``). Scores are comparable across targets, not probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpora.codebook import Codebook, Theme

from .cue_words import CuePattern, compile_cues
from .embedding_protocol import Encodes

COSINE_FLOOR = 0.15
COSINE_CEILING = 0.65
CUE_WEIGHT = 0.15


@dataclass(frozen=True)
class TargetScore:
    id: str
    label: str
    score: float


@dataclass(frozen=True)
class _Profiles:
    ids: tuple[str, ...]
    labels: tuple[str, ...]
    embeddings: np.ndarray  # (n_texts, d)
    owners: np.ndarray  # (n_texts,) index into ids
    cues: tuple[CuePattern, ...]
    weights: np.ndarray  # (n_texts,) multiplier on each text's cosine
    starts: np.ndarray | None  # each target's first text (owners are contiguous); None if one has no text


class OutcomeMapper:
    """Scores texts against every outcome and recommendation heading of the codebook."""

    def __init__(
        self,
        codebook: Codebook,
        embedder: Encodes,
        *,
        min_score: float = 0.45,
        max_outcomes: int = 3,
        max_headings: int = 2,
        criteria_weight: float = 0.7,
        relative_margin: float = 0.15,
    ) -> None:
        self.codebook = codebook
        self.embedder = embedder
        self.min_score = min_score
        self.max_outcomes = max_outcomes
        self.max_headings = max_headings
        self.criteria_weight = criteria_weight
        self.relative_margin = relative_margin

    def fit(self) -> OutcomeMapper:
        outcome_texts = []
        for o in self.codebook.outcomes:
            core = [o.name, f"{o.name}. {o.description}", *o.aliases, ", ".join(o.keywords)]
            detail = [*o.criteria.foundation, *o.criteria.developing, *o.criteria.mature] if o.criteria else []
            detail += list(o.success_criteria)
            outcome_texts.append((o.id, o.label, core, detail, o.keywords))
        heading_texts = [
            (h.id, h.label, [h.label, f"{h.label}. {h.description}", ", ".join(h.keywords)], [], h.keywords)
            for h in self.codebook.headings
        ]
        self.outcomes_ = self._profiles(outcome_texts)
        self.headings_ = self._profiles(heading_texts)
        return self

    def _profiles(self, items: Sequence[tuple[str, str, Sequence[str], Sequence[str], Sequence[str]]]) -> _Profiles:
        """Core texts (name, description, aliases, keywords) count in full; the many detailed criteria
        are discounted, because with dozens of them some criterion of a wrong outcome often matches."""
        flat, owners, weights = [], [], []
        for i, (_id, _label, core, detail, _kw) in enumerate(items):
            for text in dict.fromkeys(core):
                flat.append(text)
                owners.append(i)
                weights.append(1.0)
            for text in dict.fromkeys(t for t in detail if t not in core):
                flat.append(text)
                owners.append(i)
                weights.append(self.criteria_weight)
        return _Profiles(
            ids=tuple(i[0] for i in items),
            labels=tuple(i[1] for i in items),
            embeddings=np.asarray(self.embedder.encode(flat), dtype=np.float32),
            owners=np.array(owners),
            cues=tuple(compile_cues(kw) for *_rest, kw in items),
            weights=np.array(weights, dtype=np.float32),
            starts=np.searchsorted(owners, np.arange(len(items))) if len(set(owners)) == len(items) else None,
        )

    @staticmethod
    def _scores(profiles: _Profiles, sentence_emb: np.ndarray, text: str) -> np.ndarray:
        if sentence_emb.size == 0:
            return np.zeros(len(profiles.ids), dtype=np.float32)
        sims = sentence_emb @ profiles.embeddings.T  # (S, n_texts)
        best_per_text = sims.max(axis=0) * profiles.weights
        # Each target's best text: one reduction over its contiguous run (``np.maximum.at`` is the same
        # maximum, element by element, and ten times slower).
        if profiles.starts is not None:
            best = np.maximum(np.maximum.reduceat(best_per_text, profiles.starts), np.float32(-1.0))
        else:
            best = np.full(len(profiles.ids), -1.0, dtype=np.float32)
            np.maximum.at(best, profiles.owners, best_per_text)
        scaled = np.clip((best - COSINE_FLOOR) / (COSINE_CEILING - COSINE_FLOOR), 0.0, 1.0)
        cue = np.array([min(c.hits(text), 2) / 2 for c in profiles.cues], dtype=np.float32)
        return (1 - CUE_WEIGHT) * scaled + CUE_WEIGHT * cue

    def _ranked(self, profiles: _Profiles, scores: np.ndarray, limit: int) -> tuple[TargetScore, ...]:
        """Targets above ``min_score`` and within ``relative_margin`` of the best: a second outcome is
        shown only when the text speaks to it almost as clearly as to the first."""
        order = np.argsort(-scores, kind="stable")
        best = float(scores[order[0]]) if len(order) else 0.0
        return tuple(
            TargetScore(profiles.ids[i], profiles.labels[i], float(scores[i]))
            for i in order[:limit]
            if scores[i] >= self.min_score and scores[i] >= best - self.relative_margin
        )

    def map_embedded(self, sentence_emb: np.ndarray, text: str) -> tuple[tuple[TargetScore, ...], tuple[TargetScore, ...]]:
        """(outcomes, headings) for one text whose sentences are already embedded, best first."""
        return (
            self._ranked(self.outcomes_, self._scores(self.outcomes_, sentence_emb, text), self.max_outcomes),
            self._ranked(self.headings_, self._scores(self.headings_, sentence_emb, text), self.max_headings),
        )

    def map_texts(self, texts: Sequence[str]) -> list[tuple[tuple[TargetScore, ...], tuple[TargetScore, ...]]]:
        """Each text treated as one unit (a sentence, or a short answer)."""
        emb = np.asarray(self.embedder.encode(list(texts)), dtype=np.float32)
        return [self.map_embedded(emb[i : i + 1], t) for i, t in enumerate(texts)]

    def map_theme(self, theme: Theme) -> tuple[tuple[TargetScore, ...], tuple[TargetScore, ...]]:
        """A theme is mapped through its definition and examples: where do answers like these point?"""
        texts = [f"{theme.label}. {theme.definition}", *theme.examples]
        emb = np.asarray(self.embedder.encode(texts), dtype=np.float32)
        return self.map_embedded(emb, " ".join(texts))
