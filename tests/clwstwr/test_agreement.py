"""Agreement statistics checked against values worked out by hand (arithmetic in the comments), the
published Krippendorff (2011) example, scikit-learn's kappa and an independent brute-force alpha."""

from __future__ import annotations

import json
from itertools import permutations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from clwstwr.agreement import (
    CodingRecord,
    binary_view,
    find_disagreements,
    machine_vs_humans,
    summarise_agreement,
    themes_by_question,
)
from clwstwr.agreement_coefficients import (
    AgreementError,
    cohen_kappa,
    gwet_ac1,
    krippendorff_alpha_nominal,
    observed_agreement,
)
from corpora.codebook import Codebook

BARRIERS = ("funding", "engagement", "clarity", "time", "bureaucracy")
ENABLERS = ("ways_of_working", "relationships", "leadership", "external_engagement", "individuals")
QUESTIONS = {"barriers": BARRIERS, "enablers": ENABLERS}
N = None


def _codes(coder: str, sets: dict[int, set[str]], question: str = "barriers") -> list[CodingRecord]:
    return [CodingRecord(answer, coder, frozenset(themes), question) for answer, themes in sets.items()]


def _funding_codes(coder: str, applied: list[int]) -> list[CodingRecord]:
    """A coder who coded every answer in ``applied`` order: 1 = funding applied, 0 = nothing applied."""
    return _codes(coder, {i: ({"funding"} if v else set()) for i, v in enumerate(applied, start=1)})


def test_agreement_themes_by_question_follows_the_codebook(codebook: Codebook) -> None:
    themes = themes_by_question(codebook)
    assert themes["barriers"][:5] == BARRIERS
    assert themes["enablers"][:5] == ENABLERS
    assert len(themes) == 6


def test_agreement_perfect_agreement_gives_one_everywhere_and_says_why_an_unused_theme_is_undefined() -> None:
    sets = {1: {"funding"}, 2: {"time", "clarity"}, 3: set(), 4: {"funding", "bureaucracy"}}
    records = [r for coder in ("ann", "bryn", "cerys") for r in _codes(coder, sets)]
    summary = summarise_agreement(records, QUESTIONS)

    funding = summary.theme("funding")
    # funding is 1,0,0,1 for all three coders: p_o = 1; p_e = .5*.5 + .5*.5 = .5 -> kappa = (1-.5)/(1-.5) = 1
    assert [p.kappa.value for p in funding.pairwise_kappa] == [1.0, 1.0, 1.0]
    assert funding.mean_kappa.value == 1.0
    assert funding.alpha.value == 1.0  # no off-diagonal coincidences: 1 - 0 = 1
    assert funding.ac1.value == 1.0  # p_a = 1, pi_1 = .5, p_e = 2*.5*.5 = .5 -> (1-.5)/(1-.5)
    assert funding.prevalence.value == 6 / 12  # 2 of 4 answers x 3 coders
    assert (funding.n_items, funding.n_coded) == (4, 4)

    engagement = summary.theme("engagement")  # nobody ever applied it
    assert engagement.pairwise_kappa[0].kappa.value is None
    assert "chance agreement is 1" in engagement.pairwise_kappa[0].kappa.reason
    assert engagement.alpha.value is None and "no variation" in engagement.alpha.reason
    # AC1 stays defined: p_a = 1, pi_1 = 0 -> p_e = 2*0*1 = 0 -> AC1 = (1-0)/(1-0) = 1
    assert engagement.ac1.value == 1.0
    assert engagement.prevalence.value == 0.0

    # Pooled: 4 answers x 5 barrier themes = 20 decisions, all agreed; 5 applied per coder -> prevalence .25.
    assert summary.overall.mean_kappa.value == 1.0
    assert summary.overall.alpha.value == 1.0
    assert summary.overall.ac1.value == 1.0
    assert summary.overall.prevalence.value == 15 / 60
    assert summary.overall.n_items == 20
    # enabler themes have no answers at all: shown, but undefined, with the reason
    assert summary.theme("leadership").alpha.reason == "no unit was coded by two or more coders"
    assert summary.mean_theme_alpha.n_items == 4  # funding, clarity, time, bureaucracy (engagement undefined)


