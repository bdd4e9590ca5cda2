"""Draft an outcome letter from peer-review notes: every sentence filed by role and outcome, every
action with its owner and timescale, every item pointing at the notes it came from.

Why structure before similarity: a chair who wrote "## PCMW 7" above a paragraph has already said
which outcome it is about, and no embedding model knows better. So a sentence is placed by, in order:

1. the section it sits in (a heading naming one of the review's outcomes by number or name; a heading
   naming another outcome files its sentences under ``general``);
2. an explicit reference in the sentence itself ("... under ACD 6 ...") when the section says nothing;
3. the outcome mapper, restricted to the review's three outcomes, only when one of them clearly wins
   (above ``PLACE_MIN`` and ``PLACE_MARGIN`` ahead of the other two, and not far behind an outcome the
   review did not discuss);
4. otherwise ``general``.

Roles come from ``nlp.note_roles`` (cue words); a role heading ("Challenges", "Agreed actions") fills
in sentences the cues leave as context, and everything listed under an actions heading is an action.
Owners and timescales are only ever the exact words of the notes (``nlp.action_extraction``); nothing
is paraphrased, so ``notes[start:end]`` is each item's text.
"""

from __future__ import annotations

import bisect
import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from spacy.language import Language

from corpora.codebook import Codebook
from corpora.errors import CodebookError
from nlp.action_extraction import extract_action, owner_pattern
from nlp.note_roles import ClassifiedSentence, classify_notes
from nlp.segmentation import make_sentencizer
from nlp.suggestion_service import SuggestionService

from .letter_model import GENERAL, DraftAction, DraftSentence, LetterDraft, PeerReview, PeerReviewError, Span

__all__ = ["PLACE_MARGIN", "PLACE_MIN", "draft_letter", "find_sections"]

# Mapper placement: the best of the review's three outcomes must reach PLACE_MIN (the mapper's own
# "speaks to it" level), beat the other two by PLACE_MARGIN, and be within OTHER_MARGIN of the best
# outcome overall (a sentence about IT systems is not filed under diagnostics just because
# diagnostics was on the agenda and IT was not).
PLACE_MIN = 0.45
PLACE_MARGIN = 0.05
OTHER_MARGIN = 0.10
MAX_THEMES = 2

_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)(.+?)\1\s*:?\s*$")
_BULLET = re.compile(r"^\s*(?:[-–—•*·▪●]|\(?\d{1,2}[.)])\s+")
_OUTCOME_REF = re.compile(r"\b(PCMW|ACD)\s*(?:outcome\s*)?(\d{1,2})\b", re.IGNORECASE)
_OUTCOME_REF_START = re.compile(r"^\s*(?:PCMW|ACD)\s*(?:outcome\s*)?\d{1,2}\b", re.IGNORECASE)
_ROLE_HEADINGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("action", re.compile(r"\b(?:agreed\s+)?actions?\b|\bnext\s+steps\b|\brecommendations?\b|\baction\s+points?\b", re.IGNORECASE)),
    ("challenge", re.compile(r"\bchallenges?\b|\bbarriers?\b|\bconcerns?\b|\bissues\b|\brisks?\b|\bdifficult(?:y|ies)\b|\bconstraints?\b", re.IGNORECASE)),
    ("good_practice", re.compile(
        r"\bgood\s+practice\b|\bstrengths?\b|\bsuccess(?:es)?\b|\bwhat\s+(?:is\s+)?(?:works?|working)\s+well\b|"
        r"\bachievements?\b|\bhighlights?\b|\bnotable\s+practice\b", re.IGNORECASE)),
)
_MAX_PLAIN_HEADING = 80


@dataclass(frozen=True)
class Section:
    """What the headings above a point of the notes say: the outcome and the role they announce.

    ``outcome`` is an outcome id of the review, ``general`` (a heading about another outcome), or
    None (no heading says). ``start``/``end`` are the heading line's offsets.
    """

    start: int
    end: int
    heading: str
    outcome: str | None
    role: str | None


@dataclass
class _State:
    outcome: str | None = None
    outcome_level: int | None = None
    role: str | None = None
    role_level: int | None = None


@dataclass
class _Placement:
    outcome: str
    how: str  # heading | reference | mapper | unplaced


@dataclass
class _Drafting:
    sentences: list[DraftSentence] = field(default_factory=list)
    actions: list[DraftAction] = field(default_factory=list)
    placement: dict[str, str] = field(default_factory=dict)
    role_from: dict[str, str] = field(default_factory=dict)


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.replace("&", " and ").lower()).split())


