"""Agreement between coders of a round: per theme and overall, the machine as one more coder, and the
disagreements the group settles.

Coding is multi-label: each coder gives an answer a *set* of theme ids from its question's themes.
Agreement is measured per theme on a binary view (Krippendorff 2011 and Gwet 2014 both treat each
label of a multi-label scheme as its own nominal variable): for theme t, a coder who coded the answer
scores 1 if they applied t and 0 if they did not; a coder who has not coded the answer is *missing*,
so an unfinished coder lowers n, never agreement. Only answers to questions that have theme t enter
t's view, since nobody can apply a barrier theme to an enabler answer.

"Overall" pools every (answer, theme) decision into one binary variable, which is what a single
headline number for a round should summarise; the per-theme values and the means of them are given
beside it because a pooled value is dominated by the many "no" decisions.

Coefficients are computed in :mod:`clwstwr.agreement_coefficients` (formulas and sources there). This
module holds no database code: the workspace reads the coding events, turns them into
:class:`CodingRecord` s and calls these functions, so the numbers can be checked by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

from corpora.codebook import Codebook

from .agreement_coefficients import (
    AgreementError,
    Estimate,
    cohen_kappa,
    gwet_ac1,
    krippendorff_alpha_nominal,
    observed_agreement,
    prevalence,
    undefined,
)

__all__ = [
    "AgreementSummary",
    "AnswerId",
    "BinaryView",
    "CoderComparison",
    "CodingRecord",
    "Disagreement",
    "GoldComparison",
    "MachineComparison",
    "MachineTheme",
    "PairKappa",
    "ThemeAgreement",
    "ThemeSplit",
    "binary_view",
    "find_disagreements",
    "machine_vs_humans",
    "summarise_agreement",
    "themes_by_question",
]

AnswerId = int | str
BINARY = (0, 1)
MAX_LISTED_PROBLEMS = 20
GOLD = "(consensus)"  # the gold standard's coder name inside machine_vs_humans


class _Serialisable:
    """``to_dict`` for the result records: plain dicts, lists and numbers, ready for ``json.dumps``."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class BinaryView(_Serialisable):
    """One theme as Krippendorff's reliability matrix: rows ``coders``, columns ``answer_ids``."""

    theme: str
    coders: tuple[str, ...]
    answer_ids: tuple[AnswerId, ...]
    matrix: tuple[tuple[int | None, ...], ...]


@dataclass(frozen=True)
class PairKappa(_Serialisable):
    coder_a: str
    coder_b: str
    kappa: Estimate


@dataclass(frozen=True)
class ThemeAgreement(_Serialisable):
    """One theme's row of the agreement table (``theme == "*"`` for all decisions pooled).

    ``n_coded``: answers coded by at least one coder (the base of ``prevalence``); ``n_items``:
    answers coded by two or more (the base of every agreement coefficient).
    """

    theme: str
    question_ids: tuple[str, ...]
    n_coded: int
    n_items: int
    prevalence: Estimate
    observed_agreement: Estimate
    pairwise_kappa: tuple[PairKappa, ...]
    mean_kappa: Estimate
    alpha: Estimate
    ac1: Estimate


@dataclass(frozen=True)
class AgreementSummary(_Serialisable):
    coders: tuple[str, ...]
    n_answers: int
    themes: tuple[ThemeAgreement, ...]
    overall: ThemeAgreement
    mean_theme_kappa: Estimate
    mean_theme_alpha: Estimate
    mean_theme_ac1: Estimate

    def theme(self, theme_id: str) -> ThemeAgreement:
        for row in self.themes:
            if row.theme == theme_id:
                return row
        raise AgreementError(f"no theme {theme_id!r} in this summary; it has {', '.join(t.theme for t in self.themes)}")


@dataclass(frozen=True)
class CoderComparison(_Serialisable):
    """The machine against one human, on the answers both coded."""

    coder: str
    n_items: int
    observed_agreement: Estimate
    kappa: Estimate
    ac1: Estimate


