"""Importing self-reflection exports: nothing dropped, nothing double-counted, nothing mis-mapped,
and a bad file changes nothing that is already stored. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from clwstwr.context import AppContext
from clwstwr.importing import import_file
from clwstwr.ingest.self_reflection import ImportValidationError
from clwstwr.ingest.tables import UnreadableFileError
from corpora.sample_round import SAMPLE_CSV, SAMPLE_DIR, SAMPLE_XLSX
from store import rounds
from store.database import transaction

XLSX = SAMPLE_DIR / SAMPLE_XLSX
CSV = SAMPLE_DIR / SAMPLE_CSV


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _write_csv(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def _counts(ctx: AppContext) -> dict[str, int]:
    with transaction(ctx.sessions) as session:
        return rounds.count_rows(session)


def _load(ctx: AppContext, name: str = "r") -> rounds.RoundData:
    with transaction(ctx.sessions) as session:
        return rounds.load_round(session, name)


def test_importing_sample_stores_every_row_rating_and_answer(ctx: AppContext) -> None:
    headers, rows = _read_csv(CSV)
    result = import_file(ctx.sessions, ctx.codebook, XLSX, "r", actor="tester")
    assert result.stored == len(rows) == 46
    data = _load(ctx)
    stored_names = sorted(s.cluster_name for s in data.submissions)
    assert stored_names == sorted(r[headers.index("Cluster name")] for r in rows)
    # Every non-empty maturity cell became exactly one rating: 920 cells less the 5 left blank.
    first_outcome = headers.index("An Informed Public")
    filled = sum(1 for r in rows for cell in r[first_outcome : first_outcome + 20] if cell.strip())
    assert filled == 915
    assert sum(len(s.ratings) for s in data.submissions) == filled
    # Every non-empty free-text cell became one answer, text unchanged (Welsh included).
    last_six = range(len(headers) - 6, len(headers))
    texts = sorted(r[i].strip() for r in rows for i in last_six if r[i].strip())
    assert sorted(t for s in data.submissions for t in s.answers.values()) == texts
    assert any("ŵ" in t or "ŷ" in t or "â" in t for t in texts)


def test_importing_same_file_twice_stores_it_once(ctx: AppContext) -> None:
    import_file(ctx.sessions, ctx.codebook, XLSX, "r", actor="tester")
    before = _counts(ctx)
    again = import_file(ctx.sessions, ctx.codebook, XLSX, "r", actor="tester")
    assert again.already_imported and again.stored == 0
    assert _counts(ctx) == before


def test_importing_same_returns_in_another_format_does_not_double_count(ctx: AppContext) -> None:
    import_file(ctx.sessions, ctx.codebook, XLSX, "r", actor="tester")
    ratings_before = _counts(ctx)["maturity_ratings"]
    result = import_file(ctx.sessions, ctx.codebook, CSV, "r", actor="tester")
    assert (result.stored, result.already_stored) == (0, 46)
    assert _counts(ctx)["maturity_ratings"] == ratings_before
    assert len(_load(ctx).submissions) == 46


def test_importing_bad_rows_reports_every_one_and_stores_nothing(ctx: AppContext, tmp_path: Path) -> None:
    import_file(ctx.sessions, ctx.codebook, XLSX, "existing", actor="tester")
    before = _counts(ctx)
    headers, rows = _read_csv(CSV)
    rows[4][headers.index("Local Services")] = "Quite good really"
    rows[8][headers.index("Health board")] = "Narnia Health Board"
    rows[12][headers.index("Which stage of team development best describes your cluster?")] = "Adjourning"
    bad = _write_csv(tmp_path / "bad.csv", headers, rows)
    with pytest.raises(ImportValidationError) as caught:
        import_file(ctx.sessions, ctx.codebook, bad, "new", actor="tester")
    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems] == [
        (6, "Local Services"),
        (10, "Health board"),
        (14, "Which stage of team development best describes your cluster?"),
    ]
    assert "Quite good really" in str(caught.value) and "Narnia Health Board" in str(caught.value)
    assert "Cluster members have a common understanding of this area of work." in problems[0].expected
    assert _counts(ctx) == before
    with transaction(ctx.sessions) as session:
        assert rounds.list_round_names(session) == ["existing"]


def test_importing_with_skip_bad_rows_stores_only_good_rows(ctx: AppContext, tmp_path: Path) -> None:
    headers, rows = _read_csv(CSV)
    bad_cluster = rows[4][headers.index("Cluster name")]
    rows[4][headers.index("Local Services")] = "Quite good really"
    bad = _write_csv(tmp_path / "bad.csv", headers, rows)
    result = import_file(ctx.sessions, ctx.codebook, bad, "r", actor="tester", skip_bad_rows=True)
    assert result.stored == 45
    assert [p.row for p in result.skipped_rows] == [6]
    assert bad_cluster not in {s.cluster_name for s in _load(ctx).submissions}


def test_importing_maps_each_statement_to_its_level(ctx: AppContext, tmp_path: Path) -> None:
    headers, rows = _read_csv(CSV)
    pcmw_col, acd_col = headers.index("An Informed Public"), headers.index("Improved equity of cluster care service provision based upon local need")
    levels = sorted(ctx.codebook.maturity_levels, key=lambda lv: lv.rank)
    for i, level in enumerate(levels):
        rows[i][pcmw_col] = level.statement_pcmw
        rows[i][acd_col] = level.statement_acd
    path = _write_csv(tmp_path / "levels.csv", headers, rows)
    import_file(ctx.sessions, ctx.codebook, path, "r", actor="tester")
    by_name = {s.cluster_name: s for s in _load(ctx).submissions}
    for i, level in enumerate(levels):
        stored = by_name[rows[i][headers.index("Cluster name")]]
        assert stored.ratings["pcmw-1"] == level.id
        assert stored.ratings["acd-4"] == level.id


def test_importing_acd_wording_in_a_pcmw_column_is_refused_with_a_hint(ctx: AppContext, tmp_path: Path) -> None:
    headers, rows = _read_csv(CSV)
    rows[0][headers.index("Seamless working")] = ctx.codebook.level("developing").statement_acd
    path = _write_csv(tmp_path / "shifted.csv", headers, rows)
    with pytest.raises(ImportValidationError) as caught:
        import_file(ctx.sessions, ctx.codebook, path, "r", actor="tester")
    assert "ACD wording" in str(caught.value)


def test_importing_the_same_cluster_twice_in_one_file_is_refused(ctx: AppContext, tmp_path: Path) -> None:
    headers, rows = _read_csv(CSV)
    rows.append(list(rows[3]))
    path = _write_csv(tmp_path / "dup.csv", headers, rows)
    with pytest.raises(ImportValidationError) as caught:
        import_file(ctx.sessions, ctx.codebook, path, "r", actor="tester")
    assert caught.value.problems[0].row == 48
    assert "already in row 5" in caught.value.problems[0].expected
    assert _counts(ctx)["submissions"] == 0


def test_importing_a_changed_return_for_a_stored_cluster_is_refused(ctx: AppContext, tmp_path: Path) -> None:
    import_file(ctx.sessions, ctx.codebook, CSV, "r", actor="tester")
    before = _counts(ctx)
    headers, rows = _read_csv(CSV)
    column = headers.index("Local Services")
    current = rows[0][column]
    rows[0][column] = next(
        lv.statement_pcmw for lv in ctx.codebook.maturity_levels if lv.statement_pcmw != current
    )
    path = _write_csv(tmp_path / "changed.csv", headers, rows)
    with pytest.raises(ImportValidationError) as caught:
        import_file(ctx.sessions, ctx.codebook, path, "r", actor="tester")
    assert "different answers" in str(caught.value)
    assert _counts(ctx) == before


def test_importing_json_records_matches_the_spreadsheet(ctx: AppContext, tmp_path: Path) -> None:
    headers, rows = _read_csv(CSV)
    records = [dict(zip(headers, r)) for r in rows]
    path = tmp_path / "round.json"
    path.write_text(json.dumps({"submissions": records}, ensure_ascii=False), encoding="utf-8")
    import_file(ctx.sessions, ctx.codebook, path, "from-json", actor="tester")
    import_file(ctx.sessions, ctx.codebook, XLSX, "from-xlsx", actor="tester")
    as_tuple = lambda d: sorted((s.cluster_name, s.health_board_id, s.team_stage_id, tuple(sorted(s.ratings.items())),
                                 tuple(sorted(s.answers.items()))) for s in d.submissions)
    assert as_tuple(_load(ctx, "from-json")) == as_tuple(_load(ctx, "from-xlsx"))


def test_importing_tolerates_renamed_and_renumbered_headers(sqlite_ctx: AppContext, tmp_path: Path) -> None:
    headers, rows = _read_csv(CSV)
    renamed = list(headers)
    renamed[headers.index("An Informed Public")] = "1. AN INFORMED PUBLIC"
    renamed[headers.index("Local Services")] = "Local services2"
    renamed[headers.index("Cluster name")] = "  Cluster   Name: "
    renamed[headers.index("Quality out-of-hours care")] = "PCMW outcome 7"
    path = _write_csv(tmp_path / "renamed.csv", renamed, rows)
    result = import_file(sqlite_ctx.sessions, sqlite_ctx.codebook, path, "r", actor="tester")
    assert result.stored == 46
    assert sum(1 for s in _load(sqlite_ctx).submissions if "pcmw-7" in s.ratings) == 45


def test_importing_a_file_missing_an_outcome_column_names_the_outcome(sqlite_ctx: AppContext, tmp_path: Path) -> None:
    headers, rows = _read_csv(CSV)
    i = headers.index("Directly accessed services")
    path = _write_csv(tmp_path / "missing.csv", headers[:i] + headers[i + 1 :], [r[:i] + r[i + 1 :] for r in rows])
    with pytest.raises(ImportValidationError) as caught:
        import_file(sqlite_ctx.sessions, sqlite_ctx.codebook, path, "r", actor="tester")
    assert "PCMW 8" in str(caught.value) and "none found" in str(caught.value)


def test_importing_an_unreadable_file_says_what_is_wrong(sqlite_ctx: AppContext, tmp_path: Path) -> None:
    fake = tmp_path / "returns.xlsx"
    fake.write_text("this is not a workbook")
    with pytest.raises(UnreadableFileError, match="not a readable .xlsx"):
        import_file(sqlite_ctx.sessions, sqlite_ctx.codebook, fake, "r", actor="tester")
    other = tmp_path / "returns.pdf"
    other.write_text("x")
    with pytest.raises(UnreadableFileError, match="unsupported file type"):
        import_file(sqlite_ctx.sessions, sqlite_ctx.codebook, other, "r", actor="tester")


def test_importing_xlsx_reports_spreadsheet_row_numbers(sqlite_ctx: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "copy.xlsx"
    shutil.copy(XLSX, path)
    book = openpyxl.load_workbook(path)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    sheet.cell(row=20, column=header.index("Empowered communities") + 1, value="Mature-ish")
    book.save(path)
    with pytest.raises(ImportValidationError) as caught:
        import_file(sqlite_ctx.sessions, sqlite_ctx.codebook, path, "r", actor="tester")
    assert [(p.row, p.column, p.value) for p in caught.value.problems] == [(20, "Empowered communities", "Mature-ish")]