def test_agreement_chance_level_table_gives_kappa_zero() -> None:
    # 10 answers, 2x2 table for funding: both yes 2, ann only 3, bryn only 2, both no 3.
    ann = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    bryn = [1, 1, 0, 0, 0, 1, 1, 0, 0, 0]
    summary = summarise_agreement(_funding_codes("ann", ann) + _funding_codes("bryn", bryn), QUESTIONS)
    funding = summary.theme("funding")
    # p_o = (2 + 3) / 10 = .5; marginals ann .5 yes, bryn .4 yes; p_e = .5*.4 + .5*.6 = .5
    # kappa = (.5 - .5) / (1 - .5) = 0
    assert funding.observed_agreement.value == pytest.approx(0.5)
    assert funding.pairwise_kappa[0].kappa.value == pytest.approx(0.0, abs=1e-12)
    # AC1: pi_1 = (.5 + .4) / 2 = .45; p_e = 2 * .45 * .55 = .495; AC1 = (.5 - .495) / (1 - .495) = .005/.505
    assert funding.ac1.value == pytest.approx(0.005 / 0.505)
    # alpha: n = 20 values, n_1 = 9, n_0 = 11; 5 disagreeing units give o_01 + o_10 = 10;
    # alpha = 1 - (n - 1) * 10 / (2 * 9 * 11) = 1 - 190/198 = 8/198
    assert funding.alpha.value == pytest.approx(8 / 198)
    assert cohen_kappa_score(ann, bryn) == pytest.approx(0.0, abs=1e-12)


def test_agreement_rare_theme_has_low_kappa_but_high_ac1_with_prevalence_beside_them() -> None:
    # 20 answers; ann applies funding to answer 1 only, bryn to answer 2 only; the rest both leave it out.
    ann = [1] + [0] * 19
    bryn = [0, 1] + [0] * 18
    funding = summarise_agreement(_funding_codes("ann", ann) + _funding_codes("bryn", bryn), QUESTIONS).theme(
        "funding"
    )
    # p_o = 18/20 = .9; p_A(1) = p_B(1) = .05; p_e = .05*.05 + .95*.95 = .0025 + .9025 = .905
    # kappa = (.9 - .905) / (1 - .905) = -.005 / .095 = -1/19 = -0.0526
    assert funding.pairwise_kappa[0].kappa.value == pytest.approx(-1 / 19)
    assert funding.mean_kappa.value == pytest.approx(-1 / 19)
    # AC1: pi_1 = (.05 + .05)/2 = .05; p_e = 2 * .05 * .95 = .095; AC1 = (.9 - .095)/(1 - .095) = .805/.905
    assert funding.ac1.value == pytest.approx(0.805 / 0.905)  # 0.8895
    # alpha: n = 40, n_1 = 2, n_0 = 38; units 1 and 2 give o_01 + o_10 = 4;
    # alpha = 1 - 39 * 4 / (2 * 2 * 38) = 1 - 156/152 = -4/152
    assert funding.alpha.value == pytest.approx(-4 / 152)
    assert funding.prevalence.value == pytest.approx(2 / 40)
    assert funding.observed_agreement.value == pytest.approx(0.9)
    assert funding.ac1.value > 0.88 and funding.pairwise_kappa[0].kappa.value < 0


# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 observers x 12 units,
# nominal values 1-5, "." = missing. Unit 12 has one value only and drops out.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],  # observer A
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],  # observer B
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],  # observer C
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],  # observer D
]


def test_agreement_alpha_reproduces_krippendorff_2011_nominal_example() -> None:
    alpha = krippendorff_alpha_nominal(KRIPPENDORFF_2011)
    # Pairable values n = 40: n_1 = 9, n_2 = 13, n_3 = 10, n_4 = 5, n_5 = 3.
    # sum_{c != k} n_c n_k = 40^2 - (81 + 169 + 100 + 25 + 9) = 1600 - 384 = 1216.
    # Off-diagonal coincidences: unit 2 (2,2,3,2): 6 ordered pairs / 3 = 2; unit 6 (1,2,3,4): 12 / 3 = 4;
    # unit 8 (1,1,2,1): 6 / 3 = 2; total 8.  alpha = 1 - 39 * 8 / 1216 = 1 - 312/1216 = 0.743
    assert alpha.value == pytest.approx(1 - 312 / 1216)
    assert round(alpha.value, 3) == 0.743
    assert alpha.n_items == 11


def test_agreement_alpha_reproduces_the_three_coder_example_with_many_gaps() -> None:
    # The 3 coders x 15 units example of Krippendorff's alpha's Wikipedia article (nominal alpha 0.691).
    data = [
        [N, N, N, N, N, 3, 4, 1, 2, 1, 1, 3, 3, N, 3],
        [1, N, 2, 1, 3, 3, 4, 3, N, N, N, N, N, N, N],
        [N, N, 2, 1, 3, 4, 4, N, 2, 1, 1, 3, 3, N, 4],
    ]
    # Pairable: n = 26 (n_1 = 7, n_2 = 4, n_3 = 10, n_4 = 5): 26^2 - (49 + 16 + 100 + 25) = 486.
    # Off-diagonal: unit 6 (3,3,4) 4/2 = 2; unit 8 (1,3) 2; unit 15 (3,4) 2; total 6.
    # alpha = 1 - 25 * 6 / 486 = 1 - 150/486 = 0.691
    assert krippendorff_alpha_nominal(data).value == pytest.approx(1 - 150 / 486)


