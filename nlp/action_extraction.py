"""Who does an agreed action, and by when: exact spans from the note, never a guess.

An outcome letter lists each agreed action with its owner and timescale. People copy those straight
into plans, so a wrong owner is worse than none: this module only reports an owner or a timescale
that is written in the sentence, with its character span, and otherwise leaves it ``None`` and sets
``needs_owner`` / ``needs_timescale`` so the chair is asked to fill it in.

Owners come from a closed vocabulary (the codebook's health boards with their aliases and Welsh
names, plus the national and local bodies peer-review notes name) and only count in *subject*
position, before the action's verb ("PTHB to work with HEIW ..." -> PTHB, not HEIW). An imperative
("Work with the SPPC team ...") has no written owner: SPPC there is a partner, so the owner is None.
An explicit label ("Owner: Dr Jones", "Lead: KG") is taken as written, whatever it says.

Timescales are dates, quarters, financial years and relative phrases. A bare financial year counts
only after a time preposition or an "FY" prefix, because notes also name contracts and plans by
year ("the 2023/24 GMS contract") and that is not a deadline.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from corpora.codebook import Codebook, load_codebook

__all__ = ["ActionDetails", "extract_action", "owner_pattern"]

Span = tuple[int, int]

# Acronyms are matched case-sensitively ("LA" is an owner, "la" is not); names case-insensitively.
_GENERIC_ACRONYMS = (
    "HB", "HBs", "UHB", "UHBs", "CL", "CLs", "PCPG", "PCPGs", "RPB", "RPBs", "SPPC", "PHW", "HEIW",
    "DHCW", "WG", "LA", "LAs", "DPCC", "DPCCs",
)
_GENERIC_NAMES = (
    "health board", "health boards", "university health board", "cluster", "clusters", "the cluster",
    "cluster lead", "cluster leads", "collaborative lead", "collaborative leads", "collab leads",
    "pan cluster planning group", "regional partnership board", "strategic programme for primary care",
    "strategic programme", "public health wales", "iechyd cyhoeddus cymru",
    "health education and improvement wales", "digital health and care wales", "welsh government",
    "llywodraeth cymru", "local authority", "local authorities", "council", "third sector",
    "practices", "practice", "collaborative", "collaboratives", "professional collaborative",
    "the team", "team", "sppc team", "national team", "hb team", "health board team",
)
_MAX_SUBJECT_CHARS = 80
# Verbs/modals that end the subject of an action sentence.
_PREDICATE = re.compile(
    r"\b(?:to\s+(?:be\s+)?[a-z]+|will|shall|should|must|is\s+to|are\s+to|agreed\s+to|has\s+agreed|"
    r"have\s+agreed|would|needs?\s+to|can)\b",
)
_EXPLICIT_OWNER = re.compile(
    r"\b(?:owner|lead|led\s+by|responsible|action\s+owner|by\s+whom)\s*[:\-–]\s*(?P<who>[^;,.()\n]+?)\s*(?=$|[;,.()\n]|\s[-–]\s)",
    re.IGNORECASE,
)

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_YEAR = r"(?:19|20)\d{2}"
_FY = r"(?:(?:19|20)?\d{2}[/-](?:19|20)?\d{2})"
_NUMBER = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen|twenty[- ]four)"
_UNIT = r"(?:days?|weeks?|months?|years?|quarters?)"
_TIMESCALES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("date", re.compile(rf"\b(?:by\s+|before\s+|on\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\s+{_YEAR}\b")),
    ("date", re.compile(r"\b(?:by\s+|before\s+)?\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})\b")),
    ("quarter", re.compile(rf"\b(?:by\s+|in\s+|during\s+)?(?:the\s+end\s+of\s+)?Q[1-4](?:\s+(?:of\s+)?(?:{_FY}|{_YEAR}))?\b")),
    ("quarter", re.compile(rf"\b(?:by\s+|in\s+)?(?:the\s+end\s+of\s+)?(?:the\s+)?(?:first|second|third|fourth|final|next)\s+quarter(?:\s+of\s+(?:{_FY}|{_YEAR}))?\b", re.IGNORECASE)),
    ("financial_year", re.compile(rf"\b(?:FY\s?{_FY}|(?:the\s+)?financial\s+year\s+{_FY})\b", re.IGNORECASE)),
    ("financial_year", re.compile(rf"\b(?:by|in|during|for|before|from|until|within|throughout|over|end\s+of)\s+(?:the\s+)?{_FY}\b", re.IGNORECASE)),
    ("date", re.compile(rf"\b(?:by\s+|before\s+|in\s+|during\s+|until\s+)?(?:the\s+)?(?:end\s+of\s+)?{_MONTH}\s+{_YEAR}\b")),
    ("date", re.compile(rf"\b(?:by|before|until)\s+(?:the\s+)?(?:end\s+of\s+)?{_MONTH}\b")),
    ("relative", re.compile(rf"\b(?:within|in|over)\s+(?:the\s+)?(?:next\s+)?{_NUMBER}\s+{_UNIT}\b", re.IGNORECASE)),
    ("relative", re.compile(r"\b(?:within|in|over)\s+the\s+next\s+(?:day|week|month|year|quarter)\b", re.IGNORECASE)),
    ("relative", re.compile(
        r"\b(?:by|before|at)\s+the\s+(?:next|following)\s+(?:peer\s+)?(?:review|meeting|cluster\s+meeting|"
        r"pcpg(?:\s+meeting)?|board\s+meeting|round)\b", re.IGNORECASE)),
    ("relative", re.compile(
        r"\bby\s+(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?(?:financial\s+year|year|quarter|month|term)\b", re.IGNORECASE)),
    ("relative", re.compile(r"\b(?:next|this)\s+(?:financial\s+year|quarter|month)\b", re.IGNORECASE)),
)


@dataclass(frozen=True)
class ActionDetails:
    """Owner and timescale of one action sentence; spans index into that sentence."""

    owner: str | None
    owner_span: Span | None
    timescale: str | None
    timescale_span: Span | None
    needs_owner: bool
    needs_timescale: bool


def _alternation(terms: list[str]) -> str:
    # Longest first so "Cwm Taf Morgannwg UHB" wins over "Cwm Taf"; spaces match any run of spaces.
    ordered = sorted(set(terms), key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(p) for p in t.split()) for t in ordered)


def owner_pattern(codebook: Codebook) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(case-sensitive acronyms, case-insensitive names) for every owner the notes may name."""
    acronyms = list(_GENERIC_ACRONYMS)
    names = list(_GENERIC_NAMES)
    for board in codebook.health_boards:
        for term in (board.name, board.short_name, board.welsh_name, *board.aliases, board.rpb.name):
            (acronyms if term.replace("&", "").isupper() and " " not in term else names).append(term)
    bound_l, bound_r = r"(?<![\w&@])", r"(?![\w&@])"
    return (
        re.compile(f"{bound_l}(?:{_alternation(acronyms)}){bound_r}"),
        re.compile(f"{bound_l}(?:{_alternation(names)}){bound_r}", re.IGNORECASE),
    )


