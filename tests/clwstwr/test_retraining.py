"""Retraining from reviewers' decisions: the held-out answers never reach the new model, and the
before/after precision and recall are measured on them and recorded with the run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from clwstwr.coding import code_round
from clwstwr.context import AppContext
from clwstwr.importing import import_file
from clwstwr.retraining import HOLDOUT_SHARE, build_training_split, in_holdout, retrain, start_retrain
from clwstwr.settings import Settings
from clwstwr.suggesting import training_key
from corpora.sample_round import SAMPLE_ROUND_NAME, bundled_sample_path, load_clusters, load_sample_answers
from models.artefacts import load_artefact, read_card
from store import coding
from store.coding_decisions import record_decision, set_answer_status
from store.coding_tables import RetrainRun
from store.consensus import decided_answers, record_consensus
from store.database import transaction
from store.rounds import RoundNotFoundError
from store.schema import Event
from store.workspace import CodingError

ROUND = SAMPLE_ROUND_NAME


@pytest.fixture
def retrain_ctx(tmp_path: Path, models_home: Path) -> Iterator[AppContext]:
    context = AppContext.build(Settings(home=tmp_path / "home", models_path=tmp_path / "models"))
    yield context
    context.close()


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _code_like_reviewers(ctx: AppContext, answers: list[coding.AnswerToCode], payloads: dict[int, dict]) -> None:
    """Alice codes every answer with the sample's own themes; Bob codes every third one, dropping a
    theme on some (disputes); half of those disputes are settled by consensus."""
    gold = {_norm(str(a["text"] or "")): tuple(a["themes"]) for a in load_sample_answers()}
    with transaction(ctx.sessions) as session:
        for i, answer in enumerate(answers):
            themes = gold[_norm(answer.text)]
            suggested = {t["id"] for t in payloads[answer.answer_id]["themes"]}
            coders = {"alice": set(themes)}
            if i % 3 == 0:
                coders["bob"] = set(themes[1:]) if i % 2 == 0 and len(themes) > 1 else set(themes)
            for coder, chosen in coders.items():
                for theme in sorted(suggested | chosen):
                    if theme in suggested:
                        decision = "accept" if theme in chosen else "reject"
                    elif theme in chosen:
                        decision = "add"
                    else:
                        continue
                    record_decision(session, ctx.codebook, ROUND, answer.answer_id, coder, theme, decision)
                set_answer_status(session, ROUND, answer.answer_id, coder, "done")
            if "bob" in coders and coders["bob"] != coders["alice"] and i % 4 == 0:
                record_consensus(session, ctx.codebook, ROUND, answer.answer_id, themes, "carol")


@pytest.mark.slow
def test_retraining_holds_out_answers_and_reports_before_and_after(retrain_ctx: AppContext, suggestion_service) -> None:
    ctx = retrain_ctx
    with pytest.raises(RoundNotFoundError, match="no round named 'sample-2024'"):
        start_retrain(ctx, suggestion_service, ROUND, actor="lead")
    import_file(ctx.sessions, ctx.codebook, bundled_sample_path(), ROUND, actor="tests")
    places = tuple(p for c in load_clusters() for p in c.places)
    run = code_round(ctx, suggestion_service, ROUND, actor="tests", extra_places=places)
    with transaction(ctx.sessions) as session:
        answers = coding.answers_to_code(session, ROUND)
        payloads = {c.answer_id: dict(c.payload) for c in coding.coded_answers(session, run.run_id)}
    with pytest.raises(CodingError, match="no settled answers"):
        start_retrain(ctx, suggestion_service, ROUND, actor="lead")
    _code_like_reviewers(ctx, answers, payloads)

    started = time.perf_counter()
    result = retrain(ctx, suggestion_service, ROUND, actor="lead")
    seconds = time.perf_counter() - started
    print(f"\nretraining on the sample round took {seconds:.1f} s")
    assert result.status == "done" and result.error is None

    with transaction(ctx.sessions) as session:
        decided = decided_answers(session, ROUND)
    bases = {d.basis for d in decided}
    assert bases == {"consensus", "coders agree"} and len(decided) < len(answers)  # unsettled disputes left out
    held = [d for d in decided if in_holdout(d.answer_id)]
    metrics = result.metrics
    assert metrics["holdout_answers"] == [d.answer_id for d in held]
    assert abs(len(held) / len(decided) - HOLDOUT_SHARE) < 0.08
    assert metrics["trained_on_settled"] == len(decided) - len(held)

    # the new model was fitted on exactly the split, and the split has no held-out answer in any form
    split = build_training_split(ctx.codebook, ROUND, decided)
    held_texts = {_norm(t) for d in held for t in (d.text, d.original_text)}
    assert not [a for a in split.labelled if _norm(a.text) in held_texts]
    key = training_key(ctx.codebook, split.labelled, 0)
    assert metrics["training_key"] == key and read_card(Path(result.artefact)).data_hash == key
    assert metrics["before_model_trained_on"] == len(held)  # the bundled model did see the sample round

    # ... and, independently of how the split was built: no held-out answer, in its original or its
    # de-identified wording, is in the new model's bank of training vectors, while every one is in the
    # bundled model's (which was fitted on the sample round's original texts)
    new_model, _card = load_artefact(Path(result.artefact))
    embedder = suggestion_service.suggester.embedder
    probed = [d for d in held if d.themes]
    originals = np.asarray(embedder.encode([d.original_text for d in probed]), dtype=np.float32)
    cleaned = np.asarray(embedder.encode([d.text for d in probed]), dtype=np.float32)

    def closest(model) -> np.ndarray:  # type: ignore[no-untyped-def]
        bank = model.bank_.embeddings.T
        return np.maximum((originals @ bank).max(axis=1), (cleaned @ bank).max(axis=1))

    before_sim, after_sim = closest(suggestion_service.suggester), closest(new_model)
    print(f"closest bank vector to a held-out answer: bundled model min {before_sim.min():.4f}, "
          f"retrained model max {after_sim.max():.4f}")
    assert before_sim.min() > 0.999
    assert after_sim.max() < 0.99

    by_theme = {t["theme"]: t for t in metrics["themes"]}
    assert set(by_theme) == {t.id for q in ctx.codebook.questions for t in q.themes}
    funding = by_theme["funding"]
    assert funding["support"] >= 3 and funding["before"]["recall"] is not None and funding["after"]["recall"] is not None
    for side in ("before", "after"):
        overall = metrics["overall"][side]
        assert overall["tp"] + overall["fn"] == sum(len(d.themes) for d in held)
        assert 0.3 < overall["f1"] <= 1.0
    print("held-out", len(held), "of", len(decided), "settled; micro P/R/F1 before",
          {k: metrics["overall"]["before"][k] for k in ("precision", "recall", "f1")},
          "after", {k: metrics["overall"]["after"][k] for k in ("precision", "recall", "f1")})

    with transaction(ctx.sessions) as session:
        row = session.scalars(select(RetrainRun)).one()
        kinds = list(session.scalars(select(Event.kind).where(Event.kind.startswith("coding.retrain"))))
    assert (row.status, row.started_by, row.model_before) == ("done", "lead", suggestion_service.model)
    assert row.model_after == new_model.identity and kinds == ["coding.retrain_started", "coding.retrain_finished"]
    assert seconds < 120  # well under a request's patience on an idle machine (see the printed time)


@pytest.mark.slow
def test_cli_retrain_refuses_a_round_nobody_has_settled_yet(tmp_path: Path, models_home: Path) -> None:
    from click.testing import CliRunner

    from clwstwr.cli import main
    from corpora.sample_round import bundled_sample_path

    runner = CliRunner(env={"CLWSTWR_MODELS_PATH": str(models_home / "models")})
    home = ["--home", str(tmp_path / "home")]
    assert runner.invoke(main, [*home, "import", str(bundled_sample_path()), "--round", "r1"]).exit_code == 0
    result = runner.invoke(main, [*home, "retrain", "--round", "r1", "--activate"])
    assert result.exit_code == 2, result.output
    assert "error [CW710]" in result.output and "no settled answers yet" in result.output
    assert not (models_home / "models" / "active_suggester.json").exists()
