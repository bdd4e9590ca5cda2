"""The codebook: the programme's fixed vocabulary, loaded from YAML and checked before anyone uses it.

Everything the rest of Clwstwr codes *to* lives here as data (``corpora/data/*.yaml``) rather than in
code, so a reviewer can correct a label or add an example without touching Python:

* ``outcomes.yaml``                 13 PCMW and 7 ACD outcomes (with PCMW maturity criteria)
* ``maturity_levels.yaml``          pre-foundation, foundation, developing, mature (with the exact
                                    self-reflection statements a Forms export contains)
* ``team_stages.yaml``              Tuckman's forming, storming, norming, performing
* ``health_boards.yaml``            the seven health boards and their regional partnership boards
* ``recommendation_headings.yaml``  the headings recommendations are grouped under
* ``questions.yaml``                the six free-text questions and the themes answers are coded to

Loading validates all of it and fails with a ``CodebookError`` that names the file and the entry
(``outcomes.yaml: pcmw[3] (id 'pcmw-4'): missing field 'name'``), because a silently wrong codebook
would miscount every report built on it. The result is immutable (frozen dataclasses and tuples), so
one loaded codebook can be shared by every request, and its ``version`` (declared version plus a hash
of the files' bytes) is recorded with each result so a rerun can be matched to the codebook it used.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

from corpora.errors import CodebookError

__all__ = [
    "DATA_DIR",
    "Codebook",
    "HealthBoard",
    "MaturityCriteria",
    "MaturityLevel",
    "Outcome",
    "Question",
    "RecommendationHeading",
    "RegionalPartnershipBoard",
    "TeamStage",
    "Theme",
    "load_codebook",
]

DATA_DIR = Path(__file__).parent / "data"

# Read (and hashed) in this order; the order is part of the version hash.
FILES = (
    "outcomes.yaml",
    "maturity_levels.yaml",
    "team_stages.yaml",
    "health_boards.yaml",
    "recommendation_headings.yaml",
    "questions.yaml",
)

# Fixed contracts (DESIGN.md): other tools, stored codings and exports refer to these ids.
PCMW_COUNT = 13
ACD_COUNT = 7
LEVEL_IDS = ("pre_foundation", "foundation", "developing", "mature")
STAGE_IDS = ("forming", "storming", "norming", "performing")
BOARD_COUNT = 7
QUESTION_KINDS = (
    ("barriers", "barrier"),
    ("impact_of_barriers", "barrier_impact"),
    ("overcoming_barriers", "overcoming"),
    ("enablers", "enabler"),
    ("impact_of_enablers", "enabler_impact"),
    ("what_would_help", "support_needed"),
)
# Themes each question must have (more may be added after them; none may be renamed).
REQUIRED_THEMES = {
    "barriers": ("funding", "engagement", "clarity", "time", "bureaucracy"),
    "impact_of_barriers": ("stalled_progress", "staff_morale", "patient_impact"),
    "overcoming_barriers": ("not_overcome", "relationships_and_trust", "partner_engagement", "wider_system_support"),
    "enablers": ("ways_of_working", "relationships", "leadership", "external_engagement", "individuals"),
    "impact_of_enablers": ("innovation_and_progress", "joint_working", "better_patient_care"),
    "what_would_help": (
        "autonomy",
        "reduced_bureaucracy",
        "sustainable_resources",
        "established_ways_of_working",
        "stronger_cluster_role",
    ),
}
# Fewer than three examples is too little for a coder to see where a theme's edges are.
MIN_EXAMPLES = 3
HEADING_SOURCES = ("peer_review_2022_23", "self_reflection_2024")

_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_BOARD_ID = re.compile(r"^[a-z]{2,8}$")
_OUTCOME_ID = {"pcmw": re.compile(r"^pcmw-([1-9][0-9]*)$"), "acd": re.compile(r"^acd-([1-9][0-9]*)$")}


# --------------------------------------------------------------------------------------------------
# Domain values
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaturityCriteria:
    """The framework's criteria for one PCMW outcome at each maturity level (level 1, 2, 3)."""

    foundation: tuple[str, ...]
    developing: tuple[str, ...]
    mature: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """One PCMW or ACD outcome.

    ``aliases`` hold every other wording the documents and the self-reflection tool use for it, so
    an importer can match a column header to the outcome. PCMW outcomes carry ``criteria`` and no
    ``success_criteria``; ACD outcomes the reverse (the framework defines no ACD maturity criteria).
    """

    id: str
    module: str  # "pcmw" | "acd"
    number: int
    name: str
    description: str
    aliases: tuple[str, ...]
    keywords: tuple[str, ...]
    criteria: MaturityCriteria | None
    success_criteria: tuple[str, ...]

    @property
    def label(self) -> str:
        """How reports and letters name the outcome, e.g. ``"PCMW 7: Quality out-of-hours care"``."""
        return f"{self.module.upper()} {self.number}: {self.name}"


@dataclass(frozen=True)
class MaturityLevel:
    """A self-reflection maturity level; ``rank`` 0 (pre-foundation) to 3 (mature).

    ``statement_pcmw``/``statement_acd`` are byte-for-byte the tool's answer options, which is what a
    Forms export contains; ``summary_*`` are the shorter descriptions used in report text.
    """

    id: str
    rank: int
    label: str
    statement_pcmw: str
    statement_acd: str
    summary_pcmw: str
    summary_acd: str


