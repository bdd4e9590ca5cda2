"""Features of an (answer, theme) pair: how strongly does this answer speak to this theme?

The suggester scores pairs, not answers, with one shared model. That is what lets it work from the
codebook alone on day one and generalise from a few dozen labelled answers: it learns how much a close
match to a theme's examples, to its definition, or to its cue words is worth, not a separate vocabulary
per theme. Per-theme bias terms let it learn that some themes are simply more common.

A theme's *bank* holds embeddings of its codebook examples and of answers labelled with it. An answer
must never be compared with itself (or, in training, anything from the same source): similarity 1.0 to
its own copy would teach the model that bank matches are perfect evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpora.codebook import Theme

from .cue_words import CuePattern

# Bump when features change meaning, so a model fitted on the old ones is never loaded for the new.
FEATURE_VERSION = 5  # 2: answer vector = mean of sentence vectors; 3: evidence from curated examples; 4: plural cue words also find their singular; 5: Welsh cue words also find their mutated forms

TOP_K = 3  # answer-to-bank similarity averages the 3 nearest entries: one lucky match is not enough

FEATURE_NAMES = (
    "best_sentence_to_bank",
    "answer_to_bank_topk",
    "best_sentence_to_definition",
    "cue_hits",
    "bank_margin",
    "definition_margin",
    "is_best_in_question",
    "log_words",
)


@dataclass(frozen=True)
class ThemeBank:
    """Embeddings grouped by theme, with the source each came from (for self-exclusion)."""

    theme_ids: tuple[str, ...]
    embeddings: np.ndarray  # (n, d) float32, L2-normalised, grouped by theme in theme_ids order
    owners: np.ndarray  # (n,) int index into theme_ids
    sources: tuple[str, ...]  # (n,) source id of each entry
    definitions: np.ndarray  # (len(theme_ids), d): label + definition embedding per theme
    curated: np.ndarray  # (n,) bool: codebook examples (one idea each), as opposed to whole labelled answers

    def theme_slices(self) -> list[slice]:
        out = []
        for i in range(len(self.theme_ids)):
            idx = np.flatnonzero(self.owners == i)
            out.append(slice(int(idx[0]), int(idx[-1]) + 1) if idx.size else slice(0, 0))
        return out


def pair_features(
    sentence_emb: np.ndarray,
    answer_emb: np.ndarray,
    text: str,
    sentences: Sequence[str],
    candidate_groups: Sequence[Sequence[int]],
    bank: ThemeBank,
    slices: Sequence[slice],
    cues: Sequence[CuePattern],
    exclude_source: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features for every candidate theme of one answer.

    ``candidate_groups`` lists theme indices grouped by question: margins compare a theme with the
    other themes of its own question (a barrier answer's "funding" competes with "time", not with an
    enabler theme). Returns (features (k, F), per-theme best sentence index (k,)), k = candidates.
    """
    n_sent = sentence_emb.shape[0]
    sims = sentence_emb @ bank.embeddings.T  # (S, n)
    answer_sims = answer_emb @ bank.embeddings.T  # (n,)
    if exclude_source is not None:
        mask = np.fromiter((s == exclude_source for s in bank.sources), dtype=bool, count=len(bank.sources))
        sims[:, mask] = -1.0
        answer_sims[mask] = -1.0
    def_sims = sentence_emb @ bank.definitions.T  # (S, T)
    words = max(1, len(text.split()))
    rows: list[np.ndarray] = []
    best_sentence: list[int] = []
    for group in candidate_groups:
        per_theme_sent = np.full((len(group), n_sent), -1.0, dtype=np.float32)
        topk = np.zeros(len(group), dtype=np.float32)
        for j, t in enumerate(group):
            cols = slices[t]
            if cols.stop > cols.start:
                per_theme_sent[j] = sims[:, cols].max(axis=1)
                column = np.sort(answer_sims[cols])[::-1][:TOP_K]
                column = column[column > -1.0]
                topk[j] = float(column.mean()) if column.size else 0.0
        best_bank = per_theme_sent.max(axis=1)
        best_def = def_sims[:, list(group)].max(axis=0)
        hits = np.array([cues[t].hits(text) for t in group], dtype=np.float32)
        for j, t in enumerate(group):
            others = [k for k in range(len(group)) if k != j]
            bank_margin = best_bank[j] - (best_bank[others].max() if others else 0.0)
            def_margin = best_def[j] - (best_def[others].max() if others else 0.0)
            rows.append(
                np.array(
                    [
                        best_bank[j],
                        topk[j],
                        best_def[j],
                        np.log1p(hits[j]),
                        bank_margin,
                        def_margin,
                        1.0 if best_bank[j] >= best_bank.max() else 0.0,
                        np.log(words),
                    ],
                    dtype=np.float32,
                )
            )
            best_sentence.append(_evidence_sentence(sims, def_sims, bank, slices[t], t, cues[t], sentences))
    return np.vstack(rows), np.array(best_sentence, dtype=np.int64)


def _evidence_sentence(
    sims: np.ndarray, def_sims: np.ndarray, bank: ThemeBank, cols: slice, theme: int, cue: CuePattern,
    sentences: Sequence[str],
) -> int:
    """The sentence that is the evidence for a theme: closest to the theme's curated examples and its
    definition, nudged towards one using its cue words. Whole labelled answers are left out here: they
    mix several themes, so closeness to one says little about which *sentence* carries this theme."""
    if sims.shape[0] == 1:
        return 0  # the only sentence (a short answer, the API's common case): nothing to weigh
    curated = np.flatnonzero(bank.curated[cols]) + cols.start
    by_examples = sims[:, curated].max(axis=1) if curated.size else np.zeros(sims.shape[0], dtype=np.float32)
    cue_bonus = np.array([0.05 * min(cue.hits(s), 2) for s in sentences], dtype=np.float32)
    return int(np.argmax(np.maximum(by_examples, def_sims[:, theme]) + cue_bonus))


def build_bank(
    themes: Sequence[Theme],
    entries: Sequence[tuple[str, str, str]],
    encode,  # type: ignore[no-untyped-def]  # Callable[[Sequence[str]], np.ndarray]
) -> ThemeBank:
    """Embed ``entries`` (theme id, text, source) and each theme's definition into a ThemeBank."""
    theme_ids = tuple(t.id for t in themes)
    index = {tid: i for i, tid in enumerate(theme_ids)}
    ordered = sorted((e for e in entries if e[0] in index), key=lambda e: index[e[0]])
    texts = [e[1] for e in ordered]
    emb = encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    definitions = encode([f"{t.label}. {t.definition}" for t in themes])
    return ThemeBank(
        theme_ids=theme_ids,
        embeddings=np.asarray(emb, dtype=np.float32),
        owners=np.array([index[e[0]] for e in ordered], dtype=np.int64),
        sources=tuple(e[2] for e in ordered),
        definitions=np.asarray(definitions, dtype=np.float32),
        curated=np.array([e[2].startswith("example:") for e in ordered], dtype=bool),
    )
