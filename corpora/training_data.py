"""The labelled answers the bundled theme suggester is fitted on.

Two sources, both written for this project (no real returns): the sample round's answers with the
themes their authors coded, and ``training/*.yaml``, answers written in many voices on purpose
(contrasts, negations, Welsh, one-liners) so the suggester learns meaning rather than one author's
phrasing. The held-out evaluation set lives in ``evaluation/data`` and is never loaded here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from corpora.codebook import Codebook
from corpora.errors import CodebookError
from corpora.sample_round import load_sample_answers

TRAINING_DIR = Path(__file__).resolve().parent / "training"


@dataclass(frozen=True)
class LabelledText:
    text: str
    question_id: str
    themes: tuple[str, ...]
    source: str  # answers sharing a source (one cluster, one written answer) are kept in one fold


def _check(codebook: Codebook, item: LabelledText, where: str) -> None:
    question = codebook.question(item.question_id)
    valid = {t.id for t in question.themes}
    unknown = [t for t in item.themes if t not in valid]
    if unknown:
        raise CodebookError(f"{where}: themes {unknown} are not themes of question '{question.id}'")


def bundled_training_answers(codebook: Codebook) -> list[LabelledText]:
    out: list[LabelledText] = []
    for answer in load_sample_answers():
        item = LabelledText(str(answer["text"] or ""), str(answer["question"]), tuple(answer["themes"]),
                            f"sample:{answer['cluster']}")
        _check(codebook, item, f"sample answer of cluster {answer['cluster']}")
        out.append(item)
    for path in sorted(TRAINING_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in doc.get("answers", []):
            item = LabelledText(str(entry["text"] or ""), str(entry["question"]), tuple(entry["themes"] or ()),
                                f"{path.stem}:{entry['id']}")
            _check(codebook, item, f"{path.name} {entry['id']}")
            out.append(item)
    return out
