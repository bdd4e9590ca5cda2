"""Sentences as coding units, with character offsets into the text they came from.

A rule-based spaCy sentencizer rather than the statistical parser: answers are short, often bullet
lists without full stops, and the suggester needs segmentation in well under a millisecond per answer
(the parser costs tens). Line breaks always end a unit, because people write one point per line, and
leading bullet marks ("-", "•", "1.") are not part of the sentence a reviewer would quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import spacy
from spacy.language import Language

_BULLET = re.compile(r"^\s*(?:[-–—•*·▪●o]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
_LINE = re.compile(r"[^\n]+")


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    text: str  # == source[start:end]


def make_sentencizer() -> Language:
    """A tokenizer-plus-sentencizer pipeline; cheap to build, so callers own theirs (no global)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def segment(text: str, nlp: Language) -> list[Segment]:
    """Split ``text`` into trimmed sentences; every segment's text is exactly ``text[start:end]``."""
    segments: list[Segment] = []
    for line in _LINE.finditer(text):
        line_start = line.start()
        body = line.group()
        bullet = _BULLET.match(body)
        offset = bullet.end() if bullet else 0
        if not body[offset:].strip():
            continue
        doc = nlp(body[offset:])
        for sent in doc.sents:
            raw = sent.text
            stripped = raw.strip()
            if not stripped:
                continue
            lead = len(raw) - len(raw.lstrip())
            start = line_start + offset + sent.start_char + lead
            end = start + len(stripped)
            segments.append(Segment(start, end, text[start:end]))
    return _merge_fragments(segments, text)


def _merge_fragments(segments: list[Segment], text: str, min_chars: int = 12) -> list[Segment]:
    """Glue a very short fragment ("Yes.", "e.g.") onto its neighbour on the same line: alone it is
    not evidence of anything, and a quote of it would mislead."""
    out: list[Segment] = []
    for seg in segments:
        if out and len(seg.text) < min_chars and "\n" not in text[out[-1].end : seg.start]:
            prev = out.pop()
            out.append(Segment(prev.start, seg.end, text[prev.start : seg.end]))
        else:
            out.append(seg)
    if len(out) > 1 and len(out[0].text) < min_chars and "\n" not in text[out[0].end : out[1].start]:
        first, second = out[0], out[1]
        out[:2] = [Segment(first.start, second.end, text[first.start : second.end])]
    return out
