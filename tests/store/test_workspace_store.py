"""The workspace's storage on SQLite and PostgreSQL: append-only decisions and what is derived from them,
blind coding, the disagreement queue and consensus, and the response grid on the sample round."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from clwstwr.context import AppContext
from clwstwr.importing import import_file
from corpora.sample_round import SAMPLE_ROUND_NAME, bundled_sample_path
from store import coding, rounds
from store.answer_grid import GridQuery, answer_grid, answer_view
from store.coding_decisions import (
    current_codes,
    finish_round,
    memo,
    record_decision,
    save_memo,
    set_answer_status,
    set_outcomes,
)
from store.coding_tables import AnswerStatus, CodingDecision, ConsensusCode, Memo
from store.consensus import (
    code_rows,
    consensus_codings,
    decided_answers,
    disagreement_queue,
    human_codings,
    machine_codings,
    record_consensus,
)
from store.database import transaction
from store.schema import Event
from store.workspace import CodingError, coder_finished, set_blind_coding, visible_codes

ROUND = SAMPLE_ROUND_NAME


# ------------------------------------------------------------------------------------------ fixtures


def _import_sample(ctx: AppContext) -> list[coding.AnswerToCode]:
    import_file(ctx.sessions, ctx.codebook, bundled_sample_path(), ROUND, actor="importer")
    with transaction(ctx.sessions) as session:
        return coding.answers_to_code(session, ROUND)


def _simple_payload(ctx: AppContext, answer: coding.AnswerToCode) -> dict:
    """A hand-written suggestion: the question's first two themes, evidence = the first 30 characters."""
    themes = ctx.codebook.question(answer.question_id).themes[:2]
    end = min(30, len(answer.text))
    return {
        "themes": [
            {"id": t.id, "label": t.label, "score": score, "evidence": answer.text[:end], "evidence_start": 0,
             "evidence_end": end}
            for t, score in zip(themes, (0.9, 0.6))
        ],
        "outcomes": [{"id": "pcmw-5", "label": "PCMW 5", "score": 0.5}],
        "headings": [],
        "text": answer.text,
        "model": "hand-written",
    }


@pytest.fixture
def round_with_run(ctx: AppContext) -> dict:
    """The sample round imported, with one suggestion run of hand-written suggestions."""
    answers = _import_sample(ctx)
    with transaction(ctx.sessions) as session:
        coding.store_run(session, ROUND, "hand-written", "tester",
                         [(a.answer_id, a.text, _simple_payload(ctx, a)) for a in answers])
    barriers = [a for a in answers if a.question_id == "barriers"]
    enablers = [a for a in answers if a.question_id == "enablers"]
    return {"ctx": ctx, "answers": answers, "barriers": barriers, "enablers": enablers}


def _count(ctx: AppContext, model) -> int:  # type: ignore[no-untyped-def]
    with transaction(ctx.sessions) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _do(ctx: AppContext, fn: Callable, *args, **kwargs):  # type: ignore[no-untyped-def]
    with transaction(ctx.sessions) as session:
        return fn(session, *args, **kwargs)


def _decide(ctx: AppContext, answer_id: int, coder: str, theme: str, decision: str) -> None:
    _do(ctx, record_decision, ctx.codebook, ROUND, answer_id, coder, theme, decision)


# ------------------------------------------------------------------------------------------ decisions


def test_workspace_decisions_are_appended_and_the_current_set_is_the_latest_per_theme(round_with_run: dict) -> None:
    ctx = round_with_run["ctx"]
    answer = round_with_run["barriers"][0].answer_id
    _decide(ctx, answer, "alice", "funding", "accept")
    _decide(ctx, answer, "alice", "engagement", "reject")
    _decide(ctx, answer, "alice", "time", "add")
    assert _do(ctx, current_codes, answer, "alice") == {"funding", "time"}
    _decide(ctx, answer, "alice", "time", "remove")
    _decide(ctx, answer, "alice", "engagement", "accept")
    assert _do(ctx, current_codes, answer, "alice") == {"funding", "engagement"}
    assert _do(ctx, current_codes, answer, "bob") == frozenset()

    with transaction(ctx.sessions) as session:
        rows = session.execute(
            select(CodingDecision.theme_id, CodingDecision.decision, CodingDecision.source, CodingDecision.score)
            .order_by(CodingDecision.id)
        ).all()
        kinds = list(session.scalars(select(Event.kind).where(Event.kind.startswith("coding.")).order_by(Event.id)))
    assert [tuple(r) for r in rows] == [
        ("funding", "accept", "suggestion", 0.9),
        ("engagement", "reject", "suggestion", 0.6),
        ("time", "add", "manual", None),
        ("time", "remove", "manual", None),
        ("engagement", "accept", "suggestion", 0.6),
    ]
    assert kinds.count("coding.decision") == 5
    view = _do(ctx, answer_view, ROUND, answer, "alice")
    assert view.mine.codes == ("engagement", "funding") and view.mine.status == "in_progress"
    assert [d.decision for d in view.mine.decisions] == ["accept", "reject", "add", "remove", "accept"]


