"""What each sentence of peer-review notes is for: good practice, a challenge, an agreed action, or
context. The outcome letter files sentences under those headings.

A transparent cue model rather than a trained classifier: there are a handful of real notes to learn
from, the chair must be able to see *why* a sentence was filed as an action (``cues``), and a wrong
rule is fixed by editing a list here, not by retraining. Notes write actions tersely and
imperatively ("Review the ...", "Team to consider ...", "PTHB will ..."), so the strongest evidence
of an action is how the sentence *starts*; challenges and good practice are carried by vocabulary
anywhere in the sentence.

Scoring: a cue at the start of a sentence that makes it an instruction (imperative verb, "X to
<verb>", "Action:") counts ``STRONG``; an action-like phrase elsewhere ("need to", "important to
consider", "should") counts ``WEAK``; each challenge or good-practice cue counts 1. The highest total
wins; ties go to action (a missed action is the costlier error: it drops out of the letter, whereas
a wrongly listed one is deleted by the chair at a glance). No cue at all -> ``context``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.language import Language

from nlp.action_extraction import extract_action
from nlp.segmentation import segment

__all__ = ["ROLES", "ClassifiedSentence", "RoleGuess", "classify_notes", "classify_sentence"]

ROLES = ("good_practice", "challenge", "action", "context")
STRONG = 2.0
WEAK = 1.0

_VERBS = (
    r"consider|consideration\s+of|review|develop|development\s+of|further\s+development\s+of|engage|explore|"
    r"look\s+(?:to|at|into|carefully)|work\s+(?:with|through|on|together)|continue|begin|raise|ensure|agree|"
    r"share|establish|create|demonstrate|identify|discuss|arrange|invite|set\s+up|update|produce|write\s+up|"
    r"prepare|circulate|provide|seek|escalate|link|liaise|contact|confirm|map|scope|pilot|test|promote|"
    r"support|strengthen|collate|build|plan|rapid\s+deployment\s+of|deploy|introduce|agree|follow\s+up"
)
_TO_VERBS = (
    r"consider|work|discuss|ensure|review|develop|engage|explore|share|lead|provide|look|continue|begin|"
    r"raise|agree|arrange|write|circulate|produce|identify|meet|report|contact|invite|set|update|link|take|"
    r"follow|liaise|confirm|establish|create|draft|be|present|feed|bring|scope|map|collate|check|write|"
    r"offer|send|support|plan|hold|organise|organize|invest|fund|recruit|train|pilot|test|evaluate|monitor"
)
_STRONG_ACTION: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("imperative", re.compile(rf"^(?:please\s+)?(?:{_VERBS})\b", re.IGNORECASE)),
    ("labelled action", re.compile(r"^(?:agreed\s+)?(?:action|agreed|next\s+steps?)\s*(?:point)?\s*[:\-–]", re.IGNORECASE)),
    # "Team to consider", "KG and VW to discuss", "C&V to be linked": a short subject, then to + verb.
    # The subject is at most six words with no finite verb in it, so "Cluster development is a
    # process to bring ..." and "There is a need to consider ..." are not mistaken for assignments.
    ("owner to verb", re.compile(
        rf"^(?!(?:this|there|it|in|however|although|whilst|while)\b)(?:(?!(?:is|are|was|were|has|have|been|need)\b)"
        rf"[\w&@/.'’-]+\s+){{1,6}}to\s+(?:{_TO_VERBS})\b", re.IGNORECASE)),
)
_WEAK_ACTION: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("owner will/should", re.compile(r"\b(?:will|should|must|shall|agreed\s+to|is\s+to|are\s+to)\s+(?!be\s+(?:a|an|the)\b)", re.IGNORECASE)),
    ("need to", re.compile(r"\b(?:need(?:s|ed)?\s+to|needed|further\s+work|requirement\s+for)\b", re.IGNORECASE)),
    ("important/helpful to", re.compile(r"\b(?:important|helpful|useful|essential)\s+(?:to|that|for)\b", re.IGNORECASE)),
    ("can be done", re.compile(r"\bcan\s+(?:be\s+)?(?:shared|inform|used|developed|taken)\b", re.IGNORECASE)),
    ("heading - gerund", re.compile(r"^[A-Z][^.]{0,60}?(?:\s[–-]|[–-]\s)\s*(?:to\s+\w+|\w+ing)\b")),
    # Terse note headlines ("Further development of the Academy", "MSK pathway development ...");
    # "The development of X is ..." is a statement, so an article or a following verb rules it out.
    ("nominal action", re.compile(
        r"^(?:(?!(?:the|that)\b)[\w-]+\s+){0,3}(?:development|deployment|planning|provision|consideration)\b"
        r"(?!\s+(?:is|was|has|have|are)\b)", re.IGNORECASE)),
)
_CHALLENGE = re.compile(
    r"\b(?:concerns?|concerned|difficult\w*|barriers?|lack\s+of|constraints?|constrain\w*|frustrat\w*|"
    r"challeng\w*|pressures?|struggl\w*|limited|delays?|risks?|problems?|shortages?|unable|insufficient|"
    r"disrupt\w*|excluded|damaging|distraction)\b",
    re.IGNORECASE,
)
_GOOD_PRACTICE = re.compile(
    r"\b(?:good\s+practice|best\s+practice|successful\w*|success|has\s+developed|have\s+developed|"
    r"examples?|well\s+attended|working\s+well|works\s+well|excellent|welcomed|celebrated|"
    r"strengths?|innovative|demonstrated|achieved|improved)\b",
    re.IGNORECASE,
)
# A bullet glyph glued to its text ("·Review ...") is not caught by the segmenter's bullet rule,
# which wants a space after the glyph.
_GLUED_BULLET = re.compile(r"^[·•▪●‣*-]\s*")


@dataclass(frozen=True)
class RoleGuess:
    """A role with the evidence for it. ``confidence`` is in [0.5, 1): 0.5 means no cue at all."""

    role: str
    confidence: float
    cues: tuple[str, ...]


@dataclass(frozen=True)
class ClassifiedSentence:
    """One sentence of a note; ``text == note[start:end]``."""

    start: int
    end: int
    text: str
    role: str
    confidence: float
    cues: tuple[str, ...]


def _action_score(text: str) -> tuple[float, list[str]]:
    cues = [name for name, pattern in _STRONG_ACTION if pattern.search(text)]
    if "owner to verb" in cues and text[:4].lower() == "the " and extract_action(text).owner is None:
        # "The cluster lead to consider" assigns work; "The requirement for work to be" does not.
        cues.remove("owner to verb")
    score = STRONG * min(len(cues), 1)
    weak = [name for name, pattern in _WEAK_ACTION if pattern.search(text)]
    if "owner will/should" in weak and extract_action(text).owner is None:
        # "This will prevent duplication" is a prediction; "The HB will review" is a commitment.
        weak.remove("owner will/should")
    score += WEAK * min(len(weak), 1)
    return score, cues + weak


def classify_sentence(text: str) -> RoleGuess:
    """The role of one sentence, with the names/words of the cues that decided it."""
    stripped = text.strip()
    action, action_cues = _action_score(stripped)
    challenge_cues = [m.group().lower() for m in _CHALLENGE.finditer(stripped)]
    good_cues = [m.group().lower() for m in _GOOD_PRACTICE.finditer(stripped)]
    scores = {
        "action": action,
        "challenge": float(len(set(challenge_cues))),
        "good_practice": float(len(set(good_cues))),
    }
    cues = {"action": action_cues, "challenge": challenge_cues, "good_practice": good_cues}
    # Ties go to action (see module docstring), then challenge (a missed challenge hides a problem).
    role = max(("action", "challenge", "good_practice"), key=lambda r: (scores[r], r == "action", r == "challenge"))
    best = scores[role]
    if best == 0:
        return RoleGuess("context", 0.5, ())
    runner_up = max(v for r, v in scores.items() if r != role)
    # Margin over the runner-up, squashed into [0.5, 1): more and less contested evidence.
    confidence = round(0.5 + 0.5 * (best - runner_up + 1) / (best - runner_up + 2), 3)
    return RoleGuess(role, confidence, tuple(dict.fromkeys(cues[role])))


def classify_notes(text: str, nlp: Language) -> list[ClassifiedSentence]:
    """Every sentence of ``text`` (bullet lines are sentences of their own) with its role.

    Offsets are character offsets into ``text``; ``text[s.start:s.end] == s.text`` always.
    """
    out: list[ClassifiedSentence] = []
    for seg in segment(text, nlp):
        start = seg.start + len(_GLUED_BULLET.match(seg.text).group()) if _GLUED_BULLET.match(seg.text) else seg.start
        if start >= seg.end:
            continue
        sentence = text[start : seg.end]
        guess = classify_sentence(sentence)
        out.append(ClassifiedSentence(start, seg.end, sentence, guess.role, guess.confidence, guess.cues))
    return out
