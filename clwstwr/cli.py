"""The ``clwstwr`` command: a thin caller of the same functions the API and batch jobs use.

Errors the user can fix (bad file, unknown round) print a clear message and exit non-zero; they never
show a traceback. Anything unexpected is reported as an internal error with a pointer to ``--debug``.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from corpora.errors import ClwstwrError

from .context import AppContext
from .settings import load_settings

T = TypeVar("T")

EXIT_USER_ERROR = 2
EXIT_INTERNAL = 70


def _progress(message: str) -> None:
    click.echo(f"… {message}", err=True)


class _State:
    def __init__(self, home: Path | None, database_url: str | None, debug: bool) -> None:
        self.home = home
        self.database_url = database_url
        self.debug = debug

    def context(self) -> AppContext:
        return AppContext.build(load_settings(home=self.home, database_url=self.database_url))


def _run(state: _State, action: Callable[[], T]) -> T:
    try:
        return action()
    except ClwstwrError as exc:
        click.echo(f"error [{exc.code}]: {exc}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except Exception as exc:  # the boundary: nothing unexpected escapes as a traceback
        if state.debug:
            raise
        click.echo(f"internal error ({exc.__class__.__name__}): {exc}. Re-run with --debug for details.", err=True)
        sys.exit(EXIT_INTERNAL)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), envvar="CLWSTWR_HOME", default=None,
              help="Data directory (SQLite file, caches, models). Env: CLWSTWR_HOME. Default: the user data directory.")
@click.option("--database-url", envvar="CLWSTWR_DATABASE_URL", default=None,
              help="SQLAlchemy URL, e.g. postgresql://user@host/db. Env: CLWSTWR_DATABASE_URL. Default: SQLite in the data directory.")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@click.pass_context
def main(ctx: click.Context, home: Path | None, database_url: str | None, debug: bool) -> None:
    """Clwstwr: coded themes, outcome letters and all-Wales reports from cluster feedback."""
    ctx.obj = _State(home, database_url, debug)


@main.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--round", "round_name", required=True, help="Round to import into, e.g. 2024 (created if new).")
@click.option("--skip-bad-rows", is_flag=True,
              help="Store the good rows of a file that has bad ones (default: store nothing and list every problem).")
@click.option("--user", default=None, help="Who is importing (recorded in the audit log). Default: the login name.")
@click.pass_obj
def import_command(state: _State, file: Path, round_name: str, skip_bad_rows: bool, user: str | None) -> None:
    """Import a self-reflection export (.xlsx or .csv from Microsoft Forms, or .json) into a round.

    Headers are matched to the codebook tolerantly; maturity cells hold the statement text chosen in
    the form. A file with any bad row stores nothing unless --skip-bad-rows is given. Importing the
    same file twice stores it once.
    """
    from .importing import import_file

    def action() -> None:
        ctx = state.context()
        try:
            result = import_file(ctx.sessions, ctx.codebook, file, round_name,
                                 actor=user or getpass.getuser(), skip_bad_rows=skip_bad_rows, progress=_progress)
        finally:
            ctx.close()
        if result.already_imported:
            click.echo(f"{result.source_name} is already imported into round '{round_name}'; nothing changed.")
            return
        click.echo(f"stored {result.stored} submission(s) from {result.source_name} into round '{round_name}'"
                   + (f"; {result.already_stored} already stored unchanged" if result.already_stored else ""))
        for problem in result.skipped_rows:
            click.echo(f"  skipped: {problem}", err=True)
        if result.ignored_columns:
            click.echo(f"  columns not imported: {', '.join(result.ignored_columns)}", err=True)

    _run(state, action)


@main.command("report")
@click.option("--round", "round_name", required=True, help="Stored round to report on.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for report.html/.docx/.pdf and summary.json (report-<board>.* with --board).")
@click.option("--board", default=None,
              help="Report on one health board's clusters only (id, short name or alias, e.g. pthb); "
                   "counts from 1 to 4 are then shown as <5.")
@click.option("--previous-round", default=None,
              help="Round to compare with (default: the round stored before this one, if any).")
@click.option("--format", "formats", multiple=True, type=click.Choice(["html", "docx", "pdf"]),
              help="Format to write; repeat for several (default: html, docx and pdf). summary.json is always written.")
@click.option("--no-discovery", is_flag=True, help="Skip topic discovery of candidate new themes (a quicker report).")
@click.pass_obj
def report_command(state: _State, round_name: str, out_dir: Path, board: str | None, previous_round: str | None,
                   formats: tuple[str, ...], no_discovery: bool) -> None:
    """Write the thematic report of a stored round: response rate, maturity, team stages, themes with
    quotes, candidate new themes, opportunities for action, and the change since the previous round."""
    from .reporting import write_round_report

    def action() -> None:
        ctx = state.context()
        try:
            files = write_round_report(ctx, round_name, out_dir, formats=formats or ("html", "docx", "pdf"),
                                       board=board, previous_round=previous_round, discovery=not no_discovery,
                                       progress=_progress)
        finally:
            ctx.close()
        for label, path in files.written().items():
            click.echo(f"{label}: {path}")

    _run(state, action)


@main.command("code")
@click.option("--round", "round_name", required=True, help="Stored round whose answers to code.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Also write coded_responses.csv and .jsonl into this folder.")
@click.option("--user", default=None, help="Who ran the coding (recorded). Default: the login name.")
@click.pass_obj
def code_command(state: _State, round_name: str, out_dir: Path | None, user: str | None) -> None:
    """Suggest themes, outcomes and headings for every answer of a round, and store them as a run.

    The next `clwstwr report` for the round then shows theme counts and quotes.
    """
    from store import coding
    from store.database import transaction

    from .coded_export import write_coded_responses
    from .coding import code_round
    from .suggesting import build_suggestion_service

    def action() -> None:
        ctx = state.context()
        try:
            service = build_suggestion_service(ctx.settings, ctx.codebook, progress=_progress)
            run = code_round(ctx, service, round_name, actor=user or getpass.getuser(), progress=_progress)
            click.echo(f"coded {run.answers} answers of round '{round_name}' (run {run.run_id}, model {run.model})")
            if out_dir is not None:
                with transaction(ctx.sessions) as session:
                    answers = coding.coded_answers(session, run.run_id)
                boards = {b.id: b.short_name for b in ctx.codebook.health_boards}
                for path in write_coded_responses(answers, boards, out_dir):
                    click.echo(f"written: {path}")
        finally:
            ctx.close()

    _run(state, action)


@main.command("topics")
@click.option("--round", "round_name", required=True, help="Stored round whose sentences to explore.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed: the same input and seed give the same topics.")
@click.option("--min-topic-size", default=5, show_default=True, type=int, help="Smallest group reported as a topic.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Also write the full report (every sentence id, settings) as JSON to this file.")
@click.pass_obj
def topics_command(state: _State, round_name: str, seed: int, min_topic_size: int, json_path: Path | None) -> None:
    """Discover topics in all sentences of a round and flag candidate new themes.

    A topic whose sentences match no codebook theme closely is a candidate new theme for reviewers to
    consider. Sentences that fit no topic are listed as unassigned, never dropped.
    """
    import json as json_module

    from .suggesting import load_text_models
    from .topics import discover_round_topics

    def action() -> None:
        ctx = state.context()
        try:
            models = load_text_models(ctx.settings)
            found = discover_round_topics(ctx, models, round_name, seed=seed, min_topic_size=min_topic_size, progress=_progress)
        finally:
            ctx.close()
        report = found.report
        click.echo(f"{report.n_sentences} sentences, {len(report.topics)} topics, {len(report.unassigned)} unassigned"
                   f" ({found.non_answers} non-answers left out)")
        for topic in sorted(report.topics, key=lambda t: (not t.is_candidate_new_theme, -t.size)):
            flag = "CANDIDATE NEW THEME" if topic.is_candidate_new_theme else f"≈ {topic.nearest_theme}"
            click.echo(f"\n[{topic.topic_id}] {topic.size} sentences · {flag} ({topic.nearest_theme_similarity:.2f})")
            click.echo("    keywords: " + ", ".join(topic.keywords[:8]))
            for exemplar in topic.exemplars[:3]:
                click.echo(f"    “{exemplar}”")
        if json_path is not None:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            payload = report.to_json() | {"round": round_name, "non_answers_left_out": found.non_answers,
                                          "sentences": {u.id: u.text for u in found.units}}
            json_path.write_text(json_module.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            click.echo(f"\nwritten: {json_path}")

    _run(state, action)


@main.command("rounds")
@click.pass_obj
def rounds_command(state: _State) -> None:
    """List the stored rounds."""
    from store import rounds
    from store.database import transaction

    def action() -> None:
        ctx = state.context()
        try:
            with transaction(ctx.sessions) as session:
                names = rounds.list_round_names(session)
        finally:
            ctx.close()
        click.echo("\n".join(names) if names else "no rounds stored yet")

    _run(state, action)


@main.command("suggest")
@click.argument("text", required=False)
@click.option("--kind", default=None,
              help="Question kind: barrier, barrier_impact, overcoming, enabler, enabler_impact, support_needed "
                   "(default: all themes). Give it when known: the six questions' themes overlap, and ranked "
                   "together they are far less often the one a reviewer codes. With no TEXT, each input line "
                   "may carry its own kind.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON object (always JSON lines when reading stdin).")
@click.pass_obj
def suggest_command(state: _State, text: str | None, kind: str | None, as_json: bool) -> None:
    """Suggest themes, outcomes and recommendation headings for an answer.

    With TEXT: one answer. Without TEXT: reads JSON lines {"text": ..., "kind": ...} from standard input
    and writes one JSON line per input line, in order; a bad line gets {"error": {...}} naming the line,
    the others are still answered, and the exit status is 2.
    """
    import json as json_module

    from .suggest_cli import suggest_lines

    def action() -> None:
        settings = load_settings(home=state.home, database_url=state.database_url)
        from corpora.codebook import load_codebook

        from .suggesting import build_suggestion_service

        service = build_suggestion_service(settings, load_codebook(), progress=_progress)
        if text is not None:
            result = service.suggest(text, kind)
            if as_json:
                click.echo(json_module.dumps(result.to_json(), ensure_ascii=False))
                return
            if result.fits_none:
                click.echo("fits no theme")
            for theme in result.themes:
                click.echo(f"{theme.score:.2f}  {theme.id:<28} {theme.label}")
                click.echo(f"      evidence: {theme.evidence}")
            if result.outcomes:
                click.echo("outcomes: " + ", ".join(f"{o.id} ({o.score:.2f})" for o in result.outcomes))
            if result.headings:
                click.echo("headings: " + ", ".join(f"{h.label} ({h.score:.2f})" for h in result.headings))
            return
        failures = suggest_lines(service, click.get_text_stream("stdin"), click.get_text_stream("stdout"), default_kind=kind)
        if failures:
            click.echo(f"{failures} input line(s) could not be read; see the error objects in the output", err=True)
            sys.exit(EXIT_USER_ERROR)

    _run(state, action)


@main.command("demo")
@click.option("--out", "out_dir", default=Path("out"), show_default=True, type=click.Path(path_type=Path),
              help="Folder the demo writes into.")
@click.pass_obj
def demo_command(state: _State, out_dir: Path) -> None:
    """Run the main job on the bundled sample round: import it, code every answer, and write the report
    (report.html), summary.json and the coded responses (coded_responses.csv/.jsonl)."""
    from .demo import run_demo

    def action() -> None:
        ctx = state.context()
        try:
            files = run_demo(ctx, out_dir, progress=_progress)
        finally:
            ctx.close()
        click.echo(f"database: {ctx.settings.resolved_database_url}")
        for label, path in files.items():
            click.echo(f"{label}: {path}")

    _run(state, action)


@main.command("letter")
@click.option("--review", "review_path", required=True, type=click.Path(path_type=Path),
              help="Peer-review record (.yaml/.yml/.json) with its notes inline ('notes:') or beside it ('notes_file:' .txt/.md/.docx).")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Folder for the letter files.")
@click.option("--language", "languages", multiple=True, type=click.Choice(["en", "cy", "bilingual"]),
              help="Letter language; repeat for several (default: en). bilingual = Welsh and English side by side.")
@click.option("--format", "formats", multiple=True, type=click.Choice(["html", "docx", "pdf", "txt", "json"]),
              help="Output format; repeat for several (default: html, docx and pdf). json = the draft itself.")
@click.option("--no-models", is_flag=True,
              help="Draft from the notes' headings only, without loading the text models (faster; no theme tags).")
@click.pass_obj
def letter_command(state: _State, review_path: Path, out_dir: Path, languages: tuple[str, ...],
                   formats: tuple[str, ...], no_models: bool) -> None:
    """Draft a peer-review outcome letter from the meeting notes and write it as HTML, Word and PDF.

    Every drafted sentence keeps the span of the notes it came from (shown on hover in the HTML).
    Actions without a lead or timescale in the notes are marked "to be agreed". Files are named
    outcome_letter.<language>.<format>.
    """
    from corpora.codebook import load_codebook
    from letters.peer_review_files import read_peer_review
    from letters.rendering import make_environment
    from nlp.segmentation import make_sentencizer

    from .letter_job import write_letter

    def action() -> None:
        codebook = load_codebook()
        review = read_peer_review(review_path, codebook)
        suggestions = None
        if not no_models:
            from .suggesting import build_suggestion_service

            settings = load_settings(home=state.home, database_url=state.database_url)
            _progress("loading the text models")
            suggestions = build_suggestion_service(settings, codebook, progress=_progress)
        _progress(f"drafting the letter for {review.cluster}")
        paths = write_letter(review, out_dir, codebook, make_environment(), make_sentencizer(), suggestions,
                             languages=languages or ("en",), formats=formats or ("html", "docx", "pdf"))
        for path in paths:
            click.echo(f"written: {path}")

    _run(state, action)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.pass_obj
def serve_command(state: _State, host: str, port: int) -> None:
    """Run the web service (API at /api/v1, OpenAPI document at /openapi.json, health at /healthz)."""
    import uvicorn

    from api.app import create_app

    def action() -> None:
        settings = load_settings(home=state.home, database_url=state.database_url)
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")

    _run(state, action)


from .user_cli import user as _user_group  # noqa: E402 - accounts (clwstwr user ...); reuses _run above

main.add_command(_user_group)

from . import retrain_cli  # noqa: E402,F401 - registers `clwstwr retrain` on main

if __name__ == "__main__":  # pragma: no cover
    main()
