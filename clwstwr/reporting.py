"""Round -> maturity summary -> files: the report job shared by ``clwstwr report`` and the demo."""

from __future__ import annotations

from pathlib import Path

from letters.maturity_report import ReportFiles, write_maturity_report
from letters.maturity_summary import MaturitySummary, summarise_maturity
from store import rounds
from store.database import transaction

from .context import AppContext


def summarise_round(ctx: AppContext, round_name: str) -> MaturitySummary:
    with transaction(ctx.sessions) as session:
        data = rounds.load_round(session, round_name)
    return summarise_maturity(ctx.codebook, data.name, data.submissions, data.total_clusters)


def write_round_report(ctx: AppContext, round_name: str, out_dir: Path) -> ReportFiles:
    summary = summarise_round(ctx, round_name)
    return write_maturity_report(summary, ctx.codebook, ctx.templates, out_dir)
