"""Peer reviews and letter versions in the database (SQLite and PostgreSQL): versions are appended,
a stale edit is refused without losing anything, and racing writers cannot both become version n+1."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clwstwr.context import AppContext
from store import letters as repo
from store.database import alembic_config, transaction
from store.letter_tables import LetterVersion
from store.rounds import RoundNotFoundError, get_or_create_round
from store.schema import Event

from .letter_samples import review_record, sample_payload


def _with_next_steps(payload: dict[str, Any], text: str) -> dict[str, Any]:
    edited = copy.deepcopy(payload)
    edited["next_steps"] = text
    return edited


def _with_sentence_text(payload: dict[str, Any], item_id: str, text: str) -> dict[str, Any]:
    edited = copy.deepcopy(payload)
    for sentence in edited["sentences"]:
        if sentence["id"] == item_id:
            sentence["text"], sentence["origin"] = text, "edited"
    return edited


@pytest.fixture
def letter(ctx: AppContext) -> repo.StoredVersion:
    with transaction(ctx.sessions) as session:
        review = repo.create_review(session, review_record(), actor="chair-elin", notes_filename="notes.md")
        return repo.create_letter(session, review.id, sample_payload(), actor="chair-elin")


def _events(ctx: AppContext, kind: str) -> list[Event]:
    with transaction(ctx.sessions) as session:
        return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))


def test_letters_store_review_round_trips_and_is_logged(ctx: AppContext) -> None:
    with transaction(ctx.sessions) as session:
        get_or_create_round(session, "2025")
        stored = repo.create_review(session, review_record(), actor="chair-elin", notes_filename="notes.docx",
                                    round_name="2025")
    with transaction(ctx.sessions) as session:
        again = repo.get_review(session, stored.id)
    assert again.record == review_record()
    assert again.round_name == "2025" and again.notes_filename == "notes.docx"
    assert again.created_by == "chair-elin" and again.letter_ids == ()
    [event] = _events(ctx, "review.created")
    assert event.actor == "chair-elin" and event.payload["review_id"] == stored.id


def test_letters_store_review_for_an_unknown_round_is_refused(ctx: AppContext) -> None:
    with pytest.raises(RoundNotFoundError), transaction(ctx.sessions) as session:
        repo.create_review(session, review_record(), actor="chair-elin", round_name="1999")
    with pytest.raises(repo.ReviewNotFoundError, match="no peer review with id 1"), transaction(ctx.sessions) as session:
        repo.get_review(session, 1)


def test_letters_store_new_letter_is_version_one_and_logged(ctx: AppContext, letter: repo.StoredVersion) -> None:
    assert letter.version == 1
    with transaction(ctx.sessions) as session:
        latest = repo.latest_version(session, letter.letter_id)
        review = repo.get_review(session, letter.review_id)
    assert latest.version == 1 and latest.payload == sample_payload() and latest.created_by == "chair-elin"
    assert review.letter_ids == (letter.letter_id,)
    [event] = _events(ctx, "letter.created")
    assert event.payload == {"letter_id": letter.letter_id, "review_id": letter.review_id, "version": 1}


def test_letters_store_edit_against_latest_adds_a_version(ctx: AppContext, letter: repo.StoredVersion) -> None:
    edited = _with_next_steps(sample_payload(), "We will meet again in September.")
    with transaction(ctx.sessions) as session:
        saved = repo.save_edit(session, letter.letter_id, 1, edited, actor="sppc-gareth", comment="next steps")
    assert saved.version == 2
    with transaction(ctx.sessions) as session:
        history = repo.list_versions(session, letter.letter_id)
        first = repo.get_version(session, letter.letter_id, 1)
        latest = repo.latest_version(session, letter.letter_id)
    assert [(v.version, v.created_by, v.comment) for v in history] == [(1, "chair-elin", None), (2, "sppc-gareth", "next steps")]
    assert first.payload == sample_payload(), "version 1 must never change"
    assert latest.payload["next_steps"] == "We will meet again in September."
    [event] = _events(ctx, "letter.edited")
    assert event.actor == "sppc-gareth" and event.payload["version"] == 2 and event.payload["base_version"] == 1


def test_letters_store_stale_edit_is_refused_and_nothing_is_lost(ctx: AppContext, letter: repo.StoredVersion) -> None:
    with transaction(ctx.sessions) as session:
        repo.save_edit(session, letter.letter_id, 1, _with_next_steps(sample_payload(), "first editor"), actor="a")
    with pytest.raises(repo.StaleDraftError) as refused, transaction(ctx.sessions) as session:
        repo.save_edit(session, letter.letter_id, 1, _with_next_steps(sample_payload(), "stale editor"), actor="b")
    assert refused.value.code == "CW611" and refused.value.current_version == 2
    assert "latest is version 2" in str(refused.value) and "Reload version 2" in str(refused.value)
    with transaction(ctx.sessions) as session:
        versions = [v.version for v in repo.list_versions(session, letter.letter_id)]
        latest = repo.latest_version(session, letter.letter_id)
    assert versions == [1, 2]
    assert latest.payload["next_steps"] == "first editor"
    assert len(_events(ctx, "letter.edited")) == 1


def test_letters_store_edit_against_a_version_that_never_existed_is_stale(ctx: AppContext, letter: repo.StoredVersion) -> None:
    with pytest.raises(repo.StaleDraftError, match="no version 7"), transaction(ctx.sessions) as session:
        repo.save_edit(session, letter.letter_id, 7, sample_payload(), actor="a")


def test_letters_store_two_editors_one_after_the_other_keep_both_edits(ctx: AppContext, letter: repo.StoredVersion) -> None:
    with transaction(ctx.sessions) as session:
        opened_by_a = repo.latest_version(session, letter.letter_id)
        opened_by_b = repo.latest_version(session, letter.letter_id)
    edit_a = lambda p: _with_sentence_text(p, "s1", "Every practice refers to the shared social prescribing service.")  # noqa: E731
    edit_b = lambda p: _with_next_steps(p, "The cluster will report progress at its next peer review.")  # noqa: E731
    with transaction(ctx.sessions) as session:
        repo.save_edit(session, letter.letter_id, opened_by_a.version, edit_a(dict(opened_by_a.payload)), actor="a")
    with pytest.raises(repo.StaleDraftError), transaction(ctx.sessions) as session:
        repo.save_edit(session, letter.letter_id, opened_by_b.version, edit_b(dict(opened_by_b.payload)), actor="b")
    with transaction(ctx.sessions) as session:  # b reloads and re-applies
        reloaded = repo.latest_version(session, letter.letter_id)
        final = repo.save_edit(session, letter.letter_id, reloaded.version, edit_b(dict(reloaded.payload)), actor="b")
    assert final.version == 3
    s1 = next(s for s in final.payload["sentences"] if s["id"] == "s1")
    assert s1["text"].startswith("Every practice refers") and s1["origin"] == "edited"
    assert final.payload["next_steps"] == "The cluster will report progress at its next peer review."


def test_letters_store_racing_writers_cannot_both_save_the_same_version(ctx: AppContext, letter: repo.StoredVersion) -> None:
    writers = 4
    start = threading.Barrier(writers)
    outcomes: list[str] = []

    def write(n: int) -> None:
        start.wait()
        try:
            with transaction(ctx.sessions) as session:
                repo.save_edit(session, letter.letter_id, 1, _with_next_steps(sample_payload(), f"writer {n}"), actor=f"w{n}")
            outcomes.append("saved")
        except repo.StaleDraftError:
            outcomes.append("stale")
        except Exception as exc:  # anything else is the bug this test exists to catch
            outcomes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["saved"] + ["stale"] * (writers - 1)
    with transaction(ctx.sessions) as session:
        assert [v.version for v in repo.list_versions(session, letter.letter_id)] == [1, 2]
        winner = repo.latest_version(session, letter.letter_id)
    assert winner.payload["next_steps"] == f"writer {winner.created_by[1:]}"
    assert len(_events(ctx, "letter.edited")) == 1


def test_letters_store_database_refuses_a_second_row_for_one_version(ctx: AppContext, letter: repo.StoredVersion) -> None:
    with pytest.raises(IntegrityError), transaction(ctx.sessions) as session:
        session.add(LetterVersion(letter_id=letter.letter_id, version=1, payload={}, created_by="x"))
        session.flush()


def test_letters_store_unknown_letter_or_version_is_named(ctx: AppContext, letter: repo.StoredVersion) -> None:
    with pytest.raises(repo.DraftNotFoundError, match="no letter with id 999"), transaction(ctx.sessions) as session:
        repo.latest_version(session, 999)
    with pytest.raises(repo.DraftNotFoundError, match=r"has no version 5 \(its versions are 1 to 1\)"), transaction(ctx.sessions) as session:
        repo.get_version(session, letter.letter_id, 5)
    with pytest.raises(repo.ReviewNotFoundError), transaction(ctx.sessions) as session:
        repo.create_letter(session, 999, sample_payload(), actor="a")


def test_letters_store_migration_downgrades_and_upgrades(ctx: AppContext, letter: repo.StoredVersion) -> None:
    from alembic import command
    from sqlalchemy import inspect

    config = alembic_config(ctx.engine)
    command.downgrade(config, "0002")
    assert not {"peer_reviews", "letters", "letter_versions"} & set(inspect(ctx.engine).get_table_names())
    command.upgrade(config, "head")
    assert {"peer_reviews", "letters", "letter_versions"} <= set(inspect(ctx.engine).get_table_names())
