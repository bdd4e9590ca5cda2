"""Does the note-role model find the agreed actions in real peer-review notes?

Reads the 2022/23 peer-review report (``<repo>/../shared/reference/000_*.txt``) at run time; its
sentences are not copied into the repository. Positives: every bullet under Appendix C's proposed
actions (sub-bullets after a bullet ending in ":" are merged into it; the "Appendix B" page-header
text glued onto some bullets is removed). Negatives: the sentences of the "Emerging themes"
discussion paragraphs 1-5 (headings dropped). Both are interleaved into one notes text and run
through ``classify_notes``; an item counts as predicted *action* when any of its sentences is
classified ``action`` (a bullet is one action even when written as several sentences).

    python -m evaluation.action_extraction [--out evaluation/results/action_extraction.json]
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

from evaluation.results_file import write_result
from nlp.note_roles import classify_notes
from nlp.segmentation import make_sentencizer, segment

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"
RECALL_TARGET = 0.9
PRECISION_TARGET = 0.8

_GLUED_HEADER = re.compile(r"\s*Appendix\s+B\s*$")
_THEME_HEADING = re.compile(r"^\s*(\d)\.\s+\S")


@dataclass(frozen=True)
class Item:
    text: str
    is_action: bool
    source: str


def appendix_c_actions(lines: list[str]) -> list[Item]:
    """Bullets ("·") between "Proposed Actions" and the end of the last board's list."""
    start = next(i for i, line in enumerate(lines) if line.strip() == "Proposed Actions")
    items: list[Item] = []
    board = ""
    sub_bullets = False
    for line in lines[start + 1 :]:
        body = line.strip()
        if not body:
            continue
        if not body.startswith("·"):
            if items and not line.startswith("\t"):
                break  # the figure text that follows the last board's list
            board = _GLUED_HEADER.sub("", body)
            continue
        text = _GLUED_HEADER.sub("", body.lstrip("·").strip())
        if items and re.search(r":\s*-?\s*$", items[-1].text):
            sub_bullets = True  # "... ensure that there is: -" introduces a list of sub-points
        elif re.search(r"[.!?]\s*$", text):
            sub_bullets = False  # sub-points are unpunctuated phrases; a full sentence starts anew
        if items and sub_bullets:
            prev = items.pop()
            items.append(Item(f"{prev.text} {text}", True, prev.source))
        else:
            items.append(Item(text, True, f"Appendix C / {board}"))
    return items


def discussion_sentences(lines: list[str]) -> list[Item]:
    """Sentences of the "Emerging themes" paragraphs 1-5 (stops at heading 6)."""
    start = next(i for i, line in enumerate(lines) if line.strip() == "Emerging themes")
    nlp = make_sentencizer()
    items: list[Item] = []
    section = 0
    for line in lines[start + 1 :]:
        heading = _THEME_HEADING.match(line)
        if heading:
            section = int(heading.group(1))
            if section > 5:
                break
            continue
        body = line.strip()
        # Page headers ("The Pilot Programme") and titles carry no full stop; paragraphs do.
        if section == 0 or not body or not re.search(r"[.!?]\s*$", body):
            continue
        items.extend(Item(s.text, False, f"Emerging themes {section}") for s in segment(body, nlp))
    return items


def interleave(actions: list[Item], others: list[Item]) -> list[Item]:
    """Deterministic mix, so actions are not one block at the end of the notes."""
    mixed: list[Item] = []
    for i in range(max(len(actions), len(others))):
        mixed.extend(x[i] for x in (others, actions) if i < len(x))
    return mixed


def evaluate(reference: Path) -> dict[str, object]:
    lines = reference.read_text(encoding="utf-8").splitlines()
    items = interleave(appendix_c_actions(lines), discussion_sentences(lines))
    notes, spans = "", []
    for item in items:
        spans.append((len(notes), len(notes) + len(item.text)))
        notes += item.text + "\n"
    classified = classify_notes(notes, make_sentencizer())
    predicted = [
        any(c.role == "action" and c.start < end and c.end > start for c in classified) for start, end in spans
    ]
    tp = sum(1 for it, p in zip(items, predicted) if it.is_action and p)
    fn = [it for it, p in zip(items, predicted) if it.is_action and not p]
    fp = [it for it, p in zip(items, predicted) if not it.is_action and p]
    positives = sum(1 for it in items if it.is_action)
    recall = tp / positives
    precision = tp / (tp + len(fp)) if tp + len(fp) else 0.0
    roles = {
        it.text[:80]: [(c.role, c.cues) for c in classified if c.start < e and c.end > s]
        for it, (s, e) in zip(items, spans) if it in fn or it in fp
    }
    return {
        "reference": reference.name,
        "unit": "Appendix C bullet (positive) / discussion sentence (negative); action if any sentence is",
        "actions": positives,
        "non_actions": len(items) - positives,
        "true_positives": tp,
        "false_negatives": len(fn),
        "false_positives": len(fp),
        "recall": round(recall, 4),
        "precision": round(precision, 4),
        "targets": {"recall": RECALL_TARGET, "precision": PRECISION_TARGET},
        "meets_targets": recall >= RECALL_TARGET and precision >= PRECISION_TARGET,
        # Only the opening words: enough to find the sentence in the report, without copying the
        # reference's prose into the repository.
        "missed_actions": [{"source": it.source, "opening": _opening(it.text), "roles": roles[it.text[:80]]} for it in fn],
        "false_actions": [{"source": it.source, "opening": _opening(it.text), "roles": roles[it.text[:80]]} for it in fp],
        "note": "cue lists were written looking at these same notes: optimistic for unseen notes",
    }


def _opening(text: str, words: int = 6) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "action_extraction.json")
    parser.add_argument("--reference", type=Path, default=None, help="defaults to ../shared/reference/000_*.txt")
    args = parser.parse_args()
    found = sorted(REFERENCE.glob("000_*.txt"))
    if args.reference is None and not found:
        raise SystemExit(f"no 000_*.txt in {REFERENCE}: pass --reference PATH to the peer-review report text")
    reference = args.reference or found[0]
    write_result(args.out, evaluate(reference))


if __name__ == "__main__":
    main()
