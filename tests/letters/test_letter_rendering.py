"""The outcome letter as people read it: golden files per language, strict templates, provenance on
every drafted sentence, nothing invented, organisation overrides.

Golden files live in ``tests/letters/golden/letter_*``. After an intended change to a letter template
or the catalogue, regenerate them and read the diff before committing::

    CLWSTWR_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/letters/test_letter_rendering.py
"""

from __future__ import annotations

import html
import os
import re
from datetime import date
from pathlib import Path

import pytest

from corpora.codebook import Codebook
from letters.letter_drafting import draft_letter
from letters.letter_model import DraftAction, DraftSentence, LetterDraft, PeerReview, PeerReviewError, Span
from letters.letter_rendering import letter_context, render_letter_html, render_letter_text
from letters.message_catalogue import load_catalogue
from letters.peer_review_files import read_peer_review
from letters.rendering import TEMPLATES_DIR, make_environment
from nlp.segmentation import make_sentencizer

GOLDEN = Path(__file__).parent / "golden"
SAMPLE_REVIEW = Path(__file__).resolve().parents[2] / "corpora" / "sample" / "peer_review.yaml"

NOTES = """## PCMW 7: Quality out-of-hours care
- The out-of-hours team in Llandrindod Wells has successfully trialled video consultations.
- There was concern that the weekend rota depends on two locum GPs.
- PTHB to review the weekend rota by March 2026.

## ACD 6: Sustainable workforce
- Recruitment of practice nurses remains difficult in Rhayader.
- Develop a joint induction pack for new staff.

## Other discussion
- The reviewers praised the cluster's Welsh-language patient leaflets."""


def _span(text: str) -> Span:
    start = NOTES.index(text)
    return Span(start, start + len(text))


def fixed_draft(**extra: object) -> LetterDraft:
    """A small, hand-built draft (no models): every kind of item a letter shows."""
    review = PeerReview(
        cluster="Mid Powys Wye", health_board="pthb", review_date=date(2025, 6, 5), chair="Dr Eleri Rhys",
        sppc_representative="Owain Price", reviewing="Gower Peninsula cluster",
        outcomes=("pcmw-6", "pcmw-7", "acd-6"), attendees=("Cluster lead, Mid Powys Wye", "Practice manager"),
        notes=NOTES,
    )
    s = lambda text: (text, _span(text))  # noqa: E731
    good, concern, nurses, leaflets = (
        s("The out-of-hours team in Llandrindod Wells has successfully trialled video consultations."),
        s("There was concern that the weekend rota depends on two locum GPs."),
        s("Recruitment of practice nurses remains difficult in Rhayader."),
        s("The reviewers praised the cluster's Welsh-language patient leaflets."),
    )
    rota = "PTHB to review the weekend rota by March 2026."
    rota_span = _span(rota)
    return LetterDraft(
        review=review,
        sentences=(
            DraftSentence("s1", good[0], "good_practice", "pcmw-7", source=good[1]),
            DraftSentence("s2", concern[0], "challenge", "pcmw-7", themes=("funding",), source=concern[1]),
            DraftSentence("s3", nurses[0], "challenge", "acd-6", themes=("time", "engagement"), source=nurses[1]),
            DraftSentence("s4", "The reviewers praised the cluster's bilingual leaflets.", "good_practice", "general",
                          source=leaflets[1], origin="edited"),
            DraftSentence("s5", "Staff turnover was also discussed.", "challenge", "acd-6", origin="chair"),
        ),
        actions=(
            DraftAction("a1", rota, "pcmw-7", owner="PTHB", timescale="by March 2026", source=rota_span,
                        owner_source=Span(rota_span.start, rota_span.start + 4),
                        timescale_source=Span(rota_span.end - 14, rota_span.end - 1)),
            DraftAction("a2", "Develop a joint induction pack for new staff.", "acd-6",
                        source=_span("Develop a joint induction pack for new staff.")),
        ),
        extra=dict(extra),
    )


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CLWSTWR_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"golden file {path} is missing; run with CLWSTWR_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file (CLWSTWR_UPDATE_GOLDEN=1 regenerates it)"


