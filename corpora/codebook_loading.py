"""Reading and validating the codebook's YAML files: every check, with the file and entry named.

Split from ``corpora.codebook`` (which holds the values and ``load_codebook``) so that each module holds
one concept: what the codebook *is*, and how a folder of YAML becomes one or fails loudly.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, NoReturn

import yaml

from corpora.codebook import (
    ACD_COUNT,
    BOARD_COUNT,
    FILES,
    HEADING_SOURCES,
    LEVEL_IDS,
    MIN_EXAMPLES,
    PCMW_COUNT,
    QUESTION_KINDS,
    REQUIRED_THEMES,
    STAGE_IDS,
    Codebook,
    HealthBoard,
    MaturityCriteria,
    MaturityLevel,
    Outcome,
    Question,
    RecommendationHeading,
    RegionalPartnershipBoard,
    TeamStage,
    Theme,
)
from corpora.errors import CodebookError

_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_BOARD_ID = re.compile(r"^[a-z]{2,8}$")
_OUTCOME_ID = {"pcmw": re.compile(r"^pcmw-([1-9][0-9]*)$"), "acd": re.compile(r"^acd-([1-9][0-9]*)$")}


def load_directory(directory: Path) -> Codebook:
    raw: dict[str, bytes] = {}
    for name in FILES:
        path = directory / name
        try:
            raw[name] = path.read_bytes()
        except FileNotFoundError:
            raise CodebookError(f"{name}: file not found in {directory}") from None
        except OSError as exc:
            raise CodebookError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    docs = {name: _parse_yaml(name, data) for name, data in raw.items()}

    declared, outcomes = _outcomes(docs["outcomes.yaml"])
    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode() + b"\0" + raw[name] + b"\0")
    return Codebook(
        version=f"{declared}+{digest.hexdigest()[:8]}",
        outcomes=outcomes,
        maturity_levels=_levels(docs["maturity_levels.yaml"]),
        team_stages=_stages(docs["team_stages.yaml"]),
        health_boards=_boards(docs["health_boards.yaml"]),
        headings=_headings(docs["recommendation_headings.yaml"]),
        questions=_questions(docs["questions.yaml"]),
    )


def _parse_yaml(name: str, data: bytes) -> _Entry:
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CodebookError(f"{name}: not valid YAML{where}: {problem}") from None
    if not isinstance(doc, dict):
        raise CodebookError(f"{name}: expected a mapping at the top level, found {_type_name(doc)}")
    return _Entry(name, "", doc)


def _type_name(value: object) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


class _Entry:
    """One mapping in a YAML file, with where it is, so every complaint names file and entry."""

    def __init__(self, file: str, where: str, data: dict[str, Any]) -> None:
        self.file = file
        self.where = where
        self.data = data

    def fail(self, problem: str) -> NoReturn:
        prefix = f"{self.file}: {self.where}: " if self.where else f"{self.file}: "
        raise CodebookError(prefix + problem)

    def only(self, *allowed: str) -> None:
        """Reject keys we do not know: a misspelt field would otherwise be silently ignored."""
        for key in self.data:
            if key not in allowed:
                self.fail(f"unknown field {key!r} (expected: {', '.join(allowed)})")

    def _value(self, key: str) -> Any:
        if key not in self.data or self.data[key] is None:
            self.fail(f"missing field {key!r}")
        return self.data[key]

    def text(self, key: str) -> str:
        value = self._value(key)
        if not isinstance(value, str):
            self.fail(f"field {key!r} must be a string, found {_type_name(value)}")
        if not value.strip():
            self.fail(f"field {key!r} is empty")
        return value.strip()

    def integer(self, key: str) -> int:
        value = self._value(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"field {key!r} must be a whole number, found {_type_name(value)}")
        return value

    def identifier(self, key: str, pattern: re.Pattern[str], shape: str) -> str:
        value = self.text(key)
        if not pattern.match(value):
            self.fail(f"field {key!r} is {value!r}, expected {shape}")
        return value

    def texts(self, key: str, *, minimum: int = 1, lowercase: bool = False) -> tuple[str, ...]:
        """A list of non-empty strings, without repeats (a repeat is always a copy-paste slip)."""
        value = self._value(key)
        if not isinstance(value, list):
            self.fail(f"field {key!r} must be a list, found {_type_name(value)}")
        out: list[str] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{key}[{i}] must be a non-empty string, found {_type_name(item)}")
            item = item.strip()
            if lowercase and item != item.lower():
                self.fail(f"{key}[{i}] {item!r} must be lowercase")
            folded = _fold(item)
            if folded in seen:
                self.fail(f"{key}[{i}] {item!r} is listed twice")
            seen.add(folded)
            out.append(item)
        if len(out) < minimum:
            self.fail(f"field {key!r} needs at least {minimum} item(s), found {len(out)}")
        return tuple(out)

    def mapping(self, key: str) -> _Entry:
        value = self._value(key)
        if not isinstance(value, dict):
            self.fail(f"field {key!r} must be a mapping, found {_type_name(value)}")
        where = f"{self.where}.{key}" if self.where else key
        return _Entry(self.file, where, value)

    def items(self, key: str, *, count: int | None = None, noun: str = "entries") -> list[_Entry]:
        """The list under ``key`` as entries named ``key[i] (id '...')``, checking the count if given."""
        value = self._value(key)
        if not isinstance(value, list):
            self.fail(f"field {key!r} must be a list, found {_type_name(value)}")
        base = f"{self.where}.{key}" if self.where else key
        if count is not None and len(value) != count:
            _Entry(self.file, base, {}).fail(f"expected exactly {count} {noun}, found {len(value)}")
        out: list[_Entry] = []
        for i, item in enumerate(value):
            where = f"{base}[{i}]"
            if not isinstance(item, dict):
                _Entry(self.file, where, {}).fail(f"expected a mapping, found {_type_name(item)}")
            ident = item.get("id")
            if isinstance(ident, str):
                where += f" (id {ident!r})"
            out.append(_Entry(self.file, where, item))
        return out


def _fold(text: str) -> str:
    """Comparison form: case and spacing differences do not make two strings different."""
    return " ".join(text.casefold().split())


class _Unique:
    """Remembers ids (or names) already seen in one namespace, so a repeat names both places."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.seen: dict[str, str] = {}

    def add(self, entry: _Entry, value: str, *, fold: bool = False) -> None:
        key = _fold(value) if fold else value
        if key in self.seen:
            entry.fail(f"duplicate {self.what} {value!r} (already used at {self.seen[key]})")
        self.seen[key] = entry.where


