"""The coded responses as files a reviewer opens: CSV for a spreadsheet, JSON lines for tools.

Only de-identified text leaves the database here.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from store.coding import CodedAnswer

CSV_COLUMNS = ("answer_id", "cluster", "health_board", "question", "text", "themes", "evidence", "outcomes", "headings", "model")


def write_coded_responses(answers: Sequence[CodedAnswer], boards: Mapping[str, str], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "coded_responses.csv"
    jsonl_path = out_dir / "coded_responses.jsonl"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for a in answers:
            themes = a.payload.get("themes", [])
            writer.writerow([
                a.answer_id,
                a.cluster_name,
                boards.get(a.health_board_id, a.health_board_id),
                a.question_id,
                a.deidentified_text,
                "; ".join(f"{t['id']} ({t['score']:.2f})" for t in themes) or "(fits no theme)",  # type: ignore[index]
                " | ".join(f"{t['id']}: {t['evidence']}" for t in themes),  # type: ignore[index]
                "; ".join(f"{o['id']} ({o['score']:.2f})" for o in a.payload.get("outcomes", [])),  # type: ignore[index,union-attr]
                "; ".join(f"{h['label']} ({h['score']:.2f})" for h in a.payload.get("headings", [])),  # type: ignore[index,union-attr]
                a.payload.get("model", ""),
            ])
    with jsonl_path.open("w", encoding="utf-8") as handle:
        for a in answers:
            record = {"answer_id": a.answer_id, "cluster": a.cluster_name, "health_board": a.health_board_id,
                      "question": a.question_id, **a.payload}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return csv_path, jsonl_path