@pytest.mark.parametrize("language", ["en", "cy", "bilingual"])
def test_letter_outcome_letter_matches_golden_html_and_text(language: str, codebook: Codebook) -> None:
    draft = fixed_draft()
    _golden(f"letter_outcome_{language}.html", render_letter_html(draft, codebook, make_environment(), language))
    _golden(f"letter_outcome_{language}.txt", render_letter_text(draft, codebook, language))


# ------------------------------------------------------------------------------ strict templates

def _minimal_contexts(codebook: Codebook) -> dict[str, dict[str, object]]:
    """Each letter template with the least context it can be rendered with."""
    bare = LetterDraft(review=fixed_draft().review, sentences=(), actions=())
    context = letter_context(bare, codebook, "en")
    view = context["versions"][0]
    return {
        "outcome_letter.html.j2": context,
        "letter_outcome.html.j2": {"v": view, "o": view["outcomes"][0]},
        "letter_actions.html.j2": {"t": view},
        "letter_macros.html.j2": {},
    }


def test_letter_every_template_renders_with_its_minimal_context_under_strict_undefined(codebook: Codebook) -> None:
    env = make_environment()
    contexts = _minimal_contexts(codebook)
    ours = sorted(p.name for p in TEMPLATES_DIR.iterdir() if p.name.startswith(("outcome_letter", "letter_")))
    assert set(ours) == set(contexts), f"templates without a minimal context here: {set(ours) - set(contexts)}"
    for name in ours:
        rendered = env.get_template(name).render(**contexts[name])
        assert "{{" not in rendered and "{%" not in rendered
    whole = env.get_template("outcome_letter.html.j2").render(**contexts["outcome_letter.html.j2"])
    assert "The notes record no good practice or challenges under this outcome." in whole
    assert "The notes record no agreed actions." in whole
    macros = env.get_template("letter_macros.html.j2").module
    item = {"id": "s1", "dom_id": "en-s1", "text": "A & B", "origin": "notes", "start": 0, "end": 5, "tooltip": 'say "hi"'}
    assert 'data-source-start="0"' in str(macros.drafted(item)) and "A &amp; B" in str(macros.drafted(item))


def test_letter_a_missing_value_fails_loudly_instead_of_printing_blank(codebook: Codebook) -> None:
    from jinja2 import UndefinedError

    context = _minimal_contexts(codebook)["letter_outcome.html.j2"]
    with pytest.raises(UndefinedError):
        make_environment().get_template("letter_outcome.html.j2").render(v=context["v"])


# ------------------------------------------------------------------------------ provenance

_DRAFTED = re.compile(r'<span class="drafted" id="([^"]+)" data-item="([^"]+)" data-origin="([^"]+)"'
                      r'(?: data-source-start="(\d+)" data-source-end="(\d+)")? title="([^"]*)" tabindex="0">(.*?)</span>', re.S)


def _drafted(page: str) -> list[dict[str, object]]:
    return [
        {"dom": m[0], "item": m[1], "origin": m[2], "start": int(m[3]) if m[3] else None,
         "end": int(m[4]) if m[4] else None, "title": html.unescape(m[5]), "text": html.unescape(m[6])}
        for m in _DRAFTED.findall(page)
    ]


@pytest.mark.parametrize("language", ["en", "cy", "bilingual"])
def test_letter_every_drafted_sentence_links_to_the_notes_span_it_came_from(language: str, codebook: Codebook) -> None:
    draft = draft_letter(read_peer_review(SAMPLE_REVIEW), codebook, make_sentencizer())
    page = render_letter_html(draft, codebook, make_environment(), language)
    found = _drafted(page)
    shown = {s.id for s in draft.sentences if s.role != "context"} | {a.id for a in draft.actions}
    assert {f["item"] for f in found} == shown
    notes = draft.review.notes
    for f in found:
        assert notes[f["start"]:f["end"]] == f["text"], f
        assert f["text"] in f["title"]  # the hover shows the excerpt of the notes
    assert len({f["dom"] for f in found}) == len(found)  # unique ids, also side by side


