"""`clwstwr suggest` as DESIGN.md fixes it: JSON lines in, one JSON line out per input line."""

from __future__ import annotations

import io
import json

import pytest

from clwstwr.suggest_cli import suggest_lines


@pytest.mark.slow
def test_suggest_lines_answers_every_line_in_order_and_flags_bad_ones(suggestion_service) -> None:
    lines = [
        json.dumps({"text": "Everything is non-recurrent funding.", "kind": "barrier"}),
        "this is not json",
        json.dumps({"text": "Our cluster lead is brilliant.", "kind": "enabler"}),
        json.dumps({"text": "x", "kind": "bogus"}),
        json.dumps({"kind": "barrier"}),
        json.dumps({"text": "N/A"}),
    ]
    out = io.StringIO()
    failures = suggest_lines(suggestion_service, io.StringIO("\n".join(lines) + "\n"), out)
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(results) == 6 and failures == 3
    assert results[0]["themes"][0]["id"] == "funding"
    assert "line 2" in results[1]["error"]["message"]
    assert results[2]["themes"][0]["id"] == "leadership"
    assert results[3]["error"]["code"] == "CW400"
    assert "'text' must be a string" in results[4]["error"]["message"]
    assert results[5]["fits_none"] is True