def test_agreement_ac1_and_percent_agreement_on_the_krippendorff_data_with_missing_ratings() -> None:
    # p_a over the 11 units with 2+ ratings: units 2 and 8 (3 of 4 agree) give 3*2/(4*3) = .5, unit 6 gives 0,
    # the other 8 give 1: p_a = 9/11.
    # pi_k over all 12 rated units (r_ik / r_i averaged): pi = (3, 3.25, 3.5, 1.25, 1) / 12 for values 1..5.
    # p_e = sum pi (1 - pi) / (q - 1), q = 5.
    pi = np.array([3, 3.25, 3.5, 1.25, 1]) / 12
    p_e = float((pi * (1 - pi)).sum() / 4)  # = 0.19034
    assert observed_agreement(KRIPPENDORFF_2011).value == pytest.approx(9 / 11)
    ac1 = gwet_ac1(KRIPPENDORFF_2011)
    assert ac1.value == pytest.approx((9 / 11 - p_e) / (1 - p_e))
    assert round(ac1.value, 4) == 0.7754  # also the value Gwet's irrCAC gives for this data (cac.raw4raters)


def _alpha_brute_force(matrix: list[list[int | None]]) -> float | None:
    """Krippendorff's definition read literally: every ordered pair of values, no coincidence matrix."""
    units = [[v for v in column if v is not None] for column in zip(*matrix)]
    units = [u for u in units if len(u) >= 2]
    values = [v for u in units for v in u]
    n = len(values)
    if n == 0:
        return None
    observed = sum(sum(a != b for a, b in permutations(u, 2)) / (len(u) - 1) for u in units) / n
    expected = sum(a != b for a, b in permutations(values, 2)) / (n * (n - 1))
    return None if expected == 0 else 1 - observed / expected


def test_agreement_alpha_matches_a_brute_force_reading_of_the_definition_on_random_data() -> None:
    rng = np.random.default_rng(20240501)
    for _ in range(60):
        coders, units, categories = rng.integers(2, 5), rng.integers(3, 15), rng.integers(2, 4)
        values = rng.integers(0, categories, size=(coders, units))
        missing = rng.random((coders, units)) < 0.3
        matrix = [[None if missing[c, u] else int(values[c, u]) for u in range(units)] for c in range(coders)]
        expected = _alpha_brute_force(matrix)
        got = krippendorff_alpha_nominal(matrix)
        if expected is None:
            assert got.value is None and got.reason
        else:
            assert got.value == pytest.approx(expected)


def test_agreement_cohen_kappa_matches_sklearn_on_random_pairs_with_missing_codes() -> None:
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(200):
        n, k = int(rng.integers(5, 60)), int(rng.integers(2, 5))
        a = rng.integers(0, k, n)
        b = np.where(rng.random(n) < 0.6, a, rng.integers(0, k, n))  # correlated, like real coders
        gaps_a, gaps_b = rng.random(n) < 0.15, rng.random(n) < 0.15
        coded_a = [N if gap else int(v) for v, gap in zip(a, gaps_a)]
        coded_b = [N if gap else int(v) for v, gap in zip(b, gaps_b)]
        ours = cohen_kappa(coded_a, coded_b)
        both = ~gaps_a & ~gaps_b
        if len(set(a[both])) == 1 and set(a[both]) == set(b[both]):
            assert ours.value is None  # sklearn gives nan here; we say why instead
            continue
        assert ours.n_items == int(both.sum())
        assert ours.value == pytest.approx(cohen_kappa_score(a[both], b[both]))
        checked += 1
    assert checked > 150


def test_agreement_two_rater_ac1_matches_gwets_two_rater_formula_on_random_data() -> None:
    rng = np.random.default_rng(11)
    for _ in range(100):
        n = int(rng.integers(4, 40))
        a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
        p_a = float((a == b).mean())
        pi_1 = (a.mean() + b.mean()) / 2  # Gwet (2008) two raters: pi_k = (p_Ak + p_Bk) / 2
        p_e = 2 * pi_1 * (1 - pi_1)
        assert gwet_ac1([a.tolist(), b.tolist()], (0, 1)).value == pytest.approx((p_a - p_e) / (1 - p_e))