@dataclass(frozen=True)
class GoldComparison(_Serialisable):
    """The machine against the consensus. Pooled over themes, precision/recall/F1 are the micro values.

    For precision, recall and F1, ``n_items`` is the ratio's denominator (TP+FP, TP+FN, 2TP+FP+FN),
    so a reader sees "1.0 of 2" rather than a bare 1.0.
    """

    n_items: int
    true_positives: int
    false_positives: int
    false_negatives: int
    observed_agreement: Estimate
    kappa: Estimate
    ac1: Estimate
    precision: Estimate
    recall: Estimate
    f1: Estimate


@dataclass(frozen=True)
class MachineTheme(_Serialisable):
    theme: str
    vs_coders: tuple[CoderComparison, ...]
    vs_gold: GoldComparison | None


@dataclass(frozen=True)
class MachineComparison(_Serialisable):
    """Machine as one more coder. ``macro_*`` average the themes where the value is defined."""

    machine: str
    coders: tuple[str, ...]
    themes: tuple[MachineTheme, ...]
    overall_vs_coders: tuple[CoderComparison, ...]
    overall_vs_gold: GoldComparison | None
    macro_precision: Estimate | None
    macro_recall: Estimate | None
    macro_f1: Estimate | None

    def theme(self, theme_id: str) -> MachineTheme:
        for row in self.themes:
            if row.theme == theme_id:
                return row
        raise AgreementError(f"no theme {theme_id!r} in this comparison")


@dataclass(frozen=True)
class ThemeSplit(_Serialisable):
    theme: str
    applied_by: tuple[str, ...]
    not_applied_by: tuple[str, ...]


@dataclass(frozen=True)
class Disagreement(_Serialisable):
    """One answer in the queue: who coded it, what all agreed on, and each theme they split on."""

    answer_id: AnswerId
    question_id: str
    coders: tuple[str, ...]
    agreed_themes: tuple[str, ...]
    splits: tuple[ThemeSplit, ...]


@dataclass(frozen=True)
class CodingRecord:
    """One coder's final theme set for one answer (the fold of their accept/reject/add decisions)."""

    answer_id: AnswerId
    coder: str
    themes: frozenset[str]
    question_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "themes", frozenset(self.themes))


def themes_by_question(codebook: Codebook) -> dict[str, tuple[str, ...]]:
    """The theme ids each question may be coded with, in codebook order (the order tables show)."""
    return {q.id: tuple(t.id for t in q.themes) for q in codebook.questions}


@dataclass(frozen=True)
class _Table:
    """Validated codings: answers in first-seen order, coders sorted, (answer, coder) -> themes."""

    answers: tuple[AnswerId, ...]
    question_of: Mapping[AnswerId, str]
    coders: tuple[str, ...]
    codes: Mapping[tuple[AnswerId, str], frozenset[str]] = field(repr=False)

    def answers_with(self, theme: str, themes_per_question: Mapping[str, Sequence[str]]) -> list[AnswerId]:
        return [a for a in self.answers if theme in themes_per_question[self.question_of[a]]]

    def cell(self, answer: AnswerId, coder: str, theme: str) -> int | None:
        themes = self.codes.get((answer, coder))
        return None if themes is None else int(theme in themes)