@pytest.mark.parametrize(
    ("which", "theme", "decision", "needle"),
    [
        ("barrier", "leadership", "add", "theme 'leadership' is not a theme of question 'barriers'"),
        ("barrier", "no_such_theme", "add", "theme 'no_such_theme' is not a theme"),
        ("missing", "funding", "add", "answer 987654 is not an answer of round"),
        ("barrier", "time", "accept", "theme 'time' was not suggested"),
        ("barrier", "funding", "approve", "decision: expected one of accept, reject, add, remove"),
    ],
)
def test_workspace_bad_decision_is_cw710_naming_it_and_stores_nothing(
    round_with_run: dict, which: str, theme: str, decision: str, needle: str
) -> None:
    ctx = round_with_run["ctx"]
    answer = 987654 if which == "missing" else round_with_run["barriers"][0].answer_id
    events_before = _count(ctx, Event)
    with pytest.raises(CodingError) as raised:
        _decide(ctx, answer, "alice", theme, decision)
    assert raised.value.code == "CW710" and needle in raised.value.message
    assert _count(ctx, CodingDecision) == 0 and _count(ctx, Event) == events_before


def test_workspace_memos_are_versions_and_outcome_edits_are_checked(round_with_run: dict) -> None:
    ctx = round_with_run["ctx"]
    answer = round_with_run["enablers"][0].answer_id
    assert _do(ctx, save_memo, ROUND, answer, "alice", "first thought").version == 1
    assert _do(ctx, save_memo, ROUND, answer, "alice", "second thought").version == 2
    latest = _do(ctx, memo, answer, "alice")
    assert (latest.version, latest.text) == (2, "second thought")
    assert _count(ctx, Memo) == 2  # the first version is still there
    assert _do(ctx, set_outcomes, ctx.codebook, ROUND, answer, "alice", ["pcmw-3", "acd-2", "pcmw-3"]) == ("pcmw-3", "acd-2")
    with pytest.raises(CodingError, match="unknown outcome id\\(s\\) 'pcmw-14'"):
        _do(ctx, set_outcomes, ctx.codebook, ROUND, answer, "alice", ["pcmw-14"])
    view = _do(ctx, answer_view, ROUND, answer, "alice")
    assert view.outcomes == ("pcmw-3", "acd-2") and view.memo.text == "second thought"
    assert view.suggestion["outcomes"][0]["id"] == "pcmw-5"  # the suggestion itself is kept as it was


# ------------------------------------------------------------------------------------------ blind coding


def test_workspace_blind_round_hides_others_codes_until_the_coder_finishes(round_with_run: dict) -> None:
    ctx = round_with_run["ctx"]
    answer = round_with_run["barriers"][0].answer_id
    _do(ctx, set_blind_coding, ROUND, True, "programme-lead")
    _decide(ctx, answer, "alice", "funding", "accept")
    _decide(ctx, answer, "bob", "funding", "accept")
    _decide(ctx, answer, "bob", "time", "add")
    for coder in ("alice", "bob"):
        _do(ctx, set_answer_status, ROUND, answer, coder, "done")

    view = _do(ctx, answer_view, ROUND, answer, "alice")
    assert view.blinded and view.others == () and view.consensus is None
    grid = _do(ctx, answer_grid, ctx.codebook, ROUND, "alice", GridQuery(status="disputed"))
    assert grid.blinded and grid.total == 0  # alice cannot learn from the status that bob differs
    assert _do(ctx, visible_codes, ROUND, "alice") == {(answer, "alice"): {"funding"}}
    assert _do(ctx, answer_grid, ctx.codebook, ROUND, "alice", GridQuery(status="coded")).total == 1
    # the programme team runs the round and is never blinded
    assert _do(ctx, answer_view, ROUND, answer, "lead", privileged=True).others[1].codes == ("funding", "time")

    assert _do(ctx, finish_round, ROUND, "alice") == 0
    assert _do(ctx, coder_finished, ROUND, "alice")
    view = _do(ctx, answer_view, ROUND, answer, "alice")
    assert not view.blinded and [(o.coder, o.codes) for o in view.others] == [("bob", ("funding", "time"))]
    assert _do(ctx, visible_codes, ROUND, "alice") == {(answer, "alice"): {"funding"}, (answer, "bob"): {"funding", "time"}}
    assert _do(ctx, answer_grid, ctx.codebook, ROUND, "alice", GridQuery(status="disputed")).total == 1
    with pytest.raises(CodingError, match="marked it finished"):
        _decide(ctx, answer, "alice", "time", "add")
    # bob has not finished: still blind to alice
    assert _do(ctx, answer_view, ROUND, answer, "bob").others == ()


