"""An outcome letter as HTML (browser, PDF) and as plain text (comparing versions), in English, Welsh
or both side by side.

Why one context for every format: the HTML, the text and the Word document (``letter_docx``) must say
the same thing, so the wording is decided once here (``letter_context``) from the draft, the codebook
and the message catalogue, and each format only lays it out. Fixed text comes from the catalogue,
names of organisations from the codebook, everything else from the review and its notes: nothing is
made up on the way. Each drafted item keeps its span of the notes, which the HTML carries as data
attributes and shows on hover.
"""

from __future__ import annotations

import bisect
import re
from datetime import date
from typing import Any

from jinja2 import Environment

from corpora.codebook import Codebook
from corpora.errors import CodebookError

from .letter_model import GENERAL, LANGUAGES, DraftAction, DraftSentence, LetterDraft, PeerReviewError, Span
from .message_catalogue import MessageCatalogue, load_catalogue

__all__ = ["LETTER_TEMPLATE", "letter_context", "render_letter_html", "render_letter_text"]

LETTER_TEMPLATE = "outcome_letter.html.j2"
_ROLES_SHOWN = ("good_practice", "challenge")
_HEADING_LINE = re.compile(r"^[ \t]{0,3}(?:#{1,6}[ \t]+(?P<md>[^\n]*?)[ \t#]*|(?P<plain>[^\n.!?]{1,80}):[ \t]*)$", re.MULTILINE)