def test_agreement_a_coder_who_has_not_coded_an_answer_is_missing_not_a_no() -> None:
    sets = {1: {"funding"}, 2: {"funding", "time"}, 3: set(), 4: {"time"}}
    records = _codes("ann", sets) + _codes("bryn", sets) + _codes("cerys", {1: {"funding"}})
    summary = summarise_agreement(records, QUESTIONS)
    funding = summary.theme("funding")
    # Had cerys's gaps counted as "no funding", answer 2 would be a disagreement. They are missing:
    assert funding.alpha.value == 1.0 and funding.ac1.value == 1.0 and funding.observed_agreement.value == 1.0
    kappas = {(p.coder_a, p.coder_b): p.kappa for p in funding.pairwise_kappa}
    assert kappas[("ann", "bryn")].value == 1.0 and kappas[("ann", "bryn")].n_items == 4
    # ann-cerys share answer 1 only, both "yes": kappa is 0/0 and says so
    assert kappas[("ann", "cerys")].value is None and kappas[("ann", "cerys")].n_items == 1
    assert funding.prevalence.value == 5 / 9  # ann 2 + bryn 2 + cerys 1 applied, of 4 + 4 + 1 coded

    view = binary_view(records, QUESTIONS, "funding")
    assert view.coders == ("ann", "bryn", "cerys")
    assert view.matrix == ((1, 1, 0, 0), (1, 1, 0, 0), (1, N, N, N))


def test_agreement_single_coder_and_coders_without_overlap_are_undefined_with_reasons() -> None:
    alone = summarise_agreement(_codes("ann", {1: {"funding"}, 2: set()}), QUESTIONS).theme("funding")
    assert alone.pairwise_kappa == ()
    assert alone.mean_kappa.value is None
    assert alone.alpha.reason == alone.ac1.reason == "no unit was coded by two or more coders"
    assert alone.prevalence.value == 0.5 and alone.n_items == 0 and alone.n_coded == 2

    apart = summarise_agreement(_codes("ann", {1: {"funding"}}) + _codes("bryn", {2: {"funding"}}), QUESTIONS)
    kappa = apart.theme("funding").pairwise_kappa[0].kappa
    assert kappa.value is None and kappa.reason == "no unit was coded by both coders"


def test_agreement_summary_is_json_serialisable() -> None:
    records = _codes("ann", {1: {"funding"}, 2: {"time"}}) + _codes("bryn", {1: {"funding"}, 2: set()})
    data = json.loads(json.dumps(summarise_agreement(records, QUESTIONS).to_dict()))
    funding = next(t for t in data["themes"] if t["theme"] == "funding")
    assert funding["alpha"] == {"value": 1.0, "n_items": 2, "reason": None}
    assert data["coders"] == ["ann", "bryn"]
    assert data["overall"]["pairwise_kappa"][0]["coder_a"] == "ann"


def test_agreement_bad_records_are_all_reported_by_position_with_what_was_expected() -> None:
    records = [
        CodingRecord(1, "ann", frozenset({"funding"}), "barriers"),
        CodingRecord(1, "bryn", frozenset({"leadership"}), "barriers"),
        CodingRecord(2, "ann", frozenset(), "barriers"),
        CodingRecord(2, "ann", frozenset({"time"}), "barriers"),
        CodingRecord(3, "ann", frozenset(), "no_such_question"),
    ]
    with pytest.raises(AgreementError) as caught:
        summarise_agreement(records, QUESTIONS)
    message = caught.value.message
    assert caught.value.code == "CW711"
    assert "3 unusable coding record(s)" in message
    assert "records[1] (answer 1, coder 'bryn'): theme(s) leadership are not themes of question 'barriers'" in message
    assert "expected some of funding, engagement, clarity, time, bureaucracy" in message
    assert "records[3]" in message and "already has a theme set" in message
    assert "records[4]" in message and "unknown question 'no_such_question'" in message

    with pytest.raises(AgreementError, match="row 1 .* has 2 values; expected 3"):
        krippendorff_alpha_nominal([[1, 0, 1], [1, 0]])