def _outcomes(doc: _Entry) -> tuple[str, tuple[Outcome, ...]]:
    doc.only("version", "pcmw", "acd")
    version = doc.text("version")
    ids = _Unique("outcome id")
    names = _Unique("outcome name or alias")
    outcomes: list[Outcome] = []
    for module, count in (("pcmw", PCMW_COUNT), ("acd", ACD_COUNT)):
        found: list[Outcome] = []
        for entry in doc.items(module, count=count, noun=f"{module.upper()} outcomes"):
            found.append(_outcome(entry, module, ids, names))
        numbers = sorted(o.number for o in found)
        if numbers != list(range(1, count + 1)):
            doc.fail(f"{module}: outcomes must be numbered 1 to {count} once each, found {numbers}")
        outcomes.extend(sorted(found, key=lambda o: o.number))
    return version, tuple(outcomes)


def _outcome(entry: _Entry, module: str, ids: _Unique, names: _Unique) -> Outcome:
    specific = "criteria" if module == "pcmw" else "success_criteria"
    entry.only("id", "number", "name", "description", "aliases", "keywords", specific)
    ident = entry.identifier("id", _OUTCOME_ID[module], f"'{module}-<number>'")
    ids.add(entry, ident)
    number = entry.integer("number")
    if ident != f"{module}-{number}":
        entry.fail(f"id {ident!r} does not match number {number} (expected '{module}-{number}')")
    name = entry.text("name")
    aliases = entry.texts("aliases", minimum=0)
    # A name or alias shared by two outcomes would make header matching ambiguous.
    for text in {_fold(t): t for t in (name, *aliases)}.values():
        names.add(entry, text, fold=True)
    criteria: MaturityCriteria | None = None
    success: tuple[str, ...] = ()
    if module == "pcmw":
        block = entry.mapping("criteria")
        block.only("foundation", "developing", "mature")
        criteria = MaturityCriteria(block.texts("foundation"), block.texts("developing"), block.texts("mature"))
    else:
        success = entry.texts("success_criteria")
    return Outcome(
        id=ident,
        module=module,
        number=number,
        name=name,
        description=entry.text("description"),
        aliases=aliases,
        keywords=entry.texts("keywords", minimum=3, lowercase=True),
        criteria=criteria,
        success_criteria=success,
    )


