"""The chair's letter editor and the programme team's report page, in headless Chromium.

A chair drafts the outcome letter from the bundled sample peer review (its record and its notes,
uploaded through the page), edits a sentence, saves version 2, meets the conflict message when a
second tab saves against version 1 (with their text still on screen), and downloads the .docx, which
must contain the edit. The programme team filters the report by health board and downloads it.
"""

from __future__ import annotations

import io
import re

import docx
import pytest

from corpora.sample_round import SAMPLE_DIR
from store import letters as letter_repo
from store.database import transaction

from .conftest import ROUND, screenshot

pytestmark = pytest.mark.slow

EDIT = "The walking groups were praised by everyone who spoke, and the chair asked for their evaluation."
STALE = "Text typed in a second tab that was opened before version 2 was saved."


def _docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_chair_drafts_edits_meets_a_conflict_and_downloads_the_docx(workspace_server, log_in) -> None:  # type: ignore[no-untyped-def]
    page = log_in("chair")
    screenshot(page, "home-chair")
    page.get_by_role("link", name="Draft a letter from peer-review notes").click()
    page.wait_for_url(re.compile(r"/letters/new$"))
    page.set_input_files("#notes-file", str(SAMPLE_DIR / "peer_review_notes.md"))
    page.set_input_files("#record-file", str(SAMPLE_DIR / "peer_review.yaml"))
    screenshot(page, "letter-new")
    page.get_by_role("button", name="Record the review and draft the letter").click()
    page.wait_for_url(re.compile(r"/letters/\d+$"), timeout=300_000)
    letter_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator("h1").inner_text() == "Outcome letter: Dwyfor Llŷn"
    assert page.locator("#version-number").inner_text() == "1"

    first = page.locator("#letter-form .item[data-source-start] textarea[data-field=text]").first
    item = first.locator("xpath=..")
    first.hover()
    provenance = item.locator(".provenance")
    assert provenance.is_visible(), "hovering a sentence shows where in the notes it came from"
    ctx = workspace_server.app.state.context
    with transaction(ctx.sessions) as session:
        notes = letter_repo.get_review(session, letter_repo.latest_version(session, letter_id).review_id).record["notes"]
    start, end = int(item.get_attribute("data-source-start")), int(item.get_attribute("data-source-end"))
    assert notes[start:end] in provenance.inner_text()
    screenshot(page, "letter-v1")

    stale = page.context.new_page()  # a second tab, opened on version 1
    stale.goto(page.url)

    first.fill(EDIT)
    page.locator("#save-comment").fill("reworded the first sentence")
    page.get_by_role("button", name="Save as version 2").click()
    page.wait_for_url(re.compile(r"\?saved=2$"))
    assert page.locator("#version-number").inner_text() == "2"
    assert page.locator("#versions li").count() == 2
    assert page.locator("#letter-form textarea[data-field=text]").first.input_value() == EDIT
    screenshot(page, "letter-v2")

    stale_box = stale.locator("#letter-form textarea[data-field=text]").nth(1)
    stale_box.fill(STALE)
    stale.get_by_role("button", name="Save as version 2").click()
    conflict = stale.locator("#conflict")
    conflict.wait_for(state="visible")
    assert "Someone else saved version 2" in conflict.inner_text() and "reload" in conflict.inner_text()
    assert stale_box.input_value() == STALE, "the chair's text in the stale tab is not lost"
    screenshot(stale, "letter-conflict")
    with transaction(ctx.sessions) as session:
        assert [v.version for v in letter_repo.list_versions(session, letter_id)] == [1, 2]

    page.select_option("#compare-from", "1")
    page.select_option("#compare-to", "2")
    page.locator("#compare-form").get_by_role("button", name="Compare").click()
    change = page.locator("#compare-result .changes li").first
    assert EDIT in change.inner_text()

    with page.expect_download() as download:
        page.locator("#export-docx-en").click()
    assert download.value.suggested_filename.endswith("-v2-en.docx")
    text = _docx_text(download.value.path().read_bytes())
    assert EDIT in text and STALE not in text
    screenshot(page, "letter-compare")


def test_programme_filters_the_report_by_board_and_downloads_it(workspace_server, log_in) -> None:  # type: ignore[no-untyped-def]
    ctx = workspace_server.app.state.context
    page = log_in("programme")
    page.goto(f"{workspace_server.url}/rounds/{ROUND}/report")
    from clwstwr.reporting import summarise_round

    assert page.locator("#responses").inner_text() == str(summarise_round(ctx, ROUND).responses)
    page.locator("iframe.report-frame").scroll_into_view_if_needed()
    screenshot(page, "report-wales")
    page.select_option("#board", "pthb")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    in_board = summarise_round(ctx, ROUND, "pthb").responses
    assert page.locator("#responses").inner_text() == (str(in_board) if in_board >= 5 else "<5"), \
        "a board's small count is suppressed on the page as in the report"
    with page.expect_download(timeout=300_000) as download:
        page.locator("#download-docx").click()
    assert download.value.suggested_filename == f"clwstwr-report-{ROUND}-pthb.docx"
    assert "Powys" in _docx_text(download.value.path().read_bytes())
    screenshot(page, "report-pthb")
