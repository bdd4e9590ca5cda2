"""The message catalogue: English and Welsh say the same things, and a broken file is named at load."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from corpora.codebook import Codebook
from letters.message_catalogue import CATALOGUE_DIR, MessageCatalogue, MessageCatalogueError, load_catalogue


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE_DIR, target)
    return target


def _edit(folder: Path, language: str, change) -> None:
    path = folder / f"{language}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_letter_catalogue_english_names_are_the_codebooks_and_welsh_covers_every_outcome_and_theme(codebook: Codebook) -> None:
    catalogue = load_catalogue()
    for outcome in codebook.outcomes:
        assert catalogue.outcome_name("en", outcome.id) == outcome.name
        assert catalogue.outcome_name("cy", outcome.id) != outcome.name
    for theme in codebook.themes_for(None):
        assert catalogue.theme_label("en", theme.id) == theme.label
        assert catalogue.theme_label("cy", theme.id)


def test_letter_catalogue_welsh_is_a_draft_until_a_translator_approves_it() -> None:
    catalogue = load_catalogue()
    assert catalogue.languages["cy"].status == "draft"
    assert catalogue.needs_draft_notice("cy") and catalogue.needs_draft_notice("bilingual")
    assert not catalogue.needs_draft_notice("en")


def test_letter_catalogue_welsh_uses_welsh_letters_and_months() -> None:
    welsh = load_catalogue().languages["cy"]
    text = " ".join([*welsh.messages.values(), *welsh.outcomes.values(), *welsh.themes.values()])
    for letter in ("ŵ", "â", "ô"):
        assert letter in text
    assert load_catalogue().format_date("cy", date(2025, 3, 14)) == "14 Mawrth 2025"
    assert not re.search(r"\b(?:the|and|of)\b", " ".join(welsh.messages.values()))  # no English left behind


def test_letter_catalogue_missing_welsh_key_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "cy", lambda d: d["messages"].pop("next_steps"))
    with pytest.raises(MessageCatalogueError, match=r"cy\.yaml: messages\.next_steps is missing") as caught:
        MessageCatalogue.load(folder)
    assert caught.value.code == "CW630"


def test_letter_catalogue_extra_welsh_key_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "cy", lambda d: d["themes"].__setitem__("nonsense", "Dim"))
    with pytest.raises(MessageCatalogueError, match=r"en\.yaml: themes\.nonsense is missing"):
        MessageCatalogue.load(folder)


def test_letter_catalogue_placeholders_must_match_between_languages(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "cy", lambda d: d["messages"].__setitem__("subject", "Adolygiad o glwstwr {cluster}"))
    with pytest.raises(MessageCatalogueError, match=r"messages\.subject uses placeholders \['cluster'\].*\['cluster', 'date'\]"):
        MessageCatalogue.load(folder)


def test_letter_catalogue_unknown_placeholder_is_a_typo(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "en", lambda d: d["messages"].__setitem__("greeting", "Dear {adressee},"))
    with pytest.raises(MessageCatalogueError, match=r"en\.yaml: messages\.greeting uses unknown placeholder"):
        MessageCatalogue.load(folder)


def test_letter_catalogue_approval_needs_translator_and_date_and_then_drops_the_notice(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder, "cy", lambda d: d.update(status="approved"))
    with pytest.raises(MessageCatalogueError, match="needs 'translator'"):
        MessageCatalogue.load(folder)
    _edit(folder, "cy", lambda d: d.update(status="approved", translator="Gwen Ellis", approved_on=date(2025, 4, 1)))
    approved = MessageCatalogue.load(folder)
    assert approved.languages["cy"].translator == "Gwen Ellis"
    assert not approved.needs_draft_notice("cy") and not approved.needs_draft_notice("bilingual")


def test_letter_catalogue_missing_file_and_unknown_key_are_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "cy.yaml").unlink()
    with pytest.raises(MessageCatalogueError, match="cy.yaml is missing"):
        MessageCatalogue.load(folder)
    with pytest.raises(MessageCatalogueError, match=r"en\.yaml: messages\.no_such_key is missing"):
        load_catalogue().text("en", "no_such_key")