def _heading_of(line: str) -> tuple[str, int | None] | None:
    """(heading text, Markdown level or None for a plain heading) if ``line`` is a heading."""
    md = _MD_HEADING.match(line)
    if md:
        return md.group(2).strip(" *_"), len(md.group(1))
    bold = _BOLD_LINE.match(line)
    if bold:
        return bold.group(2).strip(), None
    stripped = line.strip()
    if not stripped or _BULLET.match(line) or len(stripped) > _MAX_PLAIN_HEADING or stripped[-1] in ".!?;,":
        return None
    body = stripped.rstrip(":").strip()
    if stripped.endswith(":") and len(body.split()) <= 8:
        return body, None
    if _OUTCOME_REF_START.match(stripped):
        return body, None
    if any(p.fullmatch(body) for _r, p in _ROLE_HEADINGS) or re.fullmatch(
        r"(?:agreed\s+actions?|good\s+practice|challenges(?:\s+heard)?|next\s+steps)", body, re.IGNORECASE
    ):
        return body, None
    return None


def _outcome_named(heading: str, review: PeerReview, codebook: Codebook) -> str | None:
    """The outcome a heading names: by number (any outcome) or by name (the review's three)."""
    for module, number in _OUTCOME_REF.findall(heading):
        outcome = f"{module.lower()}-{int(number)}"
        try:
            codebook.outcome(outcome)
        except CodebookError:
            continue
        return outcome if outcome in review.outcomes else GENERAL
    wanted = _normal(heading)
    for outcome_id in review.outcomes:
        outcome = codebook.outcome(outcome_id)
        for name in (outcome.name, *outcome.aliases):
            if len(name.split()) >= 2 and _normal(name) in wanted:
                return outcome_id
    return None


def _role_named(heading: str) -> str | None:
    for role, pattern in _ROLE_HEADINGS:
        if pattern.search(heading):
            return role
    return None


def find_sections(notes: str, review: PeerReview, codebook: Codebook) -> list[Section]:
    """Every heading line of the notes with the outcome and role in force after it, in order."""
    state = _State()
    sections: list[Section] = []
    names = {_normal(n): o for o in review.outcomes for n in (codebook.outcome(o).name, *codebook.outcome(o).aliases)}
    for line in re.finditer(r"[^\n]+", notes):
        found = _heading_of(line.group())
        if found is None and _normal(line.group()) in names and not _BULLET.match(line.group()):
            found = (line.group().strip(), None)  # a line that is just an outcome's name
        if found is None:
            continue
        text, level = found
        outcome = _outcome_named(text, review, codebook)
        role = None if outcome else _role_named(text)
        if outcome:
            state.outcome, state.outcome_level = outcome, level if level is not None else 0
            state.role, state.role_level = None, None
        elif role:
            if level is not None and state.outcome_level is not None and level <= state.outcome_level:
                state.outcome, state.outcome_level = None, None
            state.role, state.role_level = role, level
        elif level is not None:
            if state.outcome_level is None or level <= state.outcome_level:
                state.outcome, state.outcome_level = None, None
            if state.role_level is None or level <= state.role_level:
                state.role, state.role_level = None, None
        else:
            state.role, state.role_level = None, None
        sections.append(Section(line.start(), line.end(), text, state.outcome, state.role))
    return sections


def _section_at(sections: Sequence[Section], starts: Sequence[int], offset: int) -> Section | None:
    i = bisect.bisect_right(starts, offset) - 1
    return sections[i] if i >= 0 else None


def _referenced(text: str, review: PeerReview) -> str | None:
    named = {f"{m.lower()}-{int(n)}" for m, n in _OUTCOME_REF.findall(text)} & set(review.outcomes)
    return named.pop() if len(named) == 1 else None


def _mapper_places(texts: Sequence[str], review: PeerReview, suggestions: SuggestionService) -> list[str | None]:
    """For each text, the one review outcome the mapper clearly puts it under, else None."""
    if not texts:
        return []
    # A copy with its filters opened: every outcome's score is wanted, not only the shortlist.
    mapper = copy.copy(suggestions.mapper)
    mapper.min_score, mapper.relative_margin = 0.0, 1.0
    mapper.max_outcomes = len(suggestions.codebook.outcomes)
    out: list[str | None] = []
    for outcomes, _headings in mapper.map_texts(list(texts)):
        scores = {t.id: t.score for t in outcomes}
        ours = sorted(((scores.get(o, 0.0), o) for o in review.outcomes), reverse=True)
        (best, best_id), (second, _id) = ours[0], ours[1]
        overall = max(scores.values(), default=0.0)
        clear = best >= PLACE_MIN and best - second >= PLACE_MARGIN and best >= overall - OTHER_MARGIN
        out.append(best_id if clear else None)
    return out