def test_workspace_open_round_shows_codes_at_once_and_finishing_closes_open_answers(round_with_run: dict) -> None:
    ctx = round_with_run["ctx"]
    first, second = (a.answer_id for a in round_with_run["barriers"][:2])
    _decide(ctx, first, "alice", "funding", "accept")
    _decide(ctx, second, "bob", "engagement", "accept")
    assert [o.coder for o in _do(ctx, answer_view, ROUND, second, "alice").others] == ["bob"]
    assert _do(ctx, answer_grid, ctx.codebook, ROUND, "alice", GridQuery(status="in_progress")).total == 2
    assert _do(ctx, finish_round, ROUND, "alice") == 1  # her one answer in progress becomes done
    statuses = {r.answer_id: r.status for r in _do(ctx, answer_grid, ctx.codebook, ROUND, "x", GridQuery(page_size=500)).rows}
    assert (statuses[first], statuses[second]) == ("coded", "in_progress")


# ------------------------------------------------------------------------------------------ consensus


def test_workspace_consensus_queue_lists_differing_sets_and_consensus_settles_them(round_with_run: dict) -> None:
    ctx = round_with_run["ctx"]
    differ, agree = (a.answer_id for a in round_with_run["barriers"][:2])
    for coder, themes in (("alice", ["funding"]), ("bob", ["funding", "engagement"])):
        for theme in themes:
            _decide(ctx, differ, coder, theme, "accept")
        _decide(ctx, agree, coder, "funding", "accept")
        _do(ctx, set_answer_status, ROUND, differ, coder, "done")
        _do(ctx, set_answer_status, ROUND, agree, coder, "done")

    queue = _do(ctx, disagreement_queue, ROUND)
    assert [q.answer_id for q in queue] == [differ]
    assert queue[0].codes == {"alice": ("funding",), "bob": ("engagement", "funding")} and queue[0].consensus is None
    statuses = {r.answer_id: r.status for r in _do(ctx, answer_grid, ctx.codebook, ROUND, "x", GridQuery(page_size=500)).rows}
    assert (statuses[differ], statuses[agree]) == ("disputed", "agreed")

    _do(ctx, record_consensus, ctx.codebook, ROUND, differ, ["funding"], "carol", "engagement only implied")
    assert _do(ctx, disagreement_queue, ROUND) == []
    assert _do(ctx, disagreement_queue, ROUND, include_resolved=True)[0].consensus == ("funding",)
    rows = _count(ctx, ConsensusCode)
    assert rows == len(ctx.codebook.question("barriers").themes)  # every theme recorded, present or not
    _do(ctx, record_consensus, ctx.codebook, ROUND, differ, ["funding"], "carol")
    assert _count(ctx, ConsensusCode) == rows  # nothing changed, nothing stored
    _do(ctx, record_consensus, ctx.codebook, ROUND, differ, ["funding", "engagement"], "carol")
    assert _count(ctx, ConsensusCode) == rows + 1
    assert [(c.answer_id, c.themes) for c in _do(ctx, consensus_codings, ROUND)] == [(differ, {"funding", "engagement"})]
    statuses = {r.answer_id: r.status for r in _do(ctx, answer_grid, ctx.codebook, ROUND, "x", GridQuery(page_size=500)).rows}
    assert statuses[differ] == "agreed"
    with pytest.raises(CodingError, match="theme 'leadership' is not a theme of question 'barriers'"):
        _do(ctx, record_consensus, ctx.codebook, ROUND, differ, ["leadership"], "carol")

    humans = _do(ctx, human_codings, ROUND)
    assert {(h.answer_id, h.coder) for h in humans} == {(differ, "alice"), (differ, "bob"), (agree, "alice"), (agree, "bob")}
    machine = {m.answer_id: m.themes for m in _do(ctx, machine_codings, ROUND, [differ])}
    assert machine == {differ: {"funding", "engagement"}}
    decided = {d.answer_id: (d.themes, d.basis) for d in _do(ctx, decided_answers, ROUND)}
    assert decided == {differ: (("engagement", "funding"), "consensus"), agree: (("funding",), "coders agree")}
    exported = _do(ctx, code_rows, ROUND)
    assert {(r.coder, r.theme, r.decision) for r in exported if r.answer_id == differ} >= {
        ("alice", "funding", "accept"), ("bob", "engagement", "accept"), ("consensus", "engagement", "agreed"),
        ("consensus", "time", "not agreed"),
    }
    assert all(r.evidence == (0, 30) for r in exported if r.coder != "consensus")


