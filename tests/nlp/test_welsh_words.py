"""The Welsh dictionary's one question: is this an ordinary Welsh word, in any of its forms?"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from nlp.welsh_words import WelshWords, bundled_welsh_words, lookup_form


@pytest.mark.parametrize(
    "word",
    ["Llwyth", "gwaith", "waith", "Gwasanaethau", "cyfarfodydd", "Gormod", "brin", "Trafodaethau'n", "perthynas"],
)
def test_ordinary_welsh_words_in_any_form_are_words(word: str) -> None:
    """Mutated ("waith" from "gwaith", "brin" from "prin"), plural, capitalised or with a clitic."""
    assert bundled_welsh_words().is_word(word)


@pytest.mark.parametrize("word", ["Lleucu", "Dafydd", "Caerdydd", "Sarah", "funding", "Prys-Jones", "GMS", ""])
def test_names_and_non_welsh_words_are_not_words(word: str) -> None:
    """The dictionary spells names with a capital, so their lower-case form is not a word."""
    assert not bundled_welsh_words().is_word(word)


def test_clitics_are_left_off_before_asking() -> None:
    assert lookup_form("Trafodaethau'n") == "trafodaethau"
    assert lookup_form("gyda’r") == "gyda"
    assert lookup_form("O'Neill") == "o'neill"


def test_missing_dictionary_warns_once_and_knows_no_words(tmp_path: Path) -> None:
    missing = WelshWords(tmp_path / "cy_GB")
    with pytest.warns(RuntimeWarning, match="Welsh dictionary could not be read"):
        assert not missing.is_word("gwaith")
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        assert not missing.load()
        assert not missing.is_word("llwyth")
    assert again == []