@functools.lru_cache(maxsize=1)
def _default_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    # Cached rather than a module global: built once on first use, from the codebook on disk.
    return owner_pattern(load_codebook())


def _subject_end(sentence: str) -> int | None:
    """Where the subject stops: the first predicate ("to consider", "will", "should" ...)."""
    body = re.sub(r"^\s*(?:action|agreed(?:\s+action)?)\s*[:\-–]\s*", lambda m: " " * len(m.group()), sentence, flags=re.IGNORECASE)
    match = _PREDICATE.search(body)
    # A subject is a short noun phrase; a predicate deep in the sentence ("... with the potential to
    # work") means the sentence does not open with its owner.
    return match.start() if match and match.start() <= _MAX_SUBJECT_CHARS else None


def _find_owner(sentence: str, patterns: tuple[re.Pattern[str], re.Pattern[str]]) -> tuple[str, Span] | None:
    explicit = _EXPLICIT_OWNER.search(sentence)
    if explicit:
        return explicit.group("who"), explicit.span("who")
    subject_end = _subject_end(sentence)
    if subject_end is None:
        return None
    found = [m for p in patterns for m in p.finditer(sentence, 0, subject_end)]
    if not found:
        return None
    # The subject's head is the first owner named, stretched over every owner match overlapping it:
    # "The cluster lead" is one owner, not "The cluster" followed by a stray "lead".
    # finditer gives no overlapping matches, so look for owners starting inside the current one.
    start = min(m.start() for m in found)
    end = max(m.end() for m in found if m.start() == start)
    pos = start + 1
    while pos < end:
        for pattern in patterns:
            inner = pattern.match(sentence, pos, subject_end)
            if inner and inner.end() > end:
                end = inner.end()
        pos += 1
    return sentence[start:end], (start, end)


def _find_timescale(sentence: str) -> tuple[str, Span] | None:
    found = [m for _kind, p in _TIMESCALES for m in p.finditer(sentence)]
    if not found:
        return None
    best = min(found, key=lambda m: (m.start(), -(m.end() - m.start())))
    return best.group(), best.span()


def extract_action(
    sentence: str, patterns: tuple[re.Pattern[str], re.Pattern[str]] | None = None
) -> ActionDetails:
    """Owner and timescale written in ``sentence`` (exact spans), else None with a needs_* flag.

    ``patterns`` (from ``owner_pattern(codebook)``) lets a caller pass its own codebook; by default
    the installed codebook is used.
    """
    owner = _find_owner(sentence, patterns or _default_patterns())
    timescale = _find_timescale(sentence)
    return ActionDetails(
        owner=owner[0] if owner else None,
        owner_span=owner[1] if owner else None,
        timescale=timescale[0] if timescale else None,
        timescale_span=timescale[1] if timescale else None,
        needs_owner=owner is None,
        needs_timescale=timescale is None,
    )
