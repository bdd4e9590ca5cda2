"""Lexical cues: does a text use a theme's keywords? A signal that works where embeddings are weak
(Welsh answers, one-word answers such as "Funding.") and that a reviewer can read and correct in the
codebook without retraining anything.

Speed matters here: one suggestion asks about forty cue patterns (every candidate theme on the answer
and on each sentence, every outcome and heading on the answer), so a pattern first checks, with plain
substring tests, that at least one of its keywords can be present at all, and its regular expression
tests the word boundary once per position rather than once per keyword. Both are exact: the matches,
their spans and which keyword each is are those of the plain alternation
``(?P<k0>(?<!\\w)kw0(?!\\w))|(?P<k1>(?<!\\w)kw1(?!\\w))|...`` (``tests/nlp/test_cue_words.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .common_words import common_english_words

# Prefix matching for longer cue words catches inflections ("engage" -> "engagement", "fund" is too
# short to be safe: it would also match "fundamental"); short cue words match whole words (+ plural).
# A longer cue word given in the plural also finds its singular ("relationships" -> "relationship").
PREFIX_MIN_CHARS = 5

_SEPARATOR = re.compile(r"[\s-]+")

# Welsh mutates a word's first letters after certain words: "cyllideb" (budget) is "y gyllideb"
# (the budget), "ein cyllideb" is "ein nghyllideb"... and "gwaith papur" (paperwork) is "gormod o
# waith papur". Radical initial -> its soft, nasal and aspirate forms; a vowel takes an "h" ("ein
# hamser", our time). Digraphs that never mutate are listed so that "ch" is not read as "c" + "h".
_MUTATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ll", ("l",)), ("rh", ("r",)),
    ("ch", ()), ("ph", ()), ("th", ()), ("dd", ()), ("ff", ()), ("ng", ()),
    ("c", ("g", "ngh", "ch")), ("p", ("b", "mh", "ph")), ("t", ("d", "nh", "th")),
    ("g", ("", "ng")), ("b", ("f", "m")), ("d", ("dd", "n")), ("m", ("f",)),
)
_VOWELS = frozenset("aeiouwyâêîôûŵŷ")


def welsh_initials(word: str, english: frozenset[str]) -> tuple[str, tuple[str, ...]]:
    """``(radical initial, its mutated forms)`` for a cue word that is not an everyday English word
    ("cyllideb" -> ``("c", ("g", "ngh", "ch"))``); ``("", ())`` for English words ("time" would
    become "dime"), short words and words whose first letter does not mutate."""
    if len(word) < 4 or word in english:
        return "", ()
    for radical, forms in _MUTATIONS:
        if word.startswith(radical):
            return radical, forms
    if word[0] in _VOWELS:
        return "", ("h",)
    return "", ()


@dataclass(frozen=True)
class CuePattern:
    keywords: tuple[str, ...]
    pattern: re.Pattern[str] | None
    # Substrings of which at least one occurs (lower-cased) in any text the pattern matches; empty
    # means "no pre-check" (a pattern unpickled from before the pre-check existed).
    needles: tuple[str, ...] = ()

    def _may_match(self, lowered: str) -> bool:
        if not self.needles:
            return True
        return any(n in lowered for n in self.needles)

    def hits(self, text: str) -> int:
        """Number of distinct keywords present in ``text``."""
        if self.pattern is None:
            return 0
        lowered = text.lower()
        if not self._may_match(lowered):
            return 0
        return len({m.lastgroup for m in self.pattern.finditer(lowered)})

    def spans(self, text: str) -> list[tuple[int, int]]:
        if self.pattern is None:
            return []
        lowered = text.lower()
        if not self._may_match(lowered):
            return []
        return [(m.start(), m.end()) for m in self.pattern.finditer(lowered)]


def _is_plural(keyword: str) -> bool:
    """A plural cue word whose singular is still long enough to be a prefix cue ("relationships",
    "partners", "individuals"; not "process", "bureaucracy" or "cuts")."""
    return keyword.endswith("s") and not keyword.endswith(("ss", "us", "is")) and len(keyword) - 1 >= PREFIX_MIN_CHARS


def compile_cues(keywords: Sequence[str], english: frozenset[str] | None = None) -> CuePattern:
    """One pattern over ``keywords``; earlier keywords win where two match at the same place.

    A keyword whose first word is not an everyday English word (``english``, by default the bundled
    model's vocabulary, ``nlp.common_words``) also matches that word's Welsh mutations
    (``welsh_initials``): the codebook's Welsh cue words then find "y gyllideb", "o waith papur"."""
    english = common_english_words() if english is None else english
    parts: list[str] = []
    first_chars: set[str] = set()
    needles: list[str] = []
    for i, keyword in enumerate(dict.fromkeys(k.lower().strip() for k in keywords if k.strip())):
        # "non-recurrent", "non recurrent" and "nonrecurrent" are one cue.
        pieces = _SEPARATOR.split(keyword)
        radical, mutated = welsh_initials(pieces[0], english)
        escaped = r"[\s-]*".join(re.escape(part) for part in pieces)
        if mutated:
            initials = (radical, *mutated)
            escaped = "(?:" + "|".join(re.escape(m) for m in initials) + ")" + escaped[len(re.escape(radical)):]
            first_chars.update(m[:1] or pieces[0][len(radical)] for m in initials)
            pieces[0] = pieces[0][len(radical):]  # for the needle below: what every form holds
        if len(keyword) >= PREFIX_MIN_CHARS and " " not in keyword:
            if _is_plural(keyword):
                # "relationships" also finds "relationship", and nothing else it did not find before.
                body = escaped[:-1] + r"(?:s\w*)?"
                pieces[-1] = pieces[-1][:-1]  # for the needle below: the singular is in every match
            else:
                body = escaped + r"\w*"
        else:
            body = escaped + r"s?"
        # The boundary after the keyword stays inside each alternative: if it fails, the next keyword
        # is tried at the same place, exactly as in a plain alternation.
        parts.append(f"(?P<k{i}>{body})(?!\\w)")
        first_chars.add(pieces[0][:1])
        needles.append(max(pieces, key=len))  # every piece occurs literally in a match; the longest is rarest
    if not parts:
        return CuePattern(tuple(keywords), None)
    # A keyword starting with a separator can start with any of several characters: no look-ahead then.
    lead = "" if "" in first_chars else "(?=[" + "".join(re.escape(c) for c in sorted(first_chars)) + "])"
    pattern = re.compile(r"(?<!\w)" + lead + "(?:" + "|".join(parts) + ")")
    return CuePattern(tuple(keywords), pattern, tuple(dict.fromkeys(needles)))
