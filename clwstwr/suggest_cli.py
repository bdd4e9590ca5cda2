"""JSON lines in, JSON lines out: the streaming side of ``clwstwr suggest``.

Lines are answered in batches (one embedding call per batch is most of the speed) but written in input
order, one output line per input line, so a caller can zip inputs with outputs. A bad line does not
stop the stream: it gets an error object naming the line and what was wrong.
"""

from __future__ import annotations

import json
from typing import TextIO

from corpora.errors import ClwstwrError
from nlp.suggestions import Suggests

BATCH = 64


def _parse(line: str, number: int, default_kind: str | None) -> tuple[str, str | None]:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(item, dict):
        raise ValueError(f"line {number}: expected an object like {{\"text\": ..., \"kind\": ...}}")
    text = item.get("text")
    if not isinstance(text, str):
        raise ValueError(f"line {number}: field 'text' must be a string")
    kind = item.get("kind", default_kind)
    if kind is not None and not isinstance(kind, str):
        raise ValueError(f"line {number}: field 'kind' must be a string or absent")
    return text, kind


def suggest_lines(service: Suggests, source: TextIO, sink: TextIO, *, default_kind: str | None = None) -> int:
    """Answer every line of ``source``; returns the number of lines that got an error object."""
    failures = 0
    pending: list[tuple[int, str, str | None]] = []
    results: dict[int, dict[str, object]] = {}
    order: list[int] = []

    def flush() -> None:
        if not pending:
            return
        try:
            answers = service.suggest_many([p[1] for p in pending], [p[2] for p in pending])
            for (number, _t, _k), answer in zip(pending, answers):
                results[number] = answer.to_json()
        except ClwstwrError:
            # One bad kind in the batch: answer the lines one by one so only that line fails.
            for number, text, kind in pending:
                try:
                    results[number] = service.suggest(text, kind).to_json()
                except ClwstwrError as exc:
                    results[number] = {"error": {"code": exc.code, "message": f"line {number}: {exc}"}}
        pending.clear()

    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        order.append(number)
        try:
            text, kind = _parse(line, number, default_kind)
        except ValueError as exc:
            results[number] = {"error": {"code": "CW430", "message": str(exc)}}
            continue
        pending.append((number, text, kind))
        if len(pending) >= BATCH:
            flush()
    flush()
    for number in order:
        result = results[number]
        failures += int("error" in result)
        sink.write(json.dumps(result, ensure_ascii=False) + "\n")
    sink.flush()
    return failures
