"""A self-reflection export as plain records, with every problem found, not just the first.

The importer is all-or-nothing by default, so it must report *every* bad row and column in one pass:
a person fixes the file once, not once per error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from corpora.codebook import Codebook, Outcome
from corpora.errors import ClwstwrError

from .headers import describe_role, match_headers, normalise
from .tables import RawRow, RawTable

REQUIRED_FIXED_ROLES = ("cluster", "health_board", "team_stage")

_DATE_FORMATS = (
    "%m/%d/%y %H:%M:%S",  # Microsoft Forms CSV, US locale
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
)


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with the file: where it is, what was there, what was expected."""

    row: int | None
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        place = ", ".join(where) or "file"
        got = "" if self.value is None else f": got {_shorten(self.value)!r}"
        return f"{place}{got}; expected {self.expected}"


def _shorten(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


class ImportValidationError(ClwstwrError):
    """The file has problems; nothing from it was stored."""

    code = "CW210"

    def __init__(self, source_name: str, problems: list[ImportProblem]) -> None:
        self.source_name = source_name
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source_name}: {len(problems)} problem(s); nothing was stored:\n{lines}")


@dataclass(frozen=True)
class SubmissionRecord:
    """One cluster's return, mapped onto the codebook. No respondent e-mail or name is carried."""

    row: int
    external_id: str | None
    started_at: datetime | None
    completed_at: datetime | None
    cluster_name: str
    health_board_id: str
    team_stage_id: str | None
    ratings: Mapping[str, str]  # outcome id -> level id; unanswered outcomes are absent
    answers: Mapping[str, str]  # question id -> text; empty answers are absent

    @property
    def cluster_key(self) -> str:
        return cluster_key(self.cluster_name)

    def content_hash(self) -> str:
        """What the cluster said (not when or from which row): equal hashes mean the same return."""
        body = {
            "cluster": self.cluster_key,
            "board": self.health_board_id,
            "stage": self.team_stage_id,
            "ratings": dict(sorted(self.ratings.items())),
            "answers": dict(sorted(self.answers.items())),
        }
        return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def cluster_key(name: str) -> str:
    return normalise(name)