# ------------------------------------------------------------------------------------------ the grid


@pytest.fixture(scope="module")
def real_suggestions(tmp_path_factory: pytest.TempPathFactory, models_home: Path, suggestion_service) -> dict:
    """The sample round coded once by the real suggester, keyed by (cluster, question)."""
    from clwstwr.coding import code_round
    from clwstwr.settings import Settings
    from corpora.sample_round import load_clusters

    context = AppContext.build(Settings(home=tmp_path_factory.mktemp("grid-home"), models_path=models_home / "models"))
    try:
        answers = {a.answer_id: (a.cluster_name, a.question_id) for a in _import_sample(context)}
        places = tuple(p for c in load_clusters() for p in c.places)
        run = code_round(context, suggestion_service, ROUND, actor="tester", extra_places=places)
        with transaction(context.sessions) as session:
            coded = coding.coded_answers(session, run.run_id)
        return {answers[c.answer_id]: (c.deidentified_text, dict(c.payload)) for c in coded}
    finally:
        context.close()


@pytest.fixture
def coded_round(ctx: AppContext, real_suggestions: dict) -> dict:
    answers = _import_sample(ctx)
    results = [(a.answer_id, *real_suggestions[(a.cluster_name, a.question_id)]) for a in answers]
    with transaction(ctx.sessions) as session:
        coding.store_run(session, ROUND, "theme-suggester", "tester", results)
    return {"answers": answers, "texts": {a: t for a, t, _p in results}, "payloads": {a: p for a, _t, p in results}}


