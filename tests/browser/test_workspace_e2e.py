"""The reviewer workspace in headless Chromium, as two reviewers and the programme team use it.

The tests run in file order against one served app (``workspace_server``): reviewer1 codes three
answers with the keyboard alone, reviewer2 codes the same answers differently, the agreement page's
figures change and match ``clwstwr.agreement`` computed from the database, a disagreement is settled,
and the suggester is retrained from the settled answers. Expected values are read from the database
through the store's own functions, never hard-coded, so the tests hold whatever the suggester says.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from clwstwr.agreement import CodingRecord, summarise_agreement, themes_by_question
from clwstwr.context import AppContext
from store import coding, coding_decisions, consensus
from store.answer_grid import GridQuery, answer_grid
from store.database import transaction
from store.rounds import require_round

from .conftest import ROUND, screenshot

pytestmark = pytest.mark.slow

BOARD = "bcuhb"
QUESTION = "barriers"
CODED_FILTER = f"question={QUESTION}&board={BOARD}"


def _ctx(server) -> AppContext:  # type: ignore[no-untyped-def]
    return server.app.state.context


def _first_rows(server, viewer: str, n: int = 3):  # type: ignore[no-untyped-def]
    """The first rows of the grid the coders work through, as the page orders them."""
    ctx = _ctx(server)
    with transaction(ctx.sessions) as session:
        page = answer_grid(session, ctx.codebook, ROUND, viewer, GridQuery(page_size=n, question=QUESTION,
                                                                           health_board=BOARD))
    return list(page.rows)


def _plan(server) -> list[dict]:  # type: ignore[no-untyped-def]
    """Per answer: the keys each reviewer presses and the theme set each should end with.

    reviewer1 accepts the top suggestion (or adds theme 1 when nothing was suggested); reviewer2 does
    the same on the first answer (they agree), and something else on the other two (they disagree).
    """
    ctx = _ctx(server)
    themes = [t.id for t in ctx.codebook.question(QUESTION).themes]
    digit = {t: str(i + 1) for i, t in enumerate(themes)}
    plans = []
    for i, row in enumerate(_first_rows(server, "reviewer1")):
        top = row.suggested[0]["id"] if row.suggested else None
        keys1, set1 = (["a"], {top}) if top else (["1"], {themes[0]})
        if i == 0:
            keys2, set2 = list(keys1), set(set1)
        elif i == 1:
            other = next(t for t in themes if t not in set1)
            keys2, set2 = (["r", digit[other]] if top else [digit[other]]), {other}
        else:
            extra = next(t for t in themes if t not in set1)
            keys2, set2 = keys1 + [digit[extra]], set1 | {extra}
        plans.append({"answer_id": row.answer_id, "keys": {"reviewer1": keys1, "reviewer2": keys2},
                      "sets": {"reviewer1": set1, "reviewer2": set2}})
    return plans


def _code_with_keyboard(page, server, coder: str, plans: list[dict]) -> None:  # type: ignore[no-untyped-def]
    """Open the first row of the filtered grid and code each planned answer without a click."""
    page.goto(f"{server.url}/rounds/{ROUND}/grid?{CODED_FILTER}")
    first = page.locator("#answer-grid tbody tr").first.locator("a")
    first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    for i, plan in enumerate(plans):
        assert page.locator("#coding").get_attribute("data-answer") == str(plan["answer_id"])
        for key in plan["keys"][coder]:
            with page.expect_response(lambda r: r.url.endswith("/decisions") and r.request.method == "POST") as answer:
                page.keyboard.press(key)
            assert answer.value.status == 201, answer.value.text()
        if i == 0:
            page.keyboard.press("m")
            page.keyboard.type(f"{coder} was unsure about this one")
            with page.expect_response(lambda r: r.url.endswith("/memo")):
                page.keyboard.press("Escape")
            screenshot(page, f"coding-{coder}")
            assert page.locator("#my-status").inner_text() == "In progress"
        with page.expect_navigation():
            page.keyboard.press("n")


def test_login_redirects_and_refuses_a_wrong_password(browser, workspace_server, log_in) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{workspace_server.url}/rounds/{ROUND}/grid")
    assert "/login?next=" in page.url, "a page asked for without a session leads to the log-in form"
    page.fill("#username", "reviewer1")
    page.fill("#password", "not the password at all")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("alert").inner_text().startswith("Wrong user name or password")
    screenshot(page, "login-failed")
    context.close()

    home = log_in("reviewer1")
    assert home.locator("h1").inner_text() == "Welcome, reviewer1"
    assert home.get_by_role("link", name="Code answers").count() == 1
    screenshot(home, "home-reviewer")


def test_grid_filters_by_board_and_theme(workspace_server, log_in) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(workspace_server)
    with transaction(ctx.sessions) as session:
        everything = coding.answers_to_code(session, ROUND)
        run_id, _model = coding.latest_run(session, ROUND)
        coded = coding.coded_answers(session, run_id)
    in_board = [a for a in coded if a.health_board_id == BOARD]
    theme, theme_count = Counter(t["id"] for a in in_board for t in a.payload["themes"]).most_common(1)[0]

    page = log_in("reviewer1")
    page.goto(f"{workspace_server.url}/rounds/{ROUND}/grid")
    count = page.locator("#grid-count")
    assert count.get_attribute("data-total") == str(len(everything))
    page.select_option("#f-board", BOARD)
    with page.expect_navigation():
        page.get_by_role("button", name="Apply filters").click()
    assert count.get_attribute("data-total") == str(sum(a.health_board_id == BOARD for a in everything))
    boards = set(page.locator("#answer-grid tbody td:nth-child(2)").all_inner_texts())
    assert boards == {ctx.codebook.health_board(BOARD).short_name}
    screenshot(page, "grid-board")

    page.select_option("#f-theme", theme)
    page.select_option("#f-scope", "suggested")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply filters").click()
    assert count.get_attribute("data-total") == str(theme_count)
    label = ctx.codebook.theme(theme).label
    for row in page.locator("#answer-grid tbody tr").all():
        assert label in row.locator("td:nth-child(5)").inner_text()

    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("^Status")).click()  # sortable header
    assert "sort=status" in page.url and page.locator("#grid-count").get_attribute("data-total") == str(theme_count)
    screenshot(page, "grid-board-theme")


def test_reviewer1_codes_three_answers_with_the_keyboard(workspace_server, log_in) -> None:  # type: ignore[no-untyped-def]
    plans = _plan(workspace_server)
    page = log_in("reviewer1")
    _code_with_keyboard(page, workspace_server, "reviewer1", plans)

    page.goto(f"{workspace_server.url}/rounds/{ROUND}/grid?{CODED_FILTER}")
    screenshot(page, "grid-after-coding")
    for plan in plans:
        row = page.locator(f"#answer-grid tbody tr[data-answer-id='{plan['answer_id']}']")
        assert row.get_attribute("data-status") == "coded"
        assert row.locator(".status").inner_text() == "Coded"
    ctx = _ctx(workspace_server)
    with transaction(ctx.sessions) as session:
        for plan in plans:
            assert coding_decisions.current_codes(session, plan["answer_id"], "reviewer1") == plan["sets"]["reviewer1"]
            assert coding_decisions.answer_status(session, plan["answer_id"], "reviewer1") == "done"
        first = coding_decisions.memo(session, plans[0]["answer_id"], "reviewer1")
    assert first is not None and first.text == "reviewer1 was unsure about this one"


def _agreement_from_database(server):  # type: ignore[no-untyped-def]
    ctx = _ctx(server)
    with transaction(ctx.sessions) as session:
        humans = [CodingRecord(c.answer_id, c.coder, c.themes, c.question_id)
                  for c in consensus.human_codings(session, ROUND)]
    return summarise_agreement(humans, themes_by_question(ctx.codebook))


def _shown(page, selector: str, attribute: str) -> float | None:  # type: ignore[no-untyped-def]
    value = page.locator(selector).first.get_attribute(attribute)
    return float(value) if value else None


def test_second_coder_changes_agreement_and_the_queue(workspace_server, log_in) -> None:  # type: ignore[no-untyped-def]
    plans = _plan(workspace_server)
    page = log_in("reviewer1")
    page.goto(f"{workspace_server.url}/rounds/{ROUND}/agreement")
    assert page.locator("#n-items").inner_text() == "0", "one coder: nothing is coded twice yet"
    assert page.locator("#overall [data-alpha]").count() == 1
    assert _shown(page, "#overall [data-alpha]", "data-alpha") is None
    screenshot(page, "agreement-one-coder")

    second = log_in("reviewer2")
    _code_with_keyboard(second, workspace_server, "reviewer2", plans)
    second.goto(f"{workspace_server.url}/rounds/{ROUND}/grid?{CODED_FILTER}")
    statuses = [second.locator(f"tr[data-answer-id='{p['answer_id']}']").get_attribute("data-status") for p in plans]
    assert statuses == ["agreed", "disputed", "disputed"]

    page.reload()
    expected = _agreement_from_database(workspace_server)
    assert page.locator("#n-items").inner_text() == str(expected.overall.n_items) != "0"
    for name, estimate in (("kappa", expected.overall.mean_kappa), ("alpha", expected.overall.alpha),
                           ("ac1", expected.overall.ac1)):
        shown = _shown(page, f"#overall [data-{name}]", f"data-{name}")
        assert estimate.value is not None and shown is not None and math.isclose(shown, estimate.value), name
    for row in expected.themes:
        if row.n_items:
            cell = page.locator(f"#agreement-table tr[data-theme='{row.theme}']")
            assert cell.locator("[data-n]").inner_text() == str(row.n_items)
            shown_ac1 = _shown(cell, "[data-ac1]", "data-ac1")
            assert (shown_ac1 is None) == (row.ac1.value is None)
            if row.ac1.value is not None:
                assert math.isclose(shown_ac1, row.ac1.value)
    assert page.locator("#queue-count").get_attribute("data-count") == "2"
    screenshot(page, "agreement-two-coders")


def test_settling_a_disagreement_records_consensus_and_shrinks_the_queue(workspace_server, log_in) -> None:  # type: ignore[no-untyped-def]
    plans = _plan(workspace_server)
    disputed = plans[1]
    agreed = sorted(disputed["sets"]["reviewer1"])
    page = log_in("reviewer1")
    page.goto(f"{workspace_server.url}/rounds/{ROUND}/agreement")
    item = page.locator(f"article.queue-item[data-answer-id='{disputed['answer_id']}']")
    for box in item.locator("input[name=theme]").all():
        box.set_checked(box.get_attribute("value") in agreed)
    item.locator("textarea[name=note]").fill("agreed at the coders' meeting")
    with page.expect_navigation():
        item.get_by_role("button", name="Record consensus").click()
    assert "settled=" in page.url
    assert page.locator("#settled-notice").is_visible()
    assert page.locator("#queue-count").get_attribute("data-count") == "1"
    assert page.locator(f"article.queue-item[data-answer-id='{disputed['answer_id']}']").count() == 0
    screenshot(page, "agreement-after-consensus")
    ctx = _ctx(workspace_server)
    with transaction(ctx.sessions) as session:
        round_id = require_round(session, ROUND).id
        assert consensus.consensus_sets(session, round_id)[disputed["answer_id"]] == frozenset(agreed)


def _settle_more_answers(server, n: int = 45) -> None:  # type: ignore[no-untyped-def]
    """Both reviewers agree on more answers (through the store, as the API would record them), so
    retraining has enough settled answers to hold some out."""
    ctx = _ctx(server)
    with transaction(ctx.sessions) as session:
        run_id, _model = coding.latest_run(session, ROUND)
        answers = [a for a in coding.coded_answers(session, run_id) if a.payload["themes"]][:n + 3]
        for answer in answers[3:]:
            for coder in ("reviewer1", "reviewer2"):
                if coding_decisions.answer_status(session, answer.answer_id, coder) is not None:
                    continue
                for theme in answer.payload["themes"][:2]:
                    coding_decisions.record_decision(session, ctx.codebook, ROUND, answer.answer_id, coder,
                                                     theme["id"], "accept")
                coding_decisions.set_answer_status(session, ROUND, answer.answer_id, coder, "done")


def test_retraining_shows_the_before_and_after_table(workspace_server, log_in) -> None:  # type: ignore[no-untyped-def]
    _settle_more_answers(workspace_server)
    page = log_in("programme")
    page.goto(f"{workspace_server.url}/rounds/{ROUND}/retrain")
    settled = int(page.locator("#settled").get_attribute("data-settled"))
    assert settled >= 40
    screenshot(page, "retrain-before")
    with page.expect_response(lambda r: r.url.endswith("/retrain") and r.request.method == "POST") as started:
        page.get_by_role("button", name="Retrain now").click()
    assert started.value.status == 202
    page.wait_for_url(re.compile(r"\?run=\d+$"), timeout=600_000)
    table = page.locator("#before-after")
    assert table.is_visible()
    rows = table.locator("tbody tr")
    assert rows.count() > 0
    overall = table.locator("tfoot tr[data-theme='*']")
    assert overall.locator("[data-f1-before]").get_attribute("data-f1-before") != ""
    assert overall.locator("[data-f1-after]").get_attribute("data-f1-after") != ""
    screenshot(page, "retrain-after")
    # Put it into service: the page then says so, and the app's suggestions use it.
    app = workspace_server.app
    original = app.state.suggestions
    try:
        page.get_by_role("button", name="Put the retrained model into service").click()
        page.wait_for_selector("strong#model-state")
        assert page.locator("#model-state").inner_text() == "in service"
        assert app.state.suggestions.model != original.model
    finally:
        from clwstwr.active_model import clear_active

        clear_active(workspace_server.settings.models_dir)  # the models folder is shared by the test session
        app.state.suggestions = original


def test_blind_coding_hides_the_others_until_the_coder_finishes(workspace_server, log_in) -> None:  # type: ignore[no-untyped-def]
    plans = _plan(workspace_server)
    programme = log_in("programme")
    programme.goto(f"{workspace_server.url}/rounds/{ROUND}/grid")
    with programme.expect_navigation():
        programme.get_by_role("button", name="Turn blind coding on").click()
    assert programme.locator("#blind-state").inner_text() == "on"

    reviewer = log_in("reviewer2")
    reviewer.goto(f"{workspace_server.url}/rounds/{ROUND}/answers/{plans[2]['answer_id']}")
    assert reviewer.locator("#others-heading").count() == 0, "a blinded coder does not see reviewer1's codes"
    reviewer.goto(f"{workspace_server.url}/rounds/{ROUND}/agreement")
    assert "coded blind" in reviewer.locator("main .notice").first.inner_text()
    assert reviewer.locator("#agreement-table").count() == 0 and reviewer.locator(".queue-item").count() == 0
    screenshot(reviewer, "agreement-blinded")

    reviewer.goto(f"{workspace_server.url}/rounds/{ROUND}/grid")
    screenshot(reviewer, "grid-blind")
    reviewer.once("dialog", lambda dialog: dialog.accept())
    with reviewer.expect_navigation():
        reviewer.get_by_role("button", name="I have finished coding this round").click()
    assert "You have finished this round." in reviewer.locator("#round-controls").inner_text()
    reviewer.goto(f"{workspace_server.url}/rounds/{ROUND}/agreement")
    assert reviewer.locator("#agreement-table").count() == 1, "once finished, the coder sees agreement"

    with programme.expect_navigation():
        programme.get_by_role("button", name="Turn blind coding off").click()
    assert programme.locator("#blind-state").inner_text() == "off"