def _table(
    sources: Sequence[tuple[str, Iterable[CodingRecord]]], themes_per_question: Mapping[str, Sequence[str]]
) -> _Table:
    """Check every record and report all problems at once, naming the record, before computing anything.

    ``sources`` are (argument name, records) so a message says ``gold_records[3]``, not just "row 3".
    """
    problems: list[str] = []
    answers: list[AnswerId] = []
    question_of: dict[AnswerId, str] = {}
    codes: dict[tuple[AnswerId, str], frozenset[str]] = {}
    numbered = [(f"{what}[{i}]", r) for what, records in sources for i, r in enumerate(records)]
    for label, record in numbered:
        if not isinstance(record, CodingRecord):
            problems.append(f"{label}: expected a CodingRecord, got {type(record).__name__}")
            continue
        where = f"{label} (answer {record.answer_id!r}, coder {record.coder!r})"
        if not isinstance(record.coder, str) or not record.coder.strip():
            problems.append(f"{where}: coder must be a non-empty name")
            continue
        if record.question_id not in themes_per_question:
            problems.append(
                f"{where}: unknown question {record.question_id!r}; expected one of {', '.join(themes_per_question)}"
            )
            continue
        allowed = themes_per_question[record.question_id]
        unknown = sorted(record.themes - set(allowed))
        if unknown:
            problems.append(
                f"{where}: theme(s) {', '.join(unknown)} are not themes of question {record.question_id!r}; "
                f"expected some of {', '.join(allowed)}"
            )
            continue
        seen_question = question_of.get(record.answer_id)
        if seen_question is not None and seen_question != record.question_id:
            problems.append(
                f"{where}: answer is under question {record.question_id!r} here but {seen_question!r} earlier"
            )
            continue
        key = (record.answer_id, record.coder)
        if key in codes:
            problems.append(f"{where}: this coder already has a theme set for this answer (one record each)")
            continue
        if seen_question is None:
            question_of[record.answer_id] = record.question_id
            answers.append(record.answer_id)
        codes[key] = record.themes
    if problems:
        listed = problems[:MAX_LISTED_PROBLEMS]
        more = len(problems) - len(listed)
        tail = f"\n  … and {more} more" if more else ""
        raise AgreementError(f"{len(problems)} unusable coding record(s):\n  " + "\n  ".join(listed) + tail)
    coders = tuple(sorted({coder for _, coder in codes}))
    return _Table(tuple(answers), question_of, coders, codes)


def _matrix(
    table: _Table, coders: Sequence[str], answer_theme: Sequence[tuple[AnswerId, str]]
) -> list[list[int | None]]:
    """Reliability matrix over (answer, theme) cells: one column per decision, 1 / 0 / None."""
    return [[table.cell(answer, coder, theme) for answer, theme in answer_theme] for coder in coders]


def binary_view(
    records: Iterable[CodingRecord], themes_per_question: Mapping[str, Sequence[str]], theme: str
) -> BinaryView:
    """Theme ``theme`` as Krippendorff's reliability matrix: coders x answers, 1 / 0 / None (not coded)."""
    _check_theme(theme, themes_per_question)
    table = _table([("records", records)], themes_per_question)
    answers = table.answers_with(theme, themes_per_question)
    matrix = _matrix(table, table.coders, [(a, theme) for a in answers])
    return BinaryView(theme, table.coders, tuple(answers), tuple(tuple(row) for row in matrix))


def _check_theme(theme: str, themes_per_question: Mapping[str, Sequence[str]]) -> None:
    known = [t for themes in themes_per_question.values() for t in themes]
    if theme not in known:
        raise AgreementError(f"unknown theme {theme!r}; expected one of {', '.join(known)}")


def _mean(estimates: Sequence[Estimate], what: str) -> Estimate:
    """Unweighted mean of the defined estimates (Light 1971 for pairwise kappa); n = how many averaged."""
    values = [e.value for e in estimates if e.value is not None]
    if not values:
        return undefined(f"no {what} is defined")
    return Estimate(value=sum(values) / len(values), n_items=len(values))


def _stats(matrix: list[list[int | None]], coders: Sequence[str]) -> dict[str, Any]:
    """The coefficients shown for one binary variable (a theme, or all decisions pooled)."""
    pairs = tuple(
        PairKappa(coders[i], coders[j], cohen_kappa(matrix[i], matrix[j]))
        for i, j in combinations(range(len(coders)), 2)
    )
    n_units = len(matrix[0]) if matrix else 0
    coded_by = [sum(1 for row in matrix if row[u] is not None) for u in range(n_units)]
    return {
        "n_coded": sum(1 for c in coded_by if c >= 1),
        "n_items": sum(1 for c in coded_by if c >= 2),
        "prevalence": prevalence(matrix),
        "observed_agreement": observed_agreement(matrix),
        "pairwise_kappa": pairs,
        "mean_kappa": _mean([p.kappa for p in pairs], "pairwise kappa"),
        "alpha": krippendorff_alpha_nominal(matrix),
        "ac1": gwet_ac1(matrix, BINARY),
    }


