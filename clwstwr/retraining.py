"""Learning from the reviewers: refit the theme suggester on their settled codes and show what changed.

Training data = the bundled labelled answers + the round's *settled* answers (consensus codes where
recorded, otherwise the set every coder who finished the answer agrees on: accepted and added themes
are positives, rejected, removed and unchosen themes of the question negatives). A deterministic 30%
of the settled answers (chosen by a hash of the answer id, so the same answers stay out on every rerun
and as decisions accumulate) is held out: the new model never trains on them, and per theme precision
and recall of the suggestions on them are reported for the current model (BEFORE) and the refitted one
(AFTER). A bundled training answer with the same text as a settled answer is dropped, so the held-out
answers cannot slip back in through the bundled data and the reviewers' codes replace the bundled ones.

Caveat reported with the numbers: the bundled model was itself fitted on the sample round's answers,
so on that round BEFORE is measured partly on its own training data (``before_model_trained_on``).

The new model is saved as an artefact with its model card and recorded in ``retrain_runs``; it is not
put into service here (re-suggesting a round with it is a separate, deliberate step).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from corpora.codebook import Codebook
from models.artefacts import load_artefact
from nlp.suggestion_service import SuggestionService
from nlp.theme_suggester import LabelledAnswer, ThemeSuggester
from store import consensus
from store.coding_tables import RetrainRun
from store.database import transaction
from store.rounds import require_round
from store.schema import Round
from store.workspace import CodingError, add_event, check_name

from .active_model import record_active
from .context import AppContext
from .suggesting import DEFAULT_SEED, bundled_labelled, load_or_fit_suggester, training_key

log = logging.getLogger(__name__)

HOLDOUT_SHARE = 0.30
STALE_AFTER = timedelta(hours=1)  # a "running" row older than this was left by a process that died


@dataclass(frozen=True)
class TrainingSplit:
    labelled: tuple[LabelledAnswer, ...]  # what the new model is fitted on
    holdout: tuple[consensus.DecidedAnswer, ...]  # what it is measured on, never trained on
    trained_decided: int  # settled answers of the round in ``labelled``
    bundled_dropped: int  # bundled answers replaced by (or held out as) a settled answer
    before_trained_on: int  # held-out answers the current bundled model had in its training data


@dataclass(frozen=True)
class RetrainResult:
    id: int
    status: str
    model_before: str
    model_after: str | None
    artefact: str | None
    metrics: dict[str, Any]
    error: str | None
    started_by: str
    started_at: datetime
    finished_at: datetime | None


def in_holdout(answer_id: int, share: float = HOLDOUT_SHARE) -> bool:
    """Whether an answer is held out: a fixed function of its id, not of the run or the other answers."""
    digest = hashlib.sha256(f"clwstwr-holdout:{answer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def build_training_split(codebook: Codebook, round_name: str, decided: Sequence[consensus.DecidedAnswer]) -> TrainingSplit:
    holdout = tuple(d for d in decided if in_holdout(d.answer_id))
    train = [d for d in decided if not in_holdout(d.answer_id)]
    held_texts = {_norm(t) for d in holdout for t in (d.text, d.original_text)}
    all_texts = held_texts | {_norm(t) for d in train for t in (d.text, d.original_text)}
    bundled = bundled_labelled(codebook)
    kept = [b for b in bundled if _norm(b.text) not in all_texts]
    before_trained_on = sum(1 for d in holdout if {_norm(d.text), _norm(d.original_text)} & {_norm(b.text) for b in bundled})
    own = [LabelledAnswer(d.text, d.question_id, d.themes, f"{round_name}:{d.cluster_name}") for d in train]
    return TrainingSplit(tuple(kept + own), holdout, len(own), len(bundled) - len(kept), before_trained_on)


# ------------------------------------------------------------------------------------------ metrics


def _suggested(suggester: ThemeSuggester, holdout: Sequence[consensus.DecidedAnswer]) -> list[set[str]]:
    scores = suggester.score([d.text for d in holdout], [d.question_id for d in holdout])
    return [{s.theme_id for s in answer.suggested} for answer in scores]


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _counts(pairs: Sequence[tuple[set[str], set[str]]], theme: str | None) -> dict[str, Any]:
    tp = fp = fn = 0
    for suggested, gold in pairs:
        if theme is not None:
            suggested, gold = suggested & {theme}, gold & {theme}
        tp += len(suggested & gold)
        fp += len(suggested - gold)
        fn += len(gold - suggested)
    return {"tp": tp, "fp": fp, "fn": fn, "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn)}


def holdout_metrics(
    codebook: Codebook, holdout: Sequence[consensus.DecidedAnswer], before: list[set[str]], after: list[set[str]]
) -> dict[str, Any]:
    """Per theme (for the questions held out) and pooled: precision, recall, F1 before and after.

    A precision with no suggestion, or a recall with no gold positive, is ``None`` (undefined), never 0.
    """
    gold = [set(d.themes) for d in holdout]
    questions = [q for q in codebook.questions if any(d.question_id == q.id for d in holdout)]
    themes = []
    for question in questions:
        idx = [i for i, d in enumerate(holdout) if d.question_id == question.id]
        for theme in question.themes:
            b = _counts([(before[i], gold[i]) for i in idx], theme.id)
            a = _counts([(after[i], gold[i]) for i in idx], theme.id)
            themes.append({"theme": theme.id, "label": theme.label, "question": question.id,
                           "support": sum(theme.id in gold[i] for i in idx), "answers": len(idx),
                           "before": b, "after": a})
    return {
        "themes": themes,
        "overall": {"before": _counts(list(zip(before, gold)), None), "after": _counts(list(zip(after, gold)), None)},
    }


# ------------------------------------------------------------------------------------------ running


def start_retrain(ctx: AppContext, service: SuggestionService, round_name: str, *, actor: str) -> int:
    """Check there is something to learn from and open a ``retrain_runs`` row (status running)."""
    actor = check_name(actor, "actor")
    with transaction(ctx.sessions) as session:
        round_ = require_round(session, round_name)
        if not consensus.decided_answers(session, round_name):
            raise CodingError(
                f"round '{round_name}' has no settled answers yet: retraining needs answers coders have marked "
                "done and agree on, or a consensus code"
            )
        running = session.scalar(
            select(RetrainRun.id).where(RetrainRun.round_id == round_.id, RetrainRun.status == "running",
                                        RetrainRun.started_at > datetime.now(timezone.utc) - STALE_AFTER)
        )
        if running is not None:
            raise CodingError(f"retraining run {running} of round '{round_name}' is still running; wait for it")
        row = RetrainRun(round_id=round_.id, started_by=actor, model_before=service.model, metrics={})
        session.add(row)
        session.flush()
        add_event(session, actor, "coding.retrain_started", round_.id, {"retrain_id": row.id, "model": service.model})
        return row.id


def run_retrain(
    ctx: AppContext, service: SuggestionService, retrain_id: int, *, progress: Callable[[str], None] = lambda _m: None
) -> RetrainResult:
    """Fit, measure and record; any failure is recorded on the row (status failed) and re-raised."""
    try:
        with transaction(ctx.sessions) as session:
            row = session.get(RetrainRun, retrain_id)
            if row is None:
                raise CodingError(f"no retraining run with id {retrain_id}")
            round_name = require_round_name(session, row.round_id)
            decided = consensus.decided_answers(session, round_name)
        split = build_training_split(ctx.codebook, round_name, decided)
        progress(f"fitting on {len(split.labelled)} labelled answers; {len(split.holdout)} held out")
        suggester, artefact = _fit(ctx.settings.models_dir, ctx.codebook, service, split)
        before = _suggested(service.suggester, split.holdout)
        after = _suggested(suggester, split.holdout)
        metrics = holdout_metrics(ctx.codebook, split.holdout, before, after)
        metrics.update({
            "holdout_share": HOLDOUT_SHARE,
            "holdout_answers": [d.answer_id for d in split.holdout],
            "settled_answers": len(decided),
            "trained_on_settled": split.trained_decided,
            "n_training": len(split.labelled),
            "bundled_dropped": split.bundled_dropped,
            "before_model_trained_on": split.before_trained_on,
            "training_key": training_key(ctx.codebook, split.labelled, DEFAULT_SEED),
        })
        with transaction(ctx.sessions) as session:
            row = session.get(RetrainRun, retrain_id)
            row.status, row.model_after, row.artefact = "done", suggester.identity, str(artefact)
            row.metrics, row.finished_at = metrics, datetime.now(timezone.utc)
            add_event(session, row.started_by, "coding.retrain_finished", row.round_id,
                      {"retrain_id": row.id, "model_after": suggester.identity, "holdout": len(split.holdout),
                       "f1_before": metrics["overall"]["before"]["f1"], "f1_after": metrics["overall"]["after"]["f1"]})
    except Exception as exc:
        log.exception("retraining run %s failed", retrain_id)
        message = str(exc) if isinstance(exc, CodingError) else f"{exc.__class__.__name__}: {exc}"
        with transaction(ctx.sessions) as session:
            row = session.get(RetrainRun, retrain_id)
            if row is not None:
                row.status, row.error, row.finished_at = "failed", message, datetime.now(timezone.utc)
                add_event(session, row.started_by, "coding.retrain_failed", row.round_id,
                          {"retrain_id": row.id, "error": message})
        raise
    return retrain_result(ctx, retrain_id)


def retrain(ctx: AppContext, service: SuggestionService, round_name: str, *, actor: str) -> RetrainResult:
    """Start and run one retraining in this thread (the CLI's and the tests' way)."""
    return run_retrain(ctx, service, start_retrain(ctx, service, round_name, actor=actor))


def activate_retrain(
    ctx: AppContext, service: SuggestionService, retrain_id: int, round_name: str, *, actor: str
) -> SuggestionService:
    """Put a finished retraining run's model into service; returns the service to use from now on.

    The choice is recorded beside the artefacts (``clwstwr.active_model``) so a restarted app keeps it,
    and as an event. The de-identifier and outcome mapper are shared: only the theme model changes.
    """
    actor = check_name(actor, "actor")
    result = retrain_result(ctx, retrain_id, round_name)
    if result.status != "done" or not result.artefact:
        raise CodingError(f"retraining run {retrain_id} is {result.status}: only a finished run can be put into service")
    model, card = load_artefact(Path(result.artefact))
    if not isinstance(model, ThemeSuggester) or card.codebook_version != ctx.codebook.version:
        raise CodingError(f"retraining run {retrain_id}'s model was fitted for another codebook version; retrain again")
    if not model.has_current_features:
        raise CodingError(f"retraining run {retrain_id}'s model was fitted on an older version of the theme features; "
                          "retrain again")
    suggester = model.with_embedder(service.suggester.embedder)
    record_active(ctx.settings.models_dir, Path(result.artefact), card.version, actor=actor, retrain_id=retrain_id)
    with transaction(ctx.sessions) as session:
        round_ = require_round(session, round_name)
        add_event(session, actor, "coding.model_activated", round_.id,
                  {"retrain_id": retrain_id, "model_before": service.model, "model_after": suggester.identity})
    return SuggestionService(service.codebook, service.deidentifier, suggester, service.mapper)


def require_round_name(session: Session, round_id: int) -> str:
    name = session.scalar(select(Round.name).where(Round.id == round_id))
    if name is None:
        raise CodingError(f"round id {round_id} no longer exists (deleted while retraining?)")
    return name


def retrain_result(ctx: AppContext, retrain_id: int, round_name: str | None = None) -> RetrainResult:
    with transaction(ctx.sessions) as session:
        row = session.get(RetrainRun, retrain_id)
        if row is None or (round_name is not None and require_round(session, round_name).id != row.round_id):
            where = f" in round '{round_name}'" if round_name else ""
            raise CodingError(f"no retraining run with id {retrain_id}{where}")
        return RetrainResult(row.id, row.status, row.model_before, row.model_after, row.artefact, dict(row.metrics or {}),
                             row.error, row.started_by, row.started_at, row.finished_at)


def _fit(models_dir: Path, codebook: Codebook, service: SuggestionService, split: TrainingSplit) -> tuple[ThemeSuggester, Path]:
    """The refitted suggester (reused when this exact training set was fitted before), saved with its card."""
    return load_or_fit_suggester(
        models_dir, codebook, service.suggester.embedder, list(split.labelled), seed=DEFAULT_SEED,
        notes=(f"retrained on bundled answers and {split.trained_decided} settled answers of a round; "
               f"{len(split.holdout)} settled answers held out"),
    )
