"""Round -> summaries -> report files: the report job shared by ``clwstwr report``, the API and the demo.

This is the only place that reads the store for a report: it loads the round (and the previous one),
limits everything to the report's scope (all Wales or one health board) *before* anything is
counted, and hands plain summaries to ``letters``, which decides what a reader may see. Text models
are loaded only for a coded round: its opportunities map sentences to recommendation headings, and
topic discovery (optional, the slow part) groups its sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from corpora.codebook import Codebook, HealthBoard
from letters.maturity_summary import MaturitySummary, summarise_maturity
from letters.opportunities import MapsTexts, OpportunitySentence, opportunity_sentences, source_answers
from letters.report_assembly import ReportInputs, build_report
from letters.report_files import FORMATS, ReportError, ReportFiles, check_formats, write_report_files
from letters.report_model import CandidateTheme, Scope, ThematicReport
from letters.suppression import DEFAULT_THRESHOLD, Suppression
from letters.theme_summary import QuestionThemes, summarise_themes
from store import coding, rounds
from store.coding import CodedAnswer
from store.database import transaction
from store.schema import Round

from .context import AppContext
from .suggesting import TextModels

__all__ = ["ReportError", "build_round_report", "summarise_round", "write_round_report"]


@dataclass(frozen=True)
class CodedRound:
    """A round's latest coding run: the answers as coded, and the model that coded them."""

    answers: tuple[CodedAnswer, ...]
    model: str
    run_id: int


def summarise_round(ctx: AppContext, round_name: str, board: str | None = None) -> MaturitySummary:
    with transaction(ctx.sessions) as session:
        data = rounds.load_round(session, round_name)
    submissions = [s for s in data.submissions if board is None or s.health_board_id == board]
    return summarise_maturity(ctx.codebook, data.name, submissions, data.total_clusters)


def coded_round(ctx: AppContext, round_name: str, board: str | None = None) -> CodedRound | None:
    """The latest coding run's answers (of one board's clusters, if given), or None if never coded."""
    with transaction(ctx.sessions) as session:
        latest = coding.latest_run(session, round_name)
        if latest is None:
            return None
        answers = coding.coded_answers(session, latest[0])
    return CodedRound(tuple(a for a in answers if board is None or a.health_board_id == board), latest[1], latest[0])


def resolve_board(codebook: Codebook, given: str) -> HealthBoard:
    """A board by id, short name or alias, any case ("pthb", "PTHB", "Powys")."""
    wanted = given.strip().lower()
    for b in codebook.health_boards:
        if wanted in {b.id, b.name.lower(), b.short_name.lower(), *(a.lower() for a in b.aliases)}:
            return b
    valid = ", ".join(f"{b.id} ({b.short_name})" for b in codebook.health_boards)
    raise ReportError(f"--board: unknown health board {given!r}; expected one of: {valid}")


def previous_round_name(ctx: AppContext, round_name: str, explicit: str | None) -> str | None:
    """``explicit`` if given (it must exist and differ), else the round stored just before this one."""
    with transaction(ctx.sessions) as session:
        current = rounds.require_round(session, round_name)
        if explicit is not None:
            if explicit == round_name:
                raise ReportError(f"--previous-round: round '{explicit}' is the round being reported; name an earlier one")
            return rounds.require_round(session, explicit).name
        return session.scalar(select(Round.name).where(Round.id < current.id).order_by(Round.id.desc()).limit(1))


def _themes(ctx: AppContext, coded: CodedRound | None) -> tuple[QuestionThemes, ...] | None:
    return summarise_themes(ctx.codebook, coded.answers) if coded is not None else None


CONTACT = re.compile(r"\[(?:EMAIL|PHONE)\]")
PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
MIN_WORDS = 4


def worth_a_topic(sentence: str) -> bool:
    """Contact lines and what is left of a sentence once names are removed ("[PERSON].") group into
    "topics" of their own; in a report for SPPC they are noise, not candidate themes."""
    if CONTACT.search(sentence):
        return False
    return len(re.findall(r"\w+", PLACEHOLDER.sub(" ", sentence))) >= MIN_WORDS