@dataclass(frozen=True)
class ParsedRound:
    source_name: str
    file_format: str
    records: tuple[SubmissionRecord, ...]
    problems: tuple[ImportProblem, ...]
    ignored_columns: tuple[str, ...]
    bad_rows: frozenset[int] = field(default_factory=frozenset)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = _text(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise ValueError(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class _Lookups:
    """Normalised text -> codebook id tables, built once per import."""

    def __init__(self, codebook: Codebook) -> None:
        self.levels: dict[str, dict[str, str]] = {"pcmw": {}, "acd": {}}
        self.other_module_levels: dict[str, dict[str, str]] = {"pcmw": {}, "acd": {}}
        for level in codebook.maturity_levels:
            for module, statement in (("pcmw", level.statement_pcmw), ("acd", level.statement_acd)):
                self.levels[module][normalise(statement)] = level.id
                self.levels[module][normalise(level.label)] = level.id
                self.levels[module][normalise(level.id)] = level.id
        for level in codebook.maturity_levels:
            self.other_module_levels["pcmw"][normalise(level.statement_acd)] = level.id
            self.other_module_levels["acd"][normalise(level.statement_pcmw)] = level.id
        for module in ("pcmw", "acd"):
            for key in list(self.other_module_levels[module]):
                if key in self.levels[module]:
                    del self.other_module_levels[module][key]
        self.stages: dict[str, str] = {}
        for stage in codebook.team_stages:
            self.stages[normalise(stage.label)] = stage.id
            self.stages[normalise(stage.id)] = stage.id
        self.boards: dict[str, str] = {}
        for board in codebook.health_boards:
            for name in (board.id, board.name, board.short_name, board.welsh_name, *board.aliases):
                if name:
                    self.boards[normalise(name)] = board.id
        self.stage_labels = ", ".join(s.label for s in codebook.team_stages)
        self.board_labels = ", ".join(b.short_name for b in codebook.health_boards)

    def level(self, module: str, value: str) -> str | None:
        return self.levels[module].get(normalise(value))

    def stage(self, value: str) -> str | None:
        key = normalise(value)
        if key in self.stages:
            return self.stages[key]
        # "Norming - members openly express ideas..." : the stage name leads the option text.
        first = key.split(" ", 1)[0]
        return self.stages.get(first)

    def board(self, value: str) -> str | None:
        key = normalise(value)
        if key in self.boards:
            return self.boards[key]
        trimmed = key.replace(" university health board", "").replace(" teaching health board", "")
        trimmed = trimmed.replace(" health board", "").strip()
        return self.boards.get(trimmed)


def _expected_statements(codebook: Codebook, outcome: Outcome) -> str:
    attr = "statement_pcmw" if outcome.module == "pcmw" else "statement_acd"
    options = "; ".join(f"'{getattr(level, attr)}'" for level in codebook.maturity_levels)
    return f"one of the {outcome.module.upper()} maturity statements ({options}) or a level name, or empty"


def parse_round(table: RawTable, codebook: Codebook) -> ParsedRound:
    """Map every row of ``table`` onto the codebook, collecting all problems."""
    match = match_headers(table.headers, codebook)
    problems: list[ImportProblem] = [ImportProblem(None, None, None, c) for c in match.conflicts]
    required = [*REQUIRED_FIXED_ROLES]
    required += [f"outcome:{o.id}" for o in codebook.outcomes]
    required += [f"question:{q.id}" for q in codebook.questions]
    for role in required:
        if role not in match.roles:
            problems.append(ImportProblem(None, None, None, f"a column for {describe_role(role, codebook)} (none found)"))
    if problems:
        return ParsedRound(table.source_name, table.file_format, (), tuple(problems), match.ignored)

    lookups = _Lookups(codebook)
    records: list[SubmissionRecord] = []
    bad_rows: set[int] = set()
    seen_clusters: dict[str, int] = {}
    for row in table.rows:
        record, row_problems = _parse_row(row, match.roles, codebook, lookups)
        if record is not None:
            first = seen_clusters.get(record.cluster_key)
            if first is not None:
                row_problems.append(
                    ImportProblem(row.number, match.roles["cluster"], record.cluster_name,
                                  f"one submission per cluster (this cluster is already in row {first})")
                )
            else:
                seen_clusters[record.cluster_key] = row.number
        if row_problems:
            problems.extend(row_problems)
            bad_rows.add(row.number)
        elif record is not None:
            records.append(record)
    if not table.rows:
        problems.append(ImportProblem(None, None, None, "at least one submission row below the header"))
    return ParsedRound(table.source_name, table.file_format, tuple(records), tuple(problems), match.ignored, frozenset(bad_rows))


def _parse_row(
    row: RawRow, roles: dict[str, str], codebook: Codebook, lookups: _Lookups
) -> tuple[SubmissionRecord | None, list[ImportProblem]]:
    problems: list[ImportProblem] = []

    def cell(role: str) -> object:
        return row.cells.get(roles[role], "") if role in roles else ""

    cluster_name = _text(cell("cluster"))
    if not cluster_name:
        problems.append(ImportProblem(row.number, roles["cluster"], "", "the cluster's name (it is empty)"))
    board_text = _text(cell("health_board"))
    board_id = lookups.board(board_text) if board_text else None
    if board_id is None:
        problems.append(
            ImportProblem(row.number, roles["health_board"], board_text, f"a Welsh health board ({lookups.board_labels})")
        )
    stage_text = _text(cell("team_stage"))
    stage_id = lookups.stage(stage_text) if stage_text else None
    if stage_text and stage_id is None:
        problems.append(
            ImportProblem(row.number, roles["team_stage"], stage_text, f"a team development stage ({lookups.stage_labels}) or empty")
        )
    ratings: dict[str, str] = {}
    for outcome in codebook.outcomes:
        column = roles[f"outcome:{outcome.id}"]
        value = _text(row.cells.get(column, ""))
        if not value:
            continue
        level_id = lookups.level(outcome.module, value)
        if level_id is None:
            hint = ""
            if normalise(value) in lookups.other_module_levels[outcome.module]:
                other = "ACD" if outcome.module == "pcmw" else "PCMW"
                hint = f" (this is the {other} wording: are the columns shifted?)"
            problems.append(ImportProblem(row.number, column, value, _expected_statements(codebook, outcome) + hint))
            continue
        ratings[outcome.id] = level_id
    answers: dict[str, str] = {}
    for question in codebook.questions:
        text = _text(row.cells.get(roles[f"question:{question.id}"], ""))
        if text:
            answers[question.id] = text
    times: dict[str, datetime | None] = {}
    for role in ("started_at", "completed_at"):
        try:
            times[role] = _parse_datetime(cell(role))
        except ValueError as exc:
            problems.append(ImportProblem(row.number, roles[role], str(exc), "a date and time, e.g. 2024-05-31 14:05:00"))
            times[role] = None
    if problems:
        return None, problems
    external = _text(cell("external_id")) or None
    record = SubmissionRecord(
        row=row.number,
        external_id=external,
        started_at=times["started_at"],
        completed_at=times["completed_at"],
        cluster_name=cluster_name,
        health_board_id=board_id or "",
        team_stage_id=stage_id,
        ratings=ratings,
        answers=answers,
    )
    return record, problems
