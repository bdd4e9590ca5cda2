"""``clwstwr retrain``: refit the suggester on a round's settled codes from the command line.

Why a command as well as the workspace button: retraining "nightly" is a cron entry
(``0 2 * * * clwstwr retrain --round 2025``), and a scheduled job should not need a browser. By default
the new model is only measured; ``--activate`` also puts it into service, and ``--only-if-better``
does so only when its pooled F1 on the held-out decisions is at least the current model's.
"""

from __future__ import annotations

import getpass
from typing import Any

import click

from .cli import _progress, _run, _State, main


def _f1(metrics: dict[str, Any], side: str) -> float | None:
    value = metrics.get("overall", {}).get(side, {}).get("f1")
    return None if value is None else float(value)


@main.command("retrain")
@click.option("--round", "round_name", required=True, help="Round whose settled answers (consensus, agreed codes) to learn from.")
@click.option("--activate", is_flag=True, help="Put the retrained model into service (kept across restarts).")
@click.option("--only-if-better", is_flag=True,
              help="With --activate: only when its held-out F1 is at least the current model's.")
@click.option("--user", default=None, help="Who ran it (recorded). Default: the login name.")
@click.pass_obj
def retrain_command(state: _State, round_name: str, activate: bool, only_if_better: bool, user: str | None) -> None:
    """Refit the theme suggester on the bundled answers plus ROUND's settled codes, and print per-theme
    precision and recall before and after on settled answers the new model did not train on."""
    from .retraining import activate_retrain, retrain
    from .suggesting import build_suggestion_service

    def action() -> None:
        ctx = state.context()
        try:
            service = build_suggestion_service(ctx.settings, ctx.codebook, progress=_progress)
            actor = user or getpass.getuser()
            result = retrain(ctx, service, round_name, actor=actor)
            metrics = result.metrics
            click.echo(f"retraining run {result.id}: {len(metrics.get('holdout_answers', []))} held-out answers "
                       f"of {metrics.get('settled_answers', 0)} settled")
            click.echo(f"{'theme':32s} {'P before':>9s} {'P after':>8s} {'R before':>9s} {'R after':>8s}")
            fmt = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
            for row in metrics.get("themes", []):
                b, a = row["before"], row["after"]
                click.echo(f"{row['label'][:32]:32s} {fmt(b['precision']):>9s} {fmt(a['precision']):>8s} "
                           f"{fmt(b['recall']):>9s} {fmt(a['recall']):>8s}")
            before, after = _f1(metrics, "before"), _f1(metrics, "after")
            click.echo(f"pooled F1: before {fmt(before)}, after {fmt(after)}")
            if not activate:
                click.echo(f"model saved, not in service (put it there with --activate, or on the retrain page): {result.model_after}")
                return
            if only_if_better and (after is None or (before is not None and after < before)):
                click.echo("not put into service: its held-out F1 is below the current model's")
                return
            new = activate_retrain(ctx, service, result.id, round_name, actor=actor)
            click.echo(f"in service: {new.model}")
        finally:
            ctx.close()

    _run(state, action)