@pytest.mark.slow
def test_workspace_grid_filters_sorts_and_pages_the_sample_round(ctx: AppContext, coded_round: dict) -> None:
    answers, payloads, texts = coded_round["answers"], coded_round["payloads"], coded_round["texts"]

    def grid(viewer: str = "alice", **kwargs) -> object:  # type: ignore[no-untyped-def]
        return _do(ctx, answer_grid, ctx.codebook, ROUND, viewer, GridQuery(**kwargs))

    everything = grid(page_size=500)
    assert everything.total == len(answers) == len(everything.rows)
    assert everything.status_counts["uncoded"] == len(answers)
    board = answers[0].health_board_id
    assert grid(health_board=board).total == sum(a.health_board_id == board for a in answers)
    assert grid(question="enablers").total == sum(a.question_id == "enablers" for a in answers)
    with_funding = {a for a, p in payloads.items() if "funding" in {t["id"] for t in p["themes"]}}
    assert len(with_funding) >= 20
    funding = grid(theme="funding", theme_scope="suggested", page_size=500)
    assert {r.answer_id for r in funding.rows} == with_funding
    assert all(r.suggested[0]["score"] >= r.suggested[-1]["score"] for r in funding.rows)
    hits = {a for a, t in texts.items() if "backfill" in t.lower()}
    assert hits and {r.answer_id for r in grid(search="BACKFILL", page_size=500).rows} == hits
    assert grid(search="100%_").total == 0  # LIKE wildcards are searched for, not obeyed

    seen: list[int] = []
    for page in range(1, 7):
        got = grid(page=page, page_size=50, sort="question")
        assert got.total == len(answers)
        seen += [r.answer_id for r in got.rows]
    assert sorted(seen) == sorted(a.answer_id for a in answers) and len(seen) == len(set(seen))
    order = [q.id for q in ctx.codebook.questions]
    question_ranks = [order.index(r.question_id) for r in grid(page_size=500, sort="question").rows]
    assert question_ranks == sorted(question_ranks)
    scores = [r.suggested[0]["score"] if r.suggested else -1 for r in grid(page_size=500, sort="score", descending=True).rows]
    assert scores == sorted(scores, reverse=True)

    first = next(a for a in answers if a.answer_id in with_funding)
    _decide(ctx, first.answer_id, "alice", "time", "add")
    assert [r.answer_id for r in grid(status="in_progress").rows] == [first.answer_id]
    assert [r.my_codes for r in grid(status="in_progress").rows] == [("time",)]
    assert [r.answer_id for r in grid(theme="time", theme_scope="coded").rows] == [first.answer_id]
    combined = grid(question=first.question_id, health_board=first.health_board_id, theme="funding", status="uncoded")
    assert first.answer_id not in {r.answer_id for r in combined.rows}

    statements: list[str] = []
    event.listen(ctx.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    grid(page_size=5)
    small = len(statements)
    statements.clear()
    grid(page_size=200)
    assert len(statements) == small <= 12


def test_workspace_grid_rejects_bad_filters_by_name(round_with_run: dict) -> None:
    ctx = round_with_run["ctx"]
    with pytest.raises(CodingError) as raised:
        _do(ctx, answer_grid, ctx.codebook, ROUND, "alice", GridQuery(page=0, page_size=1000, status="maybe", question="q9"))
    message = raised.value.message
    for needle in ("page: expected 1 or more", "page_size: expected 1 to 500", "status: expected one of", "question: expected one of"):
        assert needle in message


@dataclass
class _Return:
    """A minimal submission record for a large synthetic round (what the importer hands the store)."""

    row: int
    cluster_name: str
    health_board_id: str
    answers: dict[str, str]
    external_id: str | None = None
    started_at: None = None
    completed_at: None = None
    team_stage_id: str | None = None
    ratings: dict[str, str] = field(default_factory=dict)

    @property
    def cluster_key(self) -> str:
        return self.cluster_name.lower()

    def content_hash(self) -> str:
        return f"{self.row:064d}"


def test_workspace_grid_stays_fast_on_thousands_of_answers_with_fresh_statistics(ctx: AppContext) -> None:
    """3,000 answers and 10,500 decisions written in bulk and queried at once, before any ANALYZE: the
    plan must not depend on the database knowing the tables grew (PostgreSQL once took minutes here)."""
    codebook = ctx.codebook
    questions, boards = [q.id for q in codebook.questions], [b.id for b in codebook.health_boards]
    records = [_Return(i, f"Cluster {i}", boards[i % len(boards)], {q: f"answer {i} on {q}" for q in questions})
               for i in range(500)]
    with transaction(ctx.sessions) as session:
        round_ = rounds.get_or_create_round(session, "big")
        rounds.add_import(session, round_, source_name="big.csv", sha256="0" * 64, file_format="csv",
                          records=records, actor="tests")
    with transaction(ctx.sessions) as session:
        answers = coding.answers_to_code(session, "big")
        first = {a.answer_id: codebook.question(a.question_id).themes[0].id for a in answers}
        second = {a.answer_id: codebook.question(a.question_id).themes[1].id for a in answers}
        every_other_cluster = {a.answer_id for i, a in enumerate(answers) if (i // len(questions)) % 2}
        coding.store_run(session, "big", "m", "tests",
                         [(a, "text", {"themes": [{"id": t, "score": 0.9}]}) for a, t in first.items()])
        now = datetime.now(timezone.utc)
        decisions = [dict(round_id=round_.id, answer_id=a, coder=c, theme_id=t, decision="accept", source="suggestion",
                          score=0.9, at=now) for a, t in first.items() for c in ("alice", "bob", "carol")]
        decisions += [dict(round_id=round_.id, answer_id=a, coder="bob", theme_id=second[a], decision="add",
                           source="manual", score=None, at=now) for a in every_other_cluster]
        session.execute(CodingDecision.__table__.insert(), decisions)
        session.execute(AnswerStatus.__table__.insert(), [
            dict(round_id=round_.id, answer_id=a, coder=c, status="done", at=now)
            for a in first for c in ("alice", "bob", "carol")
        ])
    assert len(decisions) == 10_500
    for query in (GridQuery(), GridQuery(status="disputed", sort="status"), GridQuery(page=40, sort="score", descending=True),
                  GridQuery(theme=second[answers[1].answer_id], theme_scope="coded", page_size=200)):
        started = time.perf_counter()
        page = _do(ctx, answer_grid, codebook, "big", "alice", query)
        assert time.perf_counter() - started < 3.0, f"{query} took {time.perf_counter() - started:.1f} s"
        if query.theme is None:
            assert page.status_counts == {"uncoded": 0, "in_progress": 0, "coded": 0, "disputed": 1500, "agreed": 1500}
        else:  # bob's second theme, on that question's answers of every other cluster
            assert page.total == page.status_counts["disputed"] == 250