@dataclass(frozen=True)
class TeamStage:
    """A Tuckman team-development stage with the cluster scenarios the tool offers for it."""

    id: str
    rank: int
    label: str
    definition: str
    cluster_examples: tuple[str, ...]


@dataclass(frozen=True)
class RegionalPartnershipBoard:
    """The RPB a health board sits within; outcome letters are copied to it."""

    id: str
    name: str
    welsh_name: str


@dataclass(frozen=True)
class HealthBoard:
    """A Welsh health board; ``aliases`` are the abbreviations and short forms people type."""

    id: str
    name: str
    short_name: str
    welsh_name: str
    aliases: tuple[str, ...]
    rpb: RegionalPartnershipBoard
    local_authorities: tuple[str, ...]


@dataclass(frozen=True)
class RecommendationHeading:
    """A heading recommendations and opportunities for action are grouped under.

    ``sources`` names the report(s) that use it: ``peer_review_2022_23`` and/or ``self_reflection_2024``.
    """

    id: str
    label: str
    description: str
    keywords: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Theme:
    """A code for answers to one question. Theme ids are unique across all questions."""

    id: str
    question_id: str
    label: str
    definition: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    """One of the six free-text self-reflection questions; ``kind`` is what the API's ``kind`` names."""

    id: str
    kind: str
    label: str
    wording: str
    aliases: tuple[str, ...]
    themes: tuple[Theme, ...]


@dataclass(frozen=True)
class Codebook:
    """The whole, validated codebook. Build it with ``load_codebook``; lookups raise ``CodebookError``."""

    version: str
    outcomes: tuple[Outcome, ...]
    maturity_levels: tuple[MaturityLevel, ...]
    team_stages: tuple[TeamStage, ...]
    health_boards: tuple[HealthBoard, ...]
    headings: tuple[RecommendationHeading, ...]
    questions: tuple[Question, ...]
    _index: dict[str, dict[str, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, dict[str, Any]] = {
            "outcome": {o.id: o for o in self.outcomes},
            "question": {q.id: q for q in self.questions},
            "kind": {q.kind: q for q in self.questions},
            "theme": {t.id: t for q in self.questions for t in q.themes},
            "level": {m.id: m for m in self.maturity_levels},
            "team stage": {s.id: s for s in self.team_stages},
            "health board": {b.id: b for b in self.health_boards},
        }
        object.__setattr__(self, "_index", index)

    @property
    def pcmw(self) -> tuple[Outcome, ...]:
        """The 13 PCMW outcomes, numbered order."""
        return tuple(o for o in self.outcomes if o.module == "pcmw")

    @property
    def acd(self) -> tuple[Outcome, ...]:
        """The 7 ACD outcomes, numbered order."""
        return tuple(o for o in self.outcomes if o.module == "acd")

    def _get(self, what: str, key: str) -> Any:
        table = self._index[what]
        try:
            return table[key]
        except (KeyError, TypeError):
            raise CodebookError(f"unknown {what} id {key!r}; valid ids: {', '.join(table)}") from None

    def outcome(self, outcome_id: str) -> Outcome:
        """The outcome with id ``pcmw-1`` … ``pcmw-13`` or ``acd-1`` … ``acd-7``."""
        return self._get("outcome", outcome_id)

    def question(self, id_or_kind: str) -> Question:
        """The question with this id (``barriers``) or kind (``barrier``): callers hold either."""
        by_id, by_kind = self._index["question"], self._index["kind"]
        if id_or_kind in by_id:
            return by_id[id_or_kind]
        if id_or_kind in by_kind:
            return by_kind[id_or_kind]
        raise CodebookError(
            f"unknown question id or kind {id_or_kind!r}; valid ids: {', '.join(by_id)}; "
            f"valid kinds: {', '.join(by_kind)}"
        )

    def theme(self, theme_id: str) -> Theme:
        """The theme with this id, whichever question it belongs to."""
        return self._get("theme", theme_id)

    def themes_for(self, kind: str | None = None) -> tuple[Theme, ...]:
        """Themes of one question (by kind or id) in codebook order; ``None`` gives every theme."""
        if kind is None:
            return tuple(self._index["theme"].values())
        return self.question(kind).themes

    def level(self, level_id: str) -> MaturityLevel:
        """The maturity level ``pre_foundation``, ``foundation``, ``developing`` or ``mature``."""
        return self._get("level", level_id)

    def team_stage(self, stage_id: str) -> TeamStage:
        """The Tuckman stage ``forming``, ``storming``, ``norming`` or ``performing``."""
        return self._get("team stage", stage_id)

    def health_board(self, board_id: str) -> HealthBoard:
        """The health board with this id (``abuhb``, ``bcuhb``, …); aliases are not resolved here."""
        return self._get("health board", board_id)


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def load_codebook(directory: Path | None = None) -> Codebook:
    """Load and validate the codebook from ``directory`` (default: the bundled ``corpora/data``).

    The default load is cached: the result is immutable and the bundled files do not change while
    the process runs. An explicit directory is always read afresh (tests write broken copies).
    Raises ``CodebookError`` naming the file and entry for any missing, malformed or inconsistent data.
    """
    if directory is None:
        return _load_default()
    return _load(Path(directory))


@functools.lru_cache(maxsize=1)
def _load_default() -> Codebook:
    return _load(DATA_DIR)


def _load(directory: Path) -> Codebook:
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