def test_letter_edited_and_chair_items_say_so_on_hover(codebook: Codebook) -> None:
    found = {f["item"]: f for f in _drafted(render_letter_html(fixed_draft(), codebook, make_environment()))}
    assert found["s4"]["origin"] == "edited"
    assert "Edited by the chair" in found["s4"]["title"]
    assert "Welsh-language patient leaflets" in found["s4"]["title"]  # the original wording from the notes
    assert found["s5"]["origin"] == "chair" and found["s5"]["start"] is None
    assert found["s5"]["title"] == "Added by the chair"
    assert "(ACD 6: Sustainable workforce)" in found["s3"]["title"]  # where in the notes


# ------------------------------------------------------------------------------ nothing invented

_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def _visible(page: str) -> str:
    page = re.sub(r"<style.*?</style>", "\n", page, flags=re.S)
    titles = "\n".join(html.unescape(t) for t in re.findall(r'title="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", "\n", page)) + "\n" + titles


def invented(page: str, draft: LetterDraft, codebook: Codebook) -> set[str]:
    """Numbers and capitalised names in the page that occur in none of its inputs."""
    catalogue = load_catalogue()
    review = draft.review
    sources = [review.notes, review.cluster, review.chair, review.sppc_representative, review.reviewing,
               *review.attendees, review.review_date.isoformat(), *catalogue.all_text()]
    for lang in ("en", "cy"):
        sources.append(catalogue.format_date(lang, review.review_date))
    for board in codebook.health_boards:
        sources += [board.name, board.welsh_name, board.rpb.name, board.rpb.welsh_name]
    sources += [o.label for o in codebook.outcomes] + [t.label for t in codebook.themes_for(None)]
    corpus = "\n".join(sources)
    found: set[str] = set()
    for line in _visible(page).splitlines():
        for number in re.findall(r"\d+", line):
            if not re.search(rf"(?<!\d){number}(?!\d)", corpus):
                found.add(number)
        run: list[str] = []
        for match in [*_WORD.finditer(line), None]:
            joined = match is not None and bool(run) and line[run_end:match.start()].strip() == ""
            if match is not None and match.group()[0].isupper() and (joined or not run):
                run.append(match.group())
                run_end = match.end()
                continue
            if run and " ".join(run) not in corpus:
                found.add(" ".join(run))
            run = [match.group()] if match is not None and match.group()[0].isupper() else []
            run_end = match.end() if match is not None else 0
    return found


@pytest.mark.parametrize("language", ["en", "cy", "bilingual"])
def test_letter_names_numbers_and_dates_only_come_from_the_inputs(language: str, codebook: Codebook) -> None:
    draft = draft_letter(read_peer_review(SAMPLE_REVIEW), codebook, make_sentencizer())
    page = render_letter_html(draft, codebook, make_environment(), language)
    assert invented(page, draft, codebook) == set()
    assert invented(render_letter_text(draft, codebook, language), draft, codebook) == set()


def test_letter_invention_check_catches_a_made_up_name_and_number(codebook: Codebook) -> None:
    draft = draft_letter(read_peer_review(SAMPLE_REVIEW), codebook, make_sentencizer())
    made_up = DraftSentence("s99", "Dr Zebedee Quux will fund 42 posts.", "good_practice", "general", origin="chair")
    bad = LetterDraft(draft.review, (*draft.sentences, made_up), draft.actions)
    page = render_letter_html(bad, codebook, make_environment())
    assert {"Dr Zebedee Quux", "42"} <= invented(page, bad, codebook)


# ------------------------------------------------------------------------------ content and language

def test_letter_is_addressed_to_the_board_copied_to_its_rpb_and_sppc_and_signed_by_the_chair(codebook: Codebook) -> None:
    page = render_letter_html(fixed_draft(), codebook, make_environment())
    head = page[page.index('class="row letterhead"'):page.index('class="row opening"')]
    assert "Powys Teaching Health Board" in head
    assert "Copied to: Powys Regional Partnership Board; Strategic Programme for Primary Care (SPPC)" in head
    for label in ("PCMW 6: Safe &amp; effective call handling, signposting &amp; triage",
                  "PCMW 7: Quality out-of-hours care",
                  "ACD 6: Effective, efficient and long term sustainable cluster workforce and services"):
        assert label in page
    signature = page[page.index('class="row signature"'):]
    assert "Yours sincerely," in signature and "Dr Eleri Rhys" in signature


def test_letter_blank_lead_and_timescale_read_to_be_agreed_and_are_flagged(codebook: Codebook) -> None:
    page = render_letter_html(fixed_draft(), codebook, make_environment())
    table = page[page.index('<table class="actions"'):page.index("</table>", page.index('<table class="actions"'))]
    rows = re.findall(r"<tr( class=\"flag\")?>(.*?)</tr>", table, re.S)[1:]
    assert len(rows) == 2
    (flag1, rota), (flag2, induction) = rows
    assert not flag1 and "PTHB" in rota and "by March 2026" in rota
    assert flag2 and induction.count('<span class="flag">to be agreed</span>') == 2
    assert "need a lead or a timescale confirming" in page


def test_letter_date_is_a_flagged_blank_until_given(codebook: Codebook) -> None:
    env = make_environment()
    assert '<span class="flag">to be added when the letter is sent</span>' in render_letter_html(fixed_draft(), codebook, env)
    dated = render_letter_html(fixed_draft(letter_date="2025-07-01"), codebook, env, "cy")
    assert "Dyddiad: 1 Gorffennaf 2025" in dated
    with pytest.raises(PeerReviewError, match="letter_date"):
        render_letter_text(fixed_draft(letter_date="next week"), codebook)


def test_letter_welsh_output_has_correct_diacritics_and_the_draft_translation_notice(codebook: Codebook) -> None:
    env = make_environment()
    draft = draft_letter(read_peer_review(SAMPLE_REVIEW), codebook, make_sentencizer())
    notice_cy = "Cyfieithiad drafft — nid yw wedi'i gymeradwyo gan gyfieithydd eto."
    notice_en = "Draft translation — not yet approved by a translator."
    for language in ("cy", "bilingual"):
        page = html.unescape(render_letter_html(draft, codebook, env, language))
        assert notice_cy in page and notice_en in page
        assert page.index('class="draft-notice"') < page.index('class="row letterhead"')
        for word in ("grŵp", "â'r", "Llŷn", "Siân", "Bwrdd Iechyd Prifysgol Betsi Cadwaladr", "Annwyl gydweithwyr"):
            assert word in page, word
        assert not re.search(r"Ã|Å|â€", page)  # no mojibake
        assert notice_cy in render_letter_text(draft, codebook, language)
    english = html.unescape(render_letter_html(draft, codebook, env, "en"))
    assert notice_en not in english and "Bwrdd" not in english


def test_letter_bilingual_puts_welsh_and_english_side_by_side(codebook: Codebook) -> None:
    page = render_letter_html(fixed_draft(), codebook, make_environment(), "bilingual")
    rows = re.findall(r'<div class="row [^"]+"[^>]*>(.*?)</div>\s*(?=<div class="row|<div class="actions-table|\{|</article)', page, re.S)
    assert rows
    for row in rows:
        assert row.index('lang="cy"') < row.index('lang="en"')
    assert "Cam gweithredu / Action" in page  # one actions table, headers in both languages
    assert "Diben yr adolygiad" in page and "Purpose of the review" in page


def test_letter_unknown_language_is_refused_with_the_choices(codebook: Codebook) -> None:
    with pytest.raises(PeerReviewError, match="en, cy, bilingual"):
        render_letter_html(fixed_draft(), codebook, make_environment(), "fr")


def test_letter_organisation_override_extends_the_default(codebook: Codebook, tmp_path: Path) -> None:
    (tmp_path / "outcome_letter.html.j2").write_text(
        '{% extends "clwstwr/outcome_letter.html.j2" %}\n'
        '{% block letterhead %}<p class="org-letterhead">Powys Teaching Health Board · Glasbury House</p>{{ super() }}{% endblock %}\n'
        '{% block signature %}{{ super() }}<p class="org-footer">Registered office</p>{% endblock %}\n',
        encoding="utf-8",
    )
    ours = render_letter_html(fixed_draft(), codebook, make_environment())
    theirs = render_letter_html(fixed_draft(), codebook, make_environment(tmp_path))
    assert "org-letterhead" not in ours
    assert '<p class="org-letterhead">Powys Teaching Health Board · Glasbury House</p>' in theirs
    assert '<p class="org-footer">Registered office</p>' in theirs
    assert "Copied to: Powys Regional Partnership Board" in theirs and 'class="actions"' in theirs
