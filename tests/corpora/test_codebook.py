"""The codebook as shipped, and the loader's refusal of broken copies.

Broken-copy tests write the bundled YAML files to ``tmp_path``, change one thing by hand, and check
that loading fails with a message naming the file and the entry a person would have to fix.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from corpora.codebook import DATA_DIR, FILES, Codebook, load_codebook
from corpora.errors import ClwstwrError, CodebookError


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return load_codebook()


def broken_copy(tmp_path: Path, name: str, edit: Callable[[dict], None]) -> Path:
    """Copy every data file to ``tmp_path``, then apply ``edit`` to the parsed ``name`` and rewrite it."""
    for file in FILES:
        shutil.copy(DATA_DIR / file, tmp_path / file)
    doc = yaml.safe_load((tmp_path / name).read_text(encoding="utf-8"))
    edit(doc)
    (tmp_path / name).write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return tmp_path


# --- the shipped data ------------------------------------------------------------------------------


def test_codebook_has_13_pcmw_and_7_acd_outcomes_in_order(codebook: Codebook) -> None:
    assert [o.id for o in codebook.pcmw] == [f"pcmw-{n}" for n in range(1, 14)]
    assert [o.id for o in codebook.acd] == [f"acd-{n}" for n in range(1, 8)]
    assert len(codebook.outcomes) == 20


def test_codebook_outcome_names_match_the_framework(codebook: Codebook) -> None:
    assert codebook.outcome("pcmw-1").name == "An informed public"
    assert codebook.outcome("pcmw-7").name == "Quality out-of-hours care"
    assert codebook.outcome("pcmw-10").name == "Cluster estates & facilities support multi-professional working"
    assert codebook.outcome("acd-7").name == "Empowered clusters with increased autonomy, flexibility and vision"
    assert codebook.outcome("pcmw-7").label == "PCMW 7: Quality out-of-hours care"
    assert codebook.outcome("acd-3").label.startswith("ACD 3: More effective leaders")


def test_codebook_outcome_aliases_cover_self_reflection_wording(codebook: Codebook) -> None:
    assert "Safe & quality out of hours care" in codebook.outcome("pcmw-7").aliases
    assert "Directly accesses services" in codebook.outcome("pcmw-8").aliases
    # Appendix 4 and 5 row labels, exactly as the Forms export heads its columns.
    assert "An Informed Public" in codebook.outcome("pcmw-1").aliases
    assert "Empowered clusters with increased autonomy, flexibility, and vision" in codebook.outcome("acd-7").aliases


def test_codebook_pcmw_carry_criteria_and_acd_success_criteria(codebook: Codebook) -> None:
    for outcome in codebook.pcmw:
        assert outcome.criteria is not None and outcome.success_criteria == ()
        assert outcome.criteria.foundation and outcome.criteria.developing and outcome.criteria.mature
    for outcome in codebook.acd:
        assert outcome.criteria is None and outcome.success_criteria
    assert "Cluster Lead in post" in codebook.outcome("pcmw-5").criteria.foundation
    assert len(codebook.outcome("pcmw-13").criteria.developing) == 6
    assert [len(o.success_criteria) for o in codebook.acd] == [4, 4, 3, 2, 2, 2, 2]


def test_codebook_theme_ids_per_question_are_the_contract(codebook: Codebook) -> None:
    assert {q.id: [t.id for t in q.themes] for q in codebook.questions} == {
        "barriers": ["funding", "engagement", "clarity", "time", "bureaucracy"],
        "impact_of_barriers": ["stalled_progress", "staff_morale", "patient_impact"],
        "overcoming_barriers": ["not_overcome", "relationships_and_trust", "partner_engagement", "wider_system_support"],
        "enablers": ["ways_of_working", "relationships", "leadership", "external_engagement", "individuals"],
        "impact_of_enablers": ["innovation_and_progress", "joint_working", "better_patient_care"],
        "what_would_help": [
            "autonomy",
            "reduced_bureaucracy",
            "sustainable_resources",
            "established_ways_of_working",
            "stronger_cluster_role",
        ],
    }
    assert [q.kind for q in codebook.questions] == [
        "barrier",
        "barrier_impact",
        "overcoming",
        "enabler",
        "enabler_impact",
        "support_needed",
    ]


def test_codebook_themes_for_barrier_returns_five_barrier_themes_in_order(codebook: Codebook) -> None:
    themes = codebook.themes_for("barrier")
    assert [t.id for t in themes] == ["funding", "engagement", "clarity", "time", "bureaucracy"]
    assert [t.label for t in themes][2:4] == ["Lack of clarity", "Lack of time"]
    assert all(t.question_id == "barriers" for t in themes)
    assert codebook.themes_for("barriers") == themes  # a question id works as well as a kind


def test_codebook_themes_for_none_returns_all_25_themes(codebook: Codebook) -> None:
    themes = codebook.themes_for()
    assert len(themes) == 25
    assert themes[0].id == "funding" and themes[-1].id == "stronger_cluster_role"
    assert codebook.theme("individuals").label == "The value of individuals"


def test_codebook_every_theme_has_examples_none_shared(codebook: Codebook) -> None:
    seen: dict[str, str] = {}
    for theme in codebook.themes_for():
        assert len(theme.examples) >= 8, theme.id
        assert theme.definition
        for example in theme.examples:
            key = " ".join(example.casefold().split())
            assert key not in seen, f"{example!r} under {theme.id} and {seen.get(key)}"
            seen[key] = theme.id


def test_codebook_maturity_statements_are_distinct_and_exact(codebook: Codebook) -> None:
    levels = codebook.maturity_levels
    assert [(m.id, m.rank) for m in levels] == [("pre_foundation", 0), ("foundation", 1), ("developing", 2), ("mature", 3)]
    assert len({m.statement_pcmw for m in levels}) == 4
    assert len({m.statement_acd for m in levels}) == 4
    assert codebook.level("developing").statement_pcmw == (
        "The cluster are / have developed plans and processes and can demonstrate progress in this area of work."
    )
    assert codebook.level("pre_foundation").statement_acd == "The cluster are not aware that progress has been made."
    assert codebook.level("pre_foundation").label == "Pre-foundation"


def test_codebook_team_stages_in_tuckman_order(codebook: Codebook) -> None:
    assert [s.id for s in codebook.team_stages] == ["forming", "storming", "norming", "performing"]
    assert codebook.team_stage("norming").rank == 2
    assert "Cluster members feel respected and trusted by others." in codebook.team_stage("norming").cluster_examples


def test_codebook_health_boards_and_rpbs(codebook: Codebook) -> None:
    assert [b.id for b in codebook.health_boards] == ["abuhb", "bcuhb", "cavuhb", "ctmuhb", "hduhb", "pthb", "sbuhb"]
    abuhb = codebook.health_board("abuhb")
    assert abuhb.welsh_name == "Bwrdd Iechyd Prifysgol Aneurin Bevan"
    assert abuhb.rpb.id == "gwent" and "ABUHB" in abuhb.aliases
    assert codebook.health_board("sbuhb").rpb.name == "West Glamorgan Regional Partnership Board"
    assert codebook.health_board("hduhb").rpb.name == "West Wales Regional Partnership Board"
    assert codebook.health_board("pthb").name == "Powys Teaching Health Board"


def test_codebook_headings_include_both_reports(codebook: Codebook) -> None:
    labels = {h.label for h in codebook.headings}
    assert "Shifting resources to primary care" in labels
    assert "Developing the evaluation of the Primary Care Model for Wales" in labels
    assert "Involving the public" in labels  # peer-review report only
    assert codebook.headings[0].sources == ("peer_review_2022_23", "self_reflection_2024")


def test_codebook_version_is_declared_plus_content_hash(codebook: Codebook, tmp_path: Path) -> None:
    declared, digest = codebook.version.split("+")
    assert declared == "2024.1" and len(digest) == 8
    edited = broken_copy(tmp_path, "questions.yaml", lambda doc: doc["questions"][0].update(label="Barriers (edited)"))
    assert load_codebook(edited).version != codebook.version


def test_codebook_default_load_is_cached() -> None:
    assert load_codebook() is load_codebook()


def test_codebook_is_immutable(codebook: Codebook) -> None:
    with pytest.raises(AttributeError):
        codebook.outcome("pcmw-1").name = "changed"  # type: ignore[misc]


# --- lookups -----------------------------------------------------------------------------------------


def test_codebook_unknown_outcome_lists_valid_ids(codebook: Codebook) -> None:
    with pytest.raises(CodebookError) as info:
        codebook.outcome("pcmw-14")
    message = str(info.value)
    assert "'pcmw-14'" in message and "pcmw-1, pcmw-2" in message and "acd-7" in message
    assert info.value.code == "CW100"
    assert isinstance(info.value, ClwstwrError)


def test_codebook_unknown_kind_lists_ids_and_kinds(codebook: Codebook) -> None:
    with pytest.raises(CodebookError, match=r"'barier'.*barriers.*support_needed"):
        codebook.themes_for("barier")


@pytest.mark.parametrize(
    ("lookup", "bad", "valid"),
    [
        ("theme", "money", "funding"),
        ("level", "advanced", "pre_foundation"),
        ("team_stage", "adjourning", "performing"),
        ("health_board", "nhs", "sbuhb"),
    ],
)
def test_codebook_unknown_ids_raise_naming_valid_ones(codebook: Codebook, lookup: str, bad: str, valid: str) -> None:
    with pytest.raises(CodebookError, match=rf"'{bad}'.*{valid}"):
        getattr(codebook, lookup)(bad)


# --- broken copies ------------------------------------------------------------------------------------


def test_codebook_missing_field_names_file_and_entry(tmp_path: Path) -> None:
    directory = broken_copy(tmp_path, "outcomes.yaml", lambda doc: doc["pcmw"][3].pop("name"))
    with pytest.raises(CodebookError) as info:
        load_codebook(directory)
    assert str(info.value) == "outcomes.yaml: pcmw[3] (id 'pcmw-4'): missing field 'name'"


def test_codebook_duplicate_outcome_id_is_refused(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["acd"][1]["id"] = "acd-1"

    with pytest.raises(CodebookError, match=r"^outcomes\.yaml: acd\[1\] \(id 'acd-1'\): duplicate outcome id 'acd-1'"):
        load_codebook(broken_copy(tmp_path, "outcomes.yaml", edit))


def test_codebook_duplicate_theme_id_across_questions_is_refused(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["questions"][5]["themes"][1]["id"] = "bureaucracy"

    with pytest.raises(CodebookError) as info:
        load_codebook(broken_copy(tmp_path, "questions.yaml", edit))
    message = str(info.value)
    assert message.startswith(
        "questions.yaml: questions[5] (id 'what_would_help').themes[1] (id 'bureaucracy'): duplicate theme id 'bureaucracy'"
    )
    assert "already used at questions[0] (id 'barriers').themes[4] (id 'bureaucracy')" in message  # where it was first used


def test_codebook_wrong_outcome_count_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match=r"^outcomes\.yaml: pcmw: expected exactly 13 PCMW outcomes, found 12$"):
        load_codebook(broken_copy(tmp_path, "outcomes.yaml", lambda doc: doc["pcmw"].pop()))


def test_codebook_wrong_board_count_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match=r"^health_boards\.yaml: boards: expected exactly 7 health boards, found 6$"):
        load_codebook(broken_copy(tmp_path, "health_boards.yaml", lambda doc: doc["boards"].pop()))


def test_codebook_example_repeated_across_themes_is_refused(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        first = doc["questions"][0]["themes"][0]["examples"][1]
        doc["questions"][3]["themes"][2]["examples"].append("  " + first.upper())

    with pytest.raises(CodebookError) as info:
        load_codebook(broken_copy(tmp_path, "questions.yaml", edit))
    message = str(info.value)
    assert message.startswith("questions.yaml: questions[3] (id 'enablers').themes[2] (id 'leadership'): duplicate example")
    assert "already used at questions[0] (id 'barriers').themes[0] (id 'funding')" in message


def test_codebook_too_few_examples_is_refused(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["questions"][1]["themes"][0]["examples"] = ["Stalled.", "Stopped."]

    with pytest.raises(CodebookError, match=r"themes\[0\] \(id 'stalled_progress'\): field 'examples' needs at least 3"):
        load_codebook(broken_copy(tmp_path, "questions.yaml", edit))


def test_codebook_empty_definition_is_refused(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["questions"][4]["themes"][1]["definition"] = "   "

    with pytest.raises(CodebookError, match=r"\(id 'joint_working'\): field 'definition' is empty"):
        load_codebook(broken_copy(tmp_path, "questions.yaml", edit))


def test_codebook_renamed_question_kind_is_refused(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["questions"][3]["kind"] = "enablers"

    with pytest.raises(CodebookError, match=r"questions\[3\] \(id 'enablers'\): field 'kind' is 'enablers', expected 'enabler'"):
        load_codebook(broken_copy(tmp_path, "questions.yaml", edit))


def test_codebook_maturity_rank_out_of_order_is_refused(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["levels"][2]["rank"] = 5

    with pytest.raises(CodebookError, match=r"^maturity_levels\.yaml: levels\[2\] \(id 'developing'\): field 'rank' is 5, expected 2"):
        load_codebook(broken_copy(tmp_path, "maturity_levels.yaml", edit))


def test_codebook_wrong_type_and_bad_id_pattern_are_refused(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["pcmw"][0]["number"] = "one"

    with pytest.raises(CodebookError, match=r"pcmw\[0\] \(id 'pcmw-1'\): field 'number' must be a whole number"):
        load_codebook(broken_copy(tmp_path, "outcomes.yaml", edit))

    def edit_id(doc: dict) -> None:
        doc["acd"][0]["id"] = "ACD1"

    with pytest.raises(CodebookError, match=r"acd\[0\] \(id 'ACD1'\): field 'id' is 'ACD1', expected 'acd-<number>'"):
        load_codebook(broken_copy(tmp_path, "outcomes.yaml", edit_id))


def test_codebook_unknown_field_is_refused(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["boards"][2]["alias"] = ["Cardiff"]

    with pytest.raises(CodebookError, match=r"boards\[2\] \(id 'cavuhb'\): unknown field 'alias'"):
        load_codebook(broken_copy(tmp_path, "health_boards.yaml", edit))


def test_codebook_missing_file_and_bad_yaml_name_the_file(tmp_path: Path) -> None:
    broken_copy(tmp_path, "team_stages.yaml", lambda doc: None)
    (tmp_path / "team_stages.yaml").write_text("stages: [unclosed\n", encoding="utf-8")
    with pytest.raises(CodebookError, match=r"^team_stages\.yaml: not valid YAML at line \d+"):
        load_codebook(tmp_path)
    (tmp_path / "team_stages.yaml").unlink()
    with pytest.raises(CodebookError, match=r"^team_stages\.yaml: file not found"):
        load_codebook(tmp_path)