def _ranked_ids(entries: list[_Entry], expected: tuple[str, ...], what: str) -> None:
    """Check ids and ranks are exactly ``expected`` in order: reports sort and chart by rank."""
    ids = _Unique(f"{what} id")
    for rank, (entry, ident) in enumerate(zip(entries, expected)):
        value = entry.text("id")
        ids.add(entry, value)
        if value != ident:
            entry.fail(f"expected {what} {rank + 1} to have id {ident!r}, found {value!r} (order: {', '.join(expected)})")
        if entry.integer("rank") != rank:
            entry.fail(f"field 'rank' is {entry.data['rank']!r}, expected {rank}")


def _levels(doc: _Entry) -> tuple[MaturityLevel, ...]:
    doc.only("levels")
    entries = doc.items("levels", count=len(LEVEL_IDS), noun="maturity levels")
    _ranked_ids(entries, LEVEL_IDS, "maturity level")
    # The importer maps a statement back to its level, so two levels must never share one.
    statements = _Unique("statement")
    levels: list[MaturityLevel] = []
    for entry in entries:
        entry.only("id", "rank", "label", "statement_pcmw", "statement_acd", "summary_pcmw", "summary_acd")
        level = MaturityLevel(
            id=entry.text("id"),
            rank=entry.integer("rank"),
            label=entry.text("label"),
            statement_pcmw=entry.text("statement_pcmw"),
            statement_acd=entry.text("statement_acd"),
            summary_pcmw=entry.text("summary_pcmw"),
            summary_acd=entry.text("summary_acd"),
        )
        for text in (level.statement_pcmw, level.statement_acd):
            statements.add(entry, text, fold=True)
        levels.append(level)
    return tuple(levels)


def _stages(doc: _Entry) -> tuple[TeamStage, ...]:
    doc.only("stages")
    entries = doc.items("stages", count=len(STAGE_IDS), noun="team stages")
    _ranked_ids(entries, STAGE_IDS, "team stage")
    stages: list[TeamStage] = []
    for entry in entries:
        entry.only("id", "rank", "label", "definition", "cluster_examples")
        stages.append(
            TeamStage(
                id=entry.text("id"),
                rank=entry.integer("rank"),
                label=entry.text("label"),
                definition=entry.text("definition"),
                cluster_examples=entry.texts("cluster_examples"),
            )
        )
    return tuple(stages)


