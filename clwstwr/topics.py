"""Topic discovery over a stored round: every sentence of every answer, de-identified first.

Sentences come from the round's latest coding run (already de-identified with the round's names); a
round never coded is de-identified here. Answers that say nothing ("N/A", "see above") are left out
and counted, because they would otherwise form a "topic" of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nlp.deidentify import Deidentifier, KnownNames
from nlp.segmentation import make_sentencizer, segment
from nlp.theme_suggester import is_non_answer
from nlp.topic_discovery import SentenceUnit, TopicDiscoverer, TopicReport
from store import coding
from store.database import transaction

from .context import AppContext
from .suggesting import TextModels


@dataclass(frozen=True)
class RoundTopics:
    report: TopicReport
    units: tuple[SentenceUnit, ...]
    non_answers: int


def round_sentences(ctx: AppContext, models: TextModels, round_name: str) -> tuple[list[SentenceUnit], int]:
    with transaction(ctx.sessions) as session:
        latest = coding.latest_run(session, round_name)
        if latest is not None:
            texts = [(c.answer_id, c.question_id, c.deidentified_text) for c in coding.coded_answers(session, latest[0])]
        else:
            raw = coding.answers_to_code(session, round_name)
            known = KnownNames(clusters=tuple(sorted({a.cluster_name for a in raw})))
            deidentifier = Deidentifier(models.spacy_pipeline, known, cue_words=ctx.codebook.cue_words())  # type: ignore[arg-type]
            cleaned = deidentifier.pipe([a.text for a in raw])
            texts = [(a.answer_id, a.question_id, d.text) for a, d in zip(raw, cleaned)]
    sentencizer = make_sentencizer()
    units: list[SentenceUnit] = []
    skipped = 0
    for answer_id, question_id, text in texts:
        if is_non_answer(text):
            skipped += 1
            continue
        for i, seg in enumerate(segment(text, sentencizer)):
            units.append(SentenceUnit(id=f"a{answer_id}s{i}", text=seg.text, question_id=question_id))
    return units, skipped


def discover_round_topics(
    ctx: AppContext,
    models: TextModels,
    round_name: str,
    *,
    seed: int = 0,
    min_topic_size: int = 5,
    progress: Callable[[str], None] = lambda _m: None,
) -> RoundTopics:
    units, skipped = round_sentences(ctx, models, round_name)
    progress(f"embedding {len(units)} sentences")
    embeddings = models.embedder.encode([u.text for u in units])
    progress("finding topics")
    discoverer = TopicDiscoverer(ctx.codebook, embedder=models.embedder, seed=seed, min_topic_size=min_topic_size)
    return RoundTopics(discoverer.discover(units, embeddings), tuple(units), skipped)