def summarise_agreement(
    records: Iterable[CodingRecord], themes_per_question: Mapping[str, Sequence[str]]
) -> AgreementSummary:
    """Per theme and overall: prevalence, observed agreement, pairwise and mean kappa, alpha, AC1.

    Every theme of ``themes_per_question`` is reported (in its order), coded or not, so the table has
    the same rows all round long; a theme without answers coded twice shows its coefficients as
    undefined with the reason. ``overall`` pools all (answer, theme) decisions and also gives the
    unweighted means of the per-theme values.
    """
    table = _table([("records", records)], themes_per_question)
    themes: list[ThemeAgreement] = []
    for theme in dict.fromkeys(t for ts in themes_per_question.values() for t in ts):
        answers = table.answers_with(theme, themes_per_question)
        questions = tuple(q for q, ts in themes_per_question.items() if theme in ts)
        matrix = _matrix(table, table.coders, [(a, theme) for a in answers])
        themes.append(ThemeAgreement(theme=theme, question_ids=questions, **_stats(matrix, table.coders)))
    decisions = [(a, t) for a in table.answers for t in themes_per_question[table.question_of[a]]]
    pooled = _stats(_matrix(table, table.coders, decisions), table.coders)
    overall = ThemeAgreement(theme="*", question_ids=tuple(themes_per_question), **pooled)
    return AgreementSummary(
        coders=table.coders,
        n_answers=len(table.answers),
        themes=tuple(themes),
        overall=overall,
        mean_theme_kappa=_mean([t.mean_kappa for t in themes], "theme's mean kappa"),
        mean_theme_alpha=_mean([t.alpha for t in themes], "theme's alpha"),
        mean_theme_ac1=_mean([t.ac1 for t in themes], "theme's AC1"),
    )


def _ratio(numerator: int, denominator: int, reason: str) -> Estimate:
    return undefined(reason) if denominator == 0 else Estimate(numerator / denominator, denominator)


def _gold_comparison(machine_row: list[int | None], gold_row: list[int | None]) -> GoldComparison:
    """Machine against the consensus on the answers both have: confusion counts and P/R/F1."""
    both = [(m, g) for m, g in zip(machine_row, gold_row) if m is not None and g is not None]
    tp = sum(1 for m, g in both if m == 1 and g == 1)
    fp = sum(1 for m, g in both if m == 1 and g == 0)
    fn = sum(1 for m, g in both if m == 0 and g == 1)
    pair = [machine_row, gold_row]
    return GoldComparison(
        n_items=len(both),
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
        observed_agreement=observed_agreement(pair),
        kappa=cohen_kappa(machine_row, gold_row),
        ac1=gwet_ac1(pair, BINARY),
        precision=_ratio(tp, tp + fp, "the machine never suggested it on these answers"),
        recall=_ratio(tp, tp + fn, "the consensus never applied it on these answers"),
        # 2TP / (2TP + FP + FN): defined whenever either side applied the theme, even with P undefined.
        f1=_ratio(2 * tp, 2 * tp + fp + fn, "neither the machine nor the consensus applied it"),
    )


def _coder_comparisons(
    table: _Table, machine: str, humans: Sequence[str], cells: Sequence[tuple[AnswerId, str]]
) -> tuple[CoderComparison, ...]:
    machine_row = _matrix(table, [machine], cells)[0]
    out = []
    for human in humans:
        row = _matrix(table, [human], cells)[0]
        pair = [machine_row, row]
        out.append(
            CoderComparison(
                coder=human,
                n_items=sum(1 for m, h in zip(machine_row, row) if m is not None and h is not None),
                observed_agreement=observed_agreement(pair),
                kappa=cohen_kappa(machine_row, row),
                ac1=gwet_ac1(pair, BINARY),
            )
        )
    return tuple(out)


