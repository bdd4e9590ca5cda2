"""Pattern detectors: emails, URLs, UK phone and NHS numbers, postcodes, and known names.

Every detector is a pure function ``text -> list[Span]`` where offsets index the text as given
(Python ``str`` code points). Nothing here changes the text: callers replace spans themselves, so
characters outside a span (Welsh diacritics included) are never touched.

Why the hand-written scanner for numbers rather than one regular expression: a free-text answer may
hold "01267 123456 2 times" or "Q3 2024/25 0800 123 4567"; a single greedy pattern swallows the
neighbouring numbers and then fails validation as a whole. We split runs of digit groups and take
the longest prefix of groups that validates, so a phone number survives its neighbours.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import NamedTuple

__all__ = [
    "Span",
    "compile_name_patterns",
    "find_known_names",
    "find_emails",
    "find_urls",
    "find_numbers",
    "find_postcodes",
    "nhs_number_is_valid",
    "uk_phone_digits_are_valid",
]


class Span(NamedTuple):
    """A detection: ``text[start:end]`` is an identifier of ``kind`` (e.g. ``"EMAIL"``)."""

    start: int
    end: int
    kind: str


# ASCII classes on purpose: ``\d`` and ``\w`` would accept Arabic-Indic digits and the like.
# Emails may hold any letters (Unicode ``\w``: "siân@..."), so they are the exception.
_EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}(?![\w\-])")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"]+")
_URL_TRAILING = ".,;:!?)]}'\u2019\""


def find_emails(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]


def find_urls(text: str) -> list[Span]:
    spans = []
    for m in _URL.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in _URL_TRAILING:
            end -= 1
        spans.append(Span(m.start(), end, "URL"))
    return spans


# --- numbers: NHS numbers and UK phone numbers -------------------------------------------------

# A run of digit groups joined by one separator each: space, dash, dot, or brackets round an area
# code ("(01267) 123456", "+44 (0)29 2074 5000"). Letters or other digits glued on either side
# disqualify the run ("ABC1234567890", "1234567890123" stays whole and fails validation).
_RUN = re.compile(
    r"(?<![A-Za-z0-9])(?:\+|\()?[0-9]+(?:(?:[ \-.]|\)[ ]?|[ ]?\()?[0-9]+)*\)?(?![A-Za-z0-9])"
)
_GROUP = re.compile(r"[0-9]+")


def nhs_number_is_valid(digits: str) -> bool:
    """The NHS number check: weights 10..2 over the first nine digits, 11 - (sum mod 11) is the
    check digit; 11 means 0 and 10 means the number is invalid (no such NHS number is issued)."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def uk_phone_digits_are_valid(digits: str) -> bool:
    """National-format UK number: a leading 0, then 9 or 10 digits; geographic (01, 02),
    non-geographic (03, 08) or mobile (07, which is always 11 digits long)."""
    if not digits.startswith("0") or len(digits) not in (10, 11):
        return False
    if digits[1] == "7":
        return len(digits) == 11
    return digits[1] in "1238"


def _national_digits(raw: str) -> str:
    digits = "".join(ch for ch in raw if ch.isascii() and ch.isdigit())
    if raw.lstrip("(").startswith(("+44", "0044")):
        digits = digits[4:] if raw.lstrip("(").startswith("0044") else digits[2:]
        if not digits.startswith("0"):
            digits = "0" + digits
        elif digits.startswith("00"):
            return ""
    return digits


def _classify(raw: str) -> str | None:
    """``"NHS_NUMBER"``, ``"PHONE"`` or None for one candidate string of digit groups."""
    groups = [len(g) for g in _GROUP.findall(raw)]
    digits = "".join(_GROUP.findall(raw))
    international = raw.lstrip("(").startswith(("+44", "0044"))
    if not international and groups in ([10], [3, 3, 4]) and nhs_number_is_valid(digits):
        return "NHS_NUMBER"
    if uk_phone_digits_are_valid(_national_digits(raw)):
        return "PHONE"
    return None