def candidate_themes(
    ctx: AppContext, models: TextModels, round_name: str, answer_ids: set[int] | None, *, seed: int = 0
) -> tuple[tuple[CandidateTheme, ...], int, float]:
    """Topic discovery over the round's sentences (only the given answers' when a board is asked for):
    the flagged topics, the number of sentences, and the threshold used."""
    from nlp.topic_discovery import DEFAULT_NEW_THEME_THRESHOLD, TopicDiscoverer

    from .topics import round_sentences

    units, _skipped = round_sentences(ctx, models, round_name)
    if answer_ids is not None:  # unit ids are "a<answer id>s<n>" (clwstwr.topics)
        units = [u for u in units if int(u.id[1:].split("s", 1)[0]) in answer_ids]
    units = [u for u in units if worth_a_topic(u.text)]
    found: list[CandidateTheme] = []
    if units:
        embeddings = models.embedder.encode([u.text for u in units])
        report = TopicDiscoverer(ctx.codebook, embedder=models.embedder, seed=seed).discover(units, embeddings)
        for topic in sorted(report.topics, key=lambda t: (-t.size, t.topic_id)):
            if topic.is_candidate_new_theme:
                nearest = ctx.codebook.theme(topic.nearest_theme).label if topic.nearest_theme else "none"
                found.append(CandidateTheme(topic.keywords, topic.size, topic.exemplars, nearest,
                                            topic.nearest_theme_similarity))
    return tuple(found), len(units), DEFAULT_NEW_THEME_THRESHOLD


def build_round_report(
    ctx: AppContext,
    round_name: str,
    *,
    board: str | None = None,
    previous_round: str | None = None,
    compare: bool = True,
    discovery: bool = True,
    text_models: TextModels | None = None,
    mapper: MapsTexts | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    now: datetime | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> ThematicReport:
    """The report model for a stored round, all Wales or (``board``) one health board's clusters."""
    chosen = resolve_board(ctx.codebook, board) if board is not None else None
    board_id = chosen.id if chosen else None
    scope = Scope(chosen, Suppression(threshold if chosen else None))
    progress(f"summarising round '{round_name}'" + (f" for {chosen.name}" if chosen else ""))
    summary = summarise_round(ctx, round_name, board_id)
    if chosen is not None and summary.responses == 0:
        raise ReportError(f"--board: round '{round_name}' has no responses from clusters in {chosen.name}")
    coded = coded_round(ctx, round_name, board_id)
    previous = previous_themes = None
    prior_name = previous_round_name(ctx, round_name, previous_round) if compare else None
    if prior_name is not None:
        progress(f"comparing with round '{prior_name}'")
        previous = summarise_round(ctx, prior_name, board_id)
        previous_themes = _themes(ctx, coded_round(ctx, prior_name, board_id))
    sentences: list[OpportunitySentence] | None = None
    base = 0
    candidates, n_sentences, cutoff = None, 0, None
    if coded is not None:
        from nlp.outcome_mapping import OutcomeMapper

        from .suggesting import load_text_models

        if text_models is None:
            progress("loading the text models")
        models = text_models or load_text_models(ctx.settings)
        progress("mapping what would help to recommendation headings")
        # A caller holding a suggestion service passes its fitted mapper rather than fitting another.
        mapper = mapper or OutcomeMapper(ctx.codebook, models.embedder).fit()
        sentences = opportunity_sentences(coded.answers, mapper)
        base = len({a.cluster_name for a in source_answers(coded.answers)})
        # Discovery runs on the coded round's de-identified sentences, beside the themes it questions; an
        # uncoded round has no theme section for candidates (and would need de-identifying first).
        if discovery:
            progress("discovering candidate new themes")
            ids = {a.answer_id for a in coded.answers} if chosen is not None else None
            candidates, n_sentences, cutoff = candidate_themes(ctx, models, round_name, ids)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    return build_report(ReportInputs(
        codebook=ctx.codebook, scope=scope, summary=summary, generated_at=stamp,
        themes=_themes(ctx, coded), coding_model=coded.model if coded else None, coding_run=coded.run_id if coded else None,
        previous=previous, previous_themes=previous_themes,
        opportunity_sentences=sentences, opportunity_base=base,
        candidates=candidates, discovery_sentences=n_sentences, discovery_threshold=cutoff,
    ))


def write_round_report(
    ctx: AppContext,
    round_name: str,
    out_dir: Path,
    *,
    formats: Iterable[str] = FORMATS,
    board: str | None = None,
    previous_round: str | None = None,
    compare: bool = True,
    discovery: bool = True,
    text_models: TextModels | None = None,
    mapper: MapsTexts | None = None,
    now: datetime | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> ReportFiles:
    """Write the thematic report of a stored round into ``out_dir``: ``report.html``, ``report.docx``,
    ``report.pdf`` (as ``formats`` asks) and always ``summary.json``; with ``board``, the same report
    for that board's clusters with small counts suppressed (``report-<board>.html``...).

    The previous round (``previous_round``, or by default the round stored before this one) is
    compared when there is one and ``compare`` is true. ``discovery`` runs topic discovery for
    candidate new themes on a coded round (BERTopic: the slow part; skip it for a quick report).
    """
    chosen = check_formats(formats)
    report = build_round_report(ctx, round_name, board=board, previous_round=previous_round, compare=compare,
                                discovery=discovery, text_models=text_models, mapper=mapper, now=now,
                                progress=progress)
    progress("writing " + ", ".join(chosen))
    return write_report_files(report, ctx.templates, out_dir, chosen)