def test_agreement_disagreement_queue_names_who_applied_what() -> None:
    records = (
        _codes("ann", {1: {"funding"}, 2: {"funding", "time"}, 3: {"clarity"}})
        + _codes("bryn", {1: {"funding"}, 2: {"funding"}})
        + _codes("cerys", {1: {"funding"}, 2: {"funding", "clarity"}})
        + _codes("ann", {4: {"leadership"}}, "enablers")
        + _codes("bryn", {4: set()}, "enablers")
    )
    queue = find_disagreements(records, QUESTIONS)
    # answer 1: all agree; answer 3: ann alone -> nothing to settle
    assert [d.answer_id for d in queue] == [2, 4]
    second = queue[0]
    assert second.coders == ("ann", "bryn", "cerys")
    assert second.agreed_themes == ("funding",)
    assert [(s.theme, s.applied_by, s.not_applied_by) for s in second.splits] == [
        ("clarity", ("cerys",), ("ann", "bryn")),  # codebook order: clarity before time
        ("time", ("ann",), ("bryn", "cerys")),
    ]
    fourth = queue[1]
    assert fourth.question_id == "enablers"
    assert fourth.splits[0].to_dict() == {"theme": "leadership", "applied_by": ("ann",), "not_applied_by": ("bryn",)}


def test_agreement_machine_as_one_more_coder_precision_recall_and_kappa() -> None:
    gold = {1: {"funding"}, 2: {"funding", "time"}, 3: {"time"}, 4: set(), 5: {"funding"}, 6: {"bureaucracy"}}
    machine = {1: {"funding"}, 2: {"funding"}, 3: {"funding", "time"}, 4: {"time"}, 5: set(), 6: {"bureaucracy"}}
    humans = _codes("ann", gold) + _codes("bryn", {1: {"funding"}, 2: {"funding"}, 3: {"time"}})
    result = machine_vs_humans(humans, _codes("machine", machine), QUESTIONS, _codes("panel", gold))

    funding = result.theme("funding")
    # vs gold: TP answers 1,2; FP answer 3; FN answer 5 -> P = 2/3, R = 2/3, F1 = 2*2/(2*2+1+1) = 2/3
    counts = funding.vs_gold.true_positives, funding.vs_gold.false_positives, funding.vs_gold.false_negatives
    assert counts == (2, 1, 1)
    assert funding.vs_gold.precision.value == pytest.approx(2 / 3)
    assert funding.vs_gold.recall.value == pytest.approx(2 / 3)
    assert funding.vs_gold.f1.value == pytest.approx(2 / 3)
    # kappa vs gold: machine 1,1,1,0,0,0 / gold 1,1,0,0,1,0: p_o = 4/6; both .5 yes -> p_e = .5;
    # kappa = (2/3 - .5)/.5 = 1/3; AC1: pi = .5 -> p_e = .5 -> 1/3
    assert funding.vs_gold.kappa.value == pytest.approx(1 / 3)
    assert funding.vs_gold.ac1.value == pytest.approx(1 / 3)
    vs = {c.coder: c for c in funding.vs_coders}
    assert vs["ann"].kappa.value == pytest.approx(1 / 3)  # ann coded exactly the gold
    # bryn coded answers 1-3 only: machine 1,1,1 / bryn 1,1,0: p_o = 2/3, p_e = 1*2/3 + 0*1/3 = 2/3 -> 0
    assert vs["bryn"].n_items == 3
    assert vs["bryn"].kappa.value == pytest.approx(0.0, abs=1e-12)

    time = result.theme("time").vs_gold
    # TP answer 3, FP answer 4, FN answer 2 -> P = R = F1 = 1/2
    assert (time.precision.value, time.recall.value, time.f1.value) == (0.5, 0.5, 0.5)
    engagement = result.theme("engagement").vs_gold
    assert engagement.precision.value is None and "never suggested" in engagement.precision.reason
    assert engagement.f1.value is None

    # micro: TP 2+1+1 = 4, FP 1+1 = 2, FN 1+1 = 2 -> P = R = 4/6, F1 = 8/12
    assert result.overall_vs_gold.precision.value == pytest.approx(2 / 3)
    assert result.overall_vs_gold.recall.value == pytest.approx(2 / 3)
    assert result.overall_vs_gold.f1.value == pytest.approx(2 / 3)
    # macro over the 3 themes where defined (funding 2/3, time 1/2, bureaucracy 1): (2/3 + 1/2 + 1)/3 = 13/18
    assert result.macro_precision.value == pytest.approx(13 / 18) and result.macro_precision.n_items == 3
    assert result.macro_f1.value == pytest.approx(13 / 18)
    json.dumps(result.to_dict())


def test_agreement_machine_name_may_not_be_a_humans_name() -> None:
    with pytest.raises(AgreementError, match="also a human coder's name"):
        machine_vs_humans(_codes("ann", {1: set()}), _codes("ann", {1: set()}), QUESTIONS)
