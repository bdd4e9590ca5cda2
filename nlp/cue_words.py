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

# Prefix matching for longer cue words catches inflections ("engage" -> "engagement", "fund" is too
# short to be safe: it would also match "fundamental"); short cue words match whole words (+ plural).
# A longer cue word given in the plural also finds its singular ("relationships" -> "relationship").
PREFIX_MIN_CHARS = 5

_SEPARATOR = re.compile(r"[\s-]+")


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


def compile_cues(keywords: Sequence[str]) -> CuePattern:
    """One pattern over ``keywords``; earlier keywords win where two match at the same place."""
    parts: list[str] = []
    first_chars: set[str] = set()
    needles: list[str] = []
    for i, keyword in enumerate(dict.fromkeys(k.lower().strip() for k in keywords if k.strip())):
        # "non-recurrent", "non recurrent" and "nonrecurrent" are one cue.
        pieces = _SEPARATOR.split(keyword)
        escaped = r"[\s-]*".join(re.escape(part) for part in pieces)
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
