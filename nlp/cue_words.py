"""Lexical cues: does a text use a theme's keywords? A signal that works where embeddings are weak
(Welsh answers, one-word answers such as "Funding.") and that a reviewer can read and correct in the
codebook without retraining anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Prefix matching for longer cue words catches inflections ("engage" -> "engagement", "fund" is too
# short to be safe: it would also match "fundamental"); short cue words match whole words (+ plural).
PREFIX_MIN_CHARS = 5


@dataclass(frozen=True)
class CuePattern:
    keywords: tuple[str, ...]
    pattern: re.Pattern[str] | None

    def hits(self, text: str) -> int:
        """Number of distinct keywords present in ``text``."""
        if self.pattern is None:
            return 0
        found = {m.lastgroup for m in self.pattern.finditer(text.lower())}
        return len(found)

    def spans(self, text: str) -> list[tuple[int, int]]:
        if self.pattern is None:
            return []
        return [(m.start(), m.end()) for m in self.pattern.finditer(text.lower())]


def compile_cues(keywords: Sequence[str]) -> CuePattern:
    parts: list[str] = []
    for i, keyword in enumerate(dict.fromkeys(k.lower().strip() for k in keywords if k.strip())):
        # "non-recurrent", "non recurrent" and "nonrecurrent" are one cue.
        escaped = r"[\s-]*".join(re.escape(part) for part in re.split(r"[\s-]+", keyword))
        if len(keyword) >= PREFIX_MIN_CHARS and " " not in keyword:
            body = escaped + r"\w*"
        else:
            body = escaped + r"s?"
        parts.append(f"(?P<k{i}>(?<![\\w]){body}(?![\\w]))")
    if not parts:
        return CuePattern(tuple(keywords), None)
    return CuePattern(tuple(keywords), re.compile("|".join(parts)))