def machine_vs_humans(
    human_records: Iterable[CodingRecord],
    machine_records: Iterable[CodingRecord],
    themes_per_question: Mapping[str, Sequence[str]],
    gold_records: Iterable[CodingRecord] | None = None,
) -> MachineComparison:
    """The machine's theme sets measured as one more coder: against each human, and against the gold.

    ``machine_records`` carry one coder name (e.g. ``"machine"``; the set is whatever the workspace
    counts as suggested, e.g. themes above the threshold). ``gold_records`` are the consensus codes,
    one per answer. Per theme: kappa, AC1 and observed agreement against each human (answers both
    coded) and against the gold, plus precision / recall / F1 against the gold. Overall: the same,
    pooled over all decisions, with micro (pooled counts) and macro (mean over themes where defined)
    precision, recall and F1.
    """
    humans = list(human_records)
    machine = list(machine_records)
    gold = list(gold_records) if gold_records is not None else []
    machine_names = {r.coder for r in machine}
    if len(machine_names) > 1:
        raise AgreementError(
            f"machine_records come from {len(machine_names)} coders ({', '.join(sorted(machine_names))}); "
            "expected one machine coder"
        )
    human_names = {r.coder for r in humans}
    machine_name = next(iter(machine_names), "machine")
    if machine_name in human_names:
        raise AgreementError(f"machine coder name {machine_name!r} is also a human coder's name; rename one")
    if GOLD in human_names | machine_names:
        raise AgreementError(f"{GOLD!r} is reserved for the consensus; no coder may be called that")
    as_gold = [CodingRecord(r.answer_id, GOLD, r.themes, r.question_id) for r in gold]
    table = _table(
        [("human_records", humans), ("machine_records", machine), ("gold_records", as_gold)], themes_per_question
    )
    human_coders = tuple(sorted(human_names))
    has_gold = gold_records is not None
    themes: list[MachineTheme] = []
    for theme in dict.fromkeys(t for ts in themes_per_question.values() for t in ts):
        cells = [(a, theme) for a in table.answers_with(theme, themes_per_question)]
        themes.append(
            MachineTheme(
                theme=theme,
                vs_coders=_coder_comparisons(table, machine_name, human_coders, cells),
                vs_gold=_gold_row(table, machine_name, GOLD, cells) if has_gold else None,
            )
        )
    decisions = [(a, t) for a in table.answers for t in themes_per_question[table.question_of[a]]]
    pooled_gold = _gold_row(table, machine_name, GOLD, decisions) if has_gold else None
    golds = [t.vs_gold for t in themes if t.vs_gold is not None]
    return MachineComparison(
        machine=machine_name,
        coders=human_coders,
        themes=tuple(themes),
        overall_vs_coders=_coder_comparisons(table, machine_name, human_coders, decisions),
        overall_vs_gold=pooled_gold,
        macro_precision=_mean([g.precision for g in golds], "theme's precision") if has_gold else None,
        macro_recall=_mean([g.recall for g in golds], "theme's recall") if has_gold else None,
        macro_f1=_mean([g.f1 for g in golds], "theme's F1") if has_gold else None,
    )


def _gold_row(table: _Table, machine: str, gold: str, cells: Sequence[tuple[AnswerId, str]]) -> GoldComparison:
    machine_row, gold_row = _matrix(table, [machine, gold], cells)
    return _gold_comparison(machine_row, gold_row)


def find_disagreements(
    records: Iterable[CodingRecord], themes_per_question: Mapping[str, Sequence[str]]
) -> tuple[Disagreement, ...]:
    """The queue the group settles: answers coded by 2+ coders whose theme sets differ.

    For each, the themes some but not all of its coders applied, with who did and who did not, and
    the themes all applied (already agreed). Answers keep the order they were first recorded in, and
    themes the codebook's order, so the queue is stable between refreshes.
    """
    table = _table([("records", records)], themes_per_question)
    queue: list[Disagreement] = []
    for answer in table.answers:
        coders = tuple(c for c in table.coders if (answer, c) in table.codes)
        if len(coders) < 2:
            continue
        sets = [table.codes[(answer, c)] for c in coders]
        if all(s == sets[0] for s in sets):
            continue
        question = table.question_of[answer]
        splits: list[ThemeSplit] = []
        agreed: list[str] = []
        for theme in themes_per_question[question]:
            applied = tuple(c for c, s in zip(coders, sets) if theme in s)
            if len(applied) == len(coders):
                agreed.append(theme)
            elif applied:
                splits.append(ThemeSplit(theme, applied, tuple(c for c in coders if c not in applied)))
        queue.append(Disagreement(answer, question, coders, tuple(agreed), tuple(splits)))
    return tuple(queue)