def _challenge_themes(texts: Sequence[str], codebook: Codebook, suggestions: SuggestionService) -> list[tuple[str, ...]]:
    if not texts:
        return []
    barrier_ids = {t.id for t in codebook.themes_for("barrier")}
    found = suggestions.suggest_many(list(texts), ["barrier"] * len(texts))
    return [tuple(t.id for t in s.themes if t.id in barrier_ids)[:MAX_THEMES] for s in found]


def _role(sentence: ClassifiedSentence, section: Section | None) -> tuple[str, str]:
    """(role, where it came from): cues decide, a heading fills in what the cues leave as context."""
    hint = section.role if section else None
    if hint == "action" and sentence.role != "action":
        return "action", "heading"
    if sentence.role == "context" and hint:
        return hint, "heading"
    return sentence.role, "cues"


def _check_review(review: PeerReview, codebook: Codebook) -> None:
    try:
        codebook.health_board(review.health_board)
    except CodebookError:
        valid = ", ".join(b.id for b in codebook.health_boards)
        raise PeerReviewError(f"peer review: field 'health_board': {review.health_board!r} is not a health board id; expected one of {valid}") from None
    for outcome in review.outcomes:
        try:
            codebook.outcome(outcome)
        except CodebookError as exc:
            raise PeerReviewError(f"peer review: field 'outcomes': {exc}") from None


def draft_letter(
    review: PeerReview,
    codebook: Codebook,
    nlp: Language,
    suggestions: SuggestionService | None = None,
) -> LetterDraft:
    """A machine draft of the outcome letter: deterministic for the same notes and models.

    Without ``suggestions`` the draft uses the notes' structure only: no theme tags, and sentences
    outside an outcome's section go to ``general``.
    """
    _check_review(review, codebook)
    if not {"parser", "senter", "sentencizer"} & set(nlp.pipe_names):
        # A blank pipeline cannot split sentences; the rule-based sentencizer is what roles were tuned on.
        nlp = make_sentencizer()
    notes = review.notes
    sections = find_sections(notes, review, codebook)
    starts = [s.start for s in sections]
    units: list[tuple[ClassifiedSentence, Section | None]] = []
    for sentence in classify_notes(notes, nlp):
        section = _section_at(sections, starts, sentence.start)
        if section and sentence.start < section.end:
            continue  # the heading line itself is structure, not a sentence of the letter
        units.append((sentence, section))

    placements: list[_Placement | None] = []
    for sentence, section in units:
        if section and section.outcome:
            placements.append(_Placement(section.outcome, "heading"))
        elif (ref := _referenced(sentence.text, review)) is not None:
            placements.append(_Placement(ref, "reference"))
        else:
            placements.append(None)
    open_items = [i for i, p in enumerate(placements) if p is None]
    mapped = _mapper_places([units[i][0].text for i in open_items], review, suggestions) if suggestions else []
    for i, outcome in zip(open_items, mapped):
        placements[i] = _Placement(outcome, "mapper") if outcome else None
    final = [p or _Placement(GENERAL, "unplaced") for p in placements]

    roles = [_role(sentence, section) for sentence, section in units]
    challenge_idx = [i for i, (role, _src) in enumerate(roles) if role == "challenge"]
    themes: dict[int, tuple[str, ...]] = {}
    if suggestions and challenge_idx:
        tagged = _challenge_themes([units[i][0].text for i in challenge_idx], codebook, suggestions)
        themes = dict(zip(challenge_idx, tagged))

    patterns = owner_pattern(codebook)
    out = _Drafting()
    for i, ((sentence, _section), (role, role_src), place) in enumerate(zip(units, roles, final)):
        span = Span(sentence.start, sentence.end)
        if role == "action":
            item_id = f"a{len(out.actions) + 1}"
            details = extract_action(sentence.text, patterns)
            shift = lambda s: Span(sentence.start + s[0], sentence.start + s[1]) if s else None  # noqa: E731
            out.actions.append(DraftAction(
                id=item_id, text=sentence.text, outcome=place.outcome, owner=details.owner,
                timescale=details.timescale, source=span, owner_source=shift(details.owner_span),
                timescale_source=shift(details.timescale_span),
            ))
        else:
            item_id = f"s{len(out.sentences) + 1}"
            out.sentences.append(DraftSentence(
                id=item_id, text=sentence.text, role=role, outcome=place.outcome,
                themes=themes.get(i, ()), source=span,
            ))
        out.placement[item_id] = place.how
        out.role_from[item_id] = role_src
    return LetterDraft(
        review=review,
        sentences=tuple(out.sentences),
        actions=tuple(out.actions),
        extra={"drafting": {
            "placement": out.placement,
            "role_from": out.role_from,
            "model": suggestions.model if suggestions else None,
        }},
    )
