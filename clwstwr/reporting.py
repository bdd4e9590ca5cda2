"""Round -> summaries -> files: the report job shared by ``clwstwr report`` and the demo."""

from __future__ import annotations

from pathlib import Path

from letters.maturity_report import CodedThemes, ReportFiles, write_maturity_report
from letters.maturity_summary import MaturitySummary, summarise_maturity
from letters.theme_summary import summarise_themes
from store import coding, rounds
from store.database import transaction

from .context import AppContext


def summarise_round(ctx: AppContext, round_name: str) -> MaturitySummary:
    with transaction(ctx.sessions) as session:
        data = rounds.load_round(session, round_name)
    return summarise_maturity(ctx.codebook, data.name, data.submissions, data.total_clusters)


def coded_themes(ctx: AppContext, round_name: str) -> CodedThemes | None:
    """Theme counts and quotes from the round's latest coding run, or None if it was never coded."""
    with transaction(ctx.sessions) as session:
        latest = coding.latest_run(session, round_name)
        if latest is None:
            return None
        answers = coding.coded_answers(session, latest[0])
    return CodedThemes(summarise_themes(ctx.codebook, answers), model=latest[1], run_id=latest[0])


def write_round_report(ctx: AppContext, round_name: str, out_dir: Path) -> ReportFiles:
    summary = summarise_round(ctx, round_name)
    return write_maturity_report(summary, ctx.codebook, ctx.templates, out_dir, themes=coded_themes(ctx, round_name))