def _boards(doc: _Entry) -> tuple[HealthBoard, ...]:
    doc.only("boards")
    ids = _Unique("health board id")
    rpb_ids = _Unique("regional partnership board id")
    names = _Unique("health board name or alias")
    boards: list[HealthBoard] = []
    for entry in doc.items("boards", count=BOARD_COUNT, noun="health boards"):
        entry.only("id", "name", "short_name", "welsh_name", "aliases", "rpb", "local_authorities")
        ident = entry.identifier("id", _BOARD_ID, "a short lowercase abbreviation such as 'abuhb'")
        ids.add(entry, ident)
        block = entry.mapping("rpb")
        block.only("id", "name", "welsh_name")
        rpb = RegionalPartnershipBoard(
            id=block.identifier("id", _SNAKE, "snake_case"), name=block.text("name"), welsh_name=block.text("welsh_name")
        )
        rpb_ids.add(block, rpb.id)
        board = HealthBoard(
            id=ident,
            name=entry.text("name"),
            short_name=entry.text("short_name"),
            welsh_name=entry.text("welsh_name"),
            aliases=entry.texts("aliases"),
            rpb=rpb,
            local_authorities=entry.texts("local_authorities"),
        )
        # An alias claimed by two boards would route a return to the wrong board.
        for text in {_fold(t): t for t in (board.name, board.short_name, board.welsh_name, *board.aliases)}.values():
            names.add(entry, text, fold=True)
        boards.append(board)
    return tuple(boards)


def _headings(doc: _Entry) -> tuple[RecommendationHeading, ...]:
    doc.only("headings")
    ids = _Unique("heading id")
    headings: list[RecommendationHeading] = []
    for entry in doc.items("headings"):
        entry.only("id", "label", "description", "keywords", "sources")
        ident = entry.identifier("id", _SNAKE, "snake_case")
        ids.add(entry, ident)
        sources = entry.texts("sources")
        for source in sources:
            if source not in HEADING_SOURCES:
                entry.fail(f"unknown source {source!r} (expected: {', '.join(HEADING_SOURCES)})")
        headings.append(
            RecommendationHeading(
                id=ident,
                label=entry.text("label"),
                description=entry.text("description"),
                keywords=entry.texts("keywords", minimum=3, lowercase=True),
                sources=sources,
            )
        )
    if not headings:
        doc.fail("headings: expected at least one recommendation heading")
    return tuple(headings)


def _questions(doc: _Entry) -> tuple[Question, ...]:
    doc.only("questions")
    entries = doc.items("questions", count=len(QUESTION_KINDS), noun="questions")
    theme_ids = _Unique("theme id")
    examples = _Unique("example")
    questions: list[Question] = []
    for entry, (expected_id, expected_kind) in zip(entries, QUESTION_KINDS):
        entry.only("id", "kind", "label", "wording", "aliases", "themes")
        ident, kind = entry.text("id"), entry.text("kind")
        if ident != expected_id:
            order = ", ".join(q for q, _ in QUESTION_KINDS)
            entry.fail(f"expected question id {expected_id!r} here, found {ident!r} (order: {order})")
        if kind != expected_kind:
            entry.fail(f"field 'kind' is {kind!r}, expected {expected_kind!r}")
        themes = tuple(_theme(t, ident, theme_ids, examples) for t in entry.items("themes", noun="themes"))
        present = [t.id for t in themes]
        missing = [t for t in REQUIRED_THEMES[ident] if t not in present]
        if missing:
            entry.fail(f"missing theme(s) {', '.join(map(repr, missing))}")
        questions.append(
            Question(
                id=ident,
                kind=kind,
                label=entry.text("label"),
                wording=entry.text("wording"),
                aliases=entry.texts("aliases", minimum=0),
                themes=themes,
            )
        )
    return tuple(questions)


def _theme(entry: _Entry, question_id: str, ids: _Unique, examples: _Unique) -> Theme:
    entry.only("id", "label", "definition", "examples", "keywords")
    ident = entry.identifier("id", _SNAKE, "snake_case")
    ids.add(entry, ident)
    theme = Theme(
        id=ident,
        question_id=question_id,
        label=entry.text("label"),
        definition=entry.text("definition"),
        examples=entry.texts("examples", minimum=MIN_EXAMPLES),
        keywords=entry.texts("keywords", lowercase=True),
    )
    # The same sentence labelled with two themes would teach a suggester a contradiction.
    for example in theme.examples:
        examples.add(entry, example, fold=True)
    return theme