def find_numbers(text: str) -> list[Span]:
    """NHS numbers (10 digits, plain or 3-3-4, passing modulus 11) and UK phone numbers.

    A 10-digit number that fails modulus 11 is left alone unless it is a valid UK phone number
    (it then starts with 01/02/03/08 and is reported as ``PHONE``).
    """
    spans: list[Span] = []
    for run in _RUN.finditer(text):
        groups = list(_GROUP.finditer(run.group()))
        base = run.start()
        i = 0
        while i < len(groups):
            found = None
            for j in range(len(groups) - 1, i - 1, -1):
                start, end = base + groups[i].start(), base + groups[j].end()
                # "+44 ..." keeps its plus; "(01267) 123456" its opening bracket, but brackets
                # round the whole number ("(943 476 5919)") stay outside the span.
                if text[start - 1:start] == "+":
                    start -= 1
                elif text[start - 1:start] == "(" and ")" in text[start:end]:
                    start -= 1
                    if text[start - 1:start] == "+":
                        start -= 1
                kind = _classify(text[start:end])
                if kind is not None:
                    found = (Span(start, end, kind), j)
                    break
            if found is None:
                i += 1
                continue
            spans.append(found[0])
            i = found[1] + 1
    return spans


# --- postcodes ---------------------------------------------------------------------------------

# The 121 UK postcode areas. Checking the area keeps lower-case look-alikes ("in 2nd", "b12 3rd"
# in someone's prose) out without giving up case-insensitive matching of real postcodes.
_POSTCODE_AREAS = frozenset(
    """AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY
    E EC EH EN EX FK FY G GL GU HA HD HG HP HR HS HU HX IG IP IV KA KT KW KY L LA LD LE LL LN LS LU
    M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR
    SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE GY JE IM""".split()
)
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2})([0-9][A-Za-z0-9]?)[ ]?"
    r"([0-9][ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2})"
    r"(?![A-Za-z0-9])"
)


def find_postcodes(text: str) -> list[Span]:
    """Full UK postcodes, any case, with or without the space: "CF10 1AA", "sa313ab"."""
    return [
        Span(m.start(), m.end(), "POSTCODE")
        for m in _POSTCODE.finditer(text)
        if m.group(1).upper() in _POSTCODE_AREAS
    ]


# --- names the round's metadata knows ----------------------------------------------------------

_APOSTROPHES = frozenset("'’‘ʼ`´")
_JOINERS = frozenset("-‐‑–—")


def _fold(text: str) -> tuple[str, list[int]]:
    """Case-, accent- and punctuation-blind copy of ``text`` plus, for each folded character, the
    index of the original character it came from. Only used for matching: never output."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch in _APOSTROPHES:
            folded = "'"
        elif ch.isspace() or ch in _JOINERS:
            if out and out[-1] == " ":
                continue
            folded = " "
        else:
            decomposed = unicodedata.normalize("NFKD", ch)
            folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        out.extend(folded)
        index.extend([i] * len(folded))
    return "".join(out), index


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """One alternation over folded names, longest first; apostrophes optional anywhere."""
    folded = {_fold(n)[0].replace("'", "").strip() for n in names}
    folded.discard("")
    if not folded:
        return None
    ordered = sorted(folded, key=lambda n: (-len(n), n))
    alternatives = ["'?".join(re.escape(c) for c in name) for name in ordered]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def compile_name_patterns(
    groups: Iterable[tuple[str, Iterable[str]]],
) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """``[(kind, names), ...]`` -> ``((kind, pattern), ...)`` for ``find_known_names``; kinds with
    no usable name are left out."""
    return tuple((kind, p) for kind, names in groups if (p := _name_pattern(names)) is not None)


def find_known_names(text: str, patterns: Sequence[tuple[str, re.Pattern[str]]]) -> list[Span]:
    """Matches of ``compile_name_patterns`` output in ``text``, offsets in ``text``. A single-word
    name matched all in lower case is skipped ("valley", "flint" are words as well as places)."""
    if not patterns:
        return []
    folded, index = _fold(text)
    spans = []
    for kind, pattern in patterns:
        for m in pattern.finditer(folded):
            start, end = index[m.start()], index[m.end() - 1] + 1
            while end < len(text) and unicodedata.combining(text[end]):
                end += 1
            matched = text[start:end]
            if " " not in m.group() and matched == matched.lower():
                continue
            spans.append(Span(start, end, kind))
    return spans