def _versions(language: str) -> tuple[str, ...]:
    if language not in LANGUAGES:
        raise PeerReviewError(f"letter language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    # Welsh first (left) in bilingual documents, as the Welsh Language Standards expect.
    return ("cy", "en") if language == "bilingual" else (language,)


class _Headings:
    """The heading lines of the notes, to say on hover *where* in the notes an item came from."""

    def __init__(self, notes: str) -> None:
        found = [(m.start(), (m.group("md") or m.group("plain") or "").strip(" *_")) for m in _HEADING_LINE.finditer(notes)]
        self.starts = [s for s, _t in found]
        self.texts = [t for _s, t in found]

    def above(self, offset: int) -> str | None:
        i = bisect.bisect_right(self.starts, offset) - 1
        return self.texts[i] if i >= 0 else None


def _item(
    item: DraftSentence | DraftAction, lang: str, notes: str, headings: _Headings, m: dict[str, str]
) -> dict[str, Any]:
    source: Span | None = item.source
    excerpt = notes[source.start : source.end] if source else None
    if item.origin == "chair" or excerpt is None:
        tooltip = m["provenance_chair"]
    else:
        where = headings.above(source.start) if source else None
        lead = m["provenance_edited"] if item.origin == "edited" else m["provenance_notes"]
        tooltip = f"{lead}{f' ({where})' if where else ''}: “{excerpt}”"
    return {
        "id": item.id,
        "dom_id": f"{lang}-{item.id}",
        "text": item.text,
        "origin": item.origin,
        "start": source.start if source else None,
        "end": source.end if source else None,
        "tooltip": tooltip,
    }


def _outcome_code(codebook: Codebook, outcome_id: str, m: dict[str, str]) -> str:
    if outcome_id == GENERAL:
        return m["general_short"]
    outcome = codebook.outcome(outcome_id)
    return f"{m['module_' + outcome.module]} {outcome.number}"


def _actions(
    draft: LetterDraft, codebook: Codebook, lang: str, m: dict[str, str], headings: _Headings
) -> list[dict[str, Any]]:
    """The actions in the order of the review's outcomes (then general), notes order within each."""
    order = {o: i for i, o in enumerate((*draft.review.outcomes, GENERAL))}
    out = []
    for a in sorted(draft.actions, key=lambda a: order.get(a.outcome, len(order))):
        entry = _item(a, lang, draft.review.notes, headings, m)
        entry.update(outcome_code=_outcome_code(codebook, a.outcome, m), owner=a.owner, timescale=a.timescale,
                     needs_owner=a.needs_owner, needs_timescale=a.needs_timescale)
        out.append(entry)
    return out


def _bilingual_table(draft: LetterDraft, codebook: Codebook, versions: list[dict[str, Any]]) -> dict[str, Any]:
    """One actions table for both columns, headers "Welsh / English": the rows are the same in both,
    and two half-width tables of long sentences do not fit an A4 page."""
    cy, en = versions[0]["m"], versions[1]["m"]
    m = {key: cy[key] if cy[key] == en[key] else f"{cy[key]} / {en[key]}" for key in cy}
    actions = _actions(draft, codebook, "bi", m, _Headings(draft.review.notes))
    return {"lang": "cy", "m": m, "actions": actions, "any_flagged": versions[0]["any_flagged"]}


def _language_view(draft: LetterDraft, codebook: Codebook, lang: str, catalogue: MessageCatalogue) -> dict[str, Any]:
    review = draft.review
    try:
        board = codebook.health_board(review.health_board)
    except CodebookError:
        raise PeerReviewError(f"draft.review: field 'health_board': {review.health_board!r} is not a health board id") from None
    welsh = lang == "cy"
    date_text = catalogue.format_date(lang, review.review_date)
    values = {
        "cluster": review.cluster, "date": date_text, "board": board.welsh_name if welsh else board.name,
        "rpb": board.rpb.welsh_name if welsh else board.rpb.name, "chair": review.chair,
        "reviewing": review.reviewing, "sppc": review.sppc_representative,
    }
    m = catalogue.messages(lang, **values)
    headings = _Headings(review.notes)
    outcomes = []
    for outcome_id in review.outcomes:
        code = _outcome_code(codebook, outcome_id, m)
        outcomes.append({"id": outcome_id, "code": code, "name": catalogue.outcome_name(lang, outcome_id),
                         "label": f"{code}: {catalogue.outcome_name(lang, outcome_id)}"})

    def sentences(outcome: str, role: str) -> list[dict[str, Any]]:
        out = []
        for s in draft.sentences:
            if s.outcome == outcome and s.role == role:
                entry = _item(s, lang, review.notes, headings, m)
                entry["themes"] = [catalogue.theme_label(lang, t) for t in s.themes]
                out.append(entry)
        return out

    for o in outcomes:
        o["good_practice"] = sentences(o["id"], "good_practice")
        o["challenges"] = sentences(o["id"], "challenge")
    general = {"id": GENERAL, "label": m["general_heading"], "good_practice": sentences(GENERAL, "good_practice"),
               "challenges": sentences(GENERAL, "challenge")}
    actions = _actions(draft, codebook, lang, m, headings)
    letter_date = draft.extra.get("letter_date")
    return {
        "lang": lang,
        "m": m,
        "board_name": values["board"],
        "rpb_name": values["rpb"],
        "date_text": date_text,
        "letter_date": catalogue.format_date(lang, _as_date(letter_date)) if letter_date else None,
        "details": [
            (m["detail_cluster"], review.cluster), (m["detail_board"], values["board"]),
            (m["detail_date"], date_text), (m["detail_reviewing"], review.reviewing),
            (m["detail_chair"], review.chair), (m["detail_sppc"], review.sppc_representative),
            *([(m["detail_attendees"], "; ".join(review.attendees))] if review.attendees else []),
        ],
        "outcomes": outcomes,
        "general": general if general["good_practice"] or general["challenges"] else None,
        "actions": actions,
        "any_flagged": any(a["needs_owner"] or a["needs_timescale"] for a in actions),
        "next_steps_extra": draft.next_steps.strip(),
        "chair": review.chair,
        "show_notes_language": welsh,
    }


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PeerReviewError(f"draft.extra: field 'letter_date' must be a date like 2025-04-01, got {value!r}") from None


def letter_context(
    draft: LetterDraft, codebook: Codebook, language: str = "en", catalogue: MessageCatalogue | None = None
) -> dict[str, Any]:
    """Everything a letter template needs: one view per language shown (Welsh then English)."""
    catalogue = catalogue or load_catalogue()
    langs = _versions(language)
    versions = [_language_view(draft, codebook, lang, catalogue) for lang in langs]
    return {
        "lang": langs[0],
        "language": language,
        "actions_table": _bilingual_table(draft, codebook, versions) if len(versions) > 1 else versions[0],
        "bilingual": language == "bilingual",
        "versions": versions,
        "title": " / ".join(f"{v['m']['document_title']}: {draft.review.cluster}" for v in versions),
        "notice": catalogue.draft_notice() if catalogue.needs_draft_notice(language) else None,
    }


def render_letter_html(
    draft: LetterDraft,
    codebook: Codebook,
    env: Environment,
    language: str = "en",
    catalogue: MessageCatalogue | None = None,
) -> str:
    """The letter as one self-contained HTML page (inline CSS; prints to PDF as it shows on screen).

    ``env`` is the one template environment (``make_environment``), so an organisation's override
    of ``outcome_letter.html.j2`` or of a ``letter_*`` partial is used when present.
    """
    context = letter_context(draft, codebook, language, catalogue)
    return env.get_template(LETTER_TEMPLATE).render(**context)


def _text_version(v: dict[str, Any]) -> list[str]:
    m = v["m"]
    lines = [v["board_name"], f"{m['copied_to']}: {v['rpb_name']}; {m['sppc_name']}",
             f"{m['letter_date_label']}: {v['letter_date'] or '[' + m['letter_date_missing'] + ']'}", "",
             m["subject"], "", m["greeting"], "", f"## {m['purpose_heading']}", m["purpose"], "",
             f"## {m['details_heading']}"]
    lines += [f"{label}: {value}" for label, value in v["details"]]
    lines += ["", f"## {m['outcomes_heading']}", m["outcomes_intro"]]
    lines += [f"- {o['label']}" for o in v["outcomes"]]
    if v["show_notes_language"]:
        lines += ["", m["notes_language"]]

    def block(title: str, groups: dict[str, list[dict[str, Any]]]) -> list[str]:
        out = ["", f"## {title}"]
        for key, heading in (("good_practice", m["role_good_practice"]), ("challenges", m["role_challenge"])):
            if groups[key]:
                out += ["", f"### {heading}"]
                for it in groups[key]:
                    themes = f" [{m['themes_label']}: {'; '.join(it['themes'])}]" if it.get("themes") else ""
                    out.append(f"- {it['text']}{themes}")
        if not groups["good_practice"] and not groups["challenges"]:
            out.append(m["nothing_recorded"])
        return out

    for o in v["outcomes"]:
        lines += block(o["label"], o)
    if v["general"]:
        lines += block(m["general_heading"], v["general"])
    lines += ["", f"## {m['actions_heading']}"]
    if v["actions"]:
        lines.append(m["actions_intro"])
        for a in v["actions"]:
            owner = a["owner"] or f"[{m['to_be_agreed']}]"
            when = a["timescale"] or f"[{m['to_be_agreed']}]"
            lines.append(f"- ({a['outcome_code']}) {a['text']} | {m['col_lead']}: {owner} | {m['col_timescale']}: {when}")
        if v["any_flagged"]:
            lines.append(m["flagged_note"])
    else:
        lines.append(m["no_actions"])
    lines += ["", f"## {m['next_steps_heading']}", m["next_steps"]]
    if v["next_steps_extra"]:
        lines.append(v["next_steps_extra"])
    lines += ["", m["sign_off"], "", v["chair"], m["signature_role"]]
    return lines


def render_letter_text(
    draft: LetterDraft, codebook: Codebook, language: str = "en", catalogue: MessageCatalogue | None = None
) -> str:
    """The letter as plain text, one paragraph per line, so two versions compare line by line."""
    context = letter_context(draft, codebook, language, catalogue)
    lines: list[str] = [context["notice"], ""] if context["notice"] else []
    for i, v in enumerate(context["versions"]):
        if i:
            lines += ["", "-" * 40, ""]
        lines += _text_version(v)
    return "\n".join(lines) + "\n"
