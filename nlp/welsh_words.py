"""Is this an ordinary Welsh word? So that a Welsh answer's opening word is not taken for a name.

Why: spaCy's English pipeline reads a capitalised Welsh word it does not know as a person, and an
English tagger calls it a proper noun. A Welsh answer opens with one as often as not
("Gwasanaethau cymdeithasol ddim yn dod", "Llwyth gwaith trwm", "Gormod o waith papur"), and the
answer lost the word that carries its theme to ``[PERSON]``. The codebook's own Welsh words are
guarded already (``Codebook.cue_words``); a dictionary guards the rest of the language.

Where the words come from: Bangor University's Welsh hunspell dictionary (hunspell-cy, LGPL-3.0,
shipped in ``nlp/data/hunspell_cy`` with its licence), read by ``spylls`` (pure Python). It knows
inflected and mutated forms ("waith" from "gwaith", "gwasanaethau") and spells proper names with
a capital ("Lleucu", "Dafydd", "Caerdydd"), so asking it about the lower-case form separates
ordinary words from names: "lleucu" is not a word, "llwyth" is.

Loading the dictionary takes about a second, so it is read once per ``WelshWords``, on first use
(an English answer never needs it; a server reads it at start-up with ``WelshWords.load``). Words
are looked up one by one (about 0.3 ms a word) and the answers remembered. When spylls or the files are missing, every answer is "not a
Welsh word", with one warning: de-identification then finds as many names as it did without this.
"""

from __future__ import annotations

import functools
import threading
import warnings
from pathlib import Path
from typing import Protocol

__all__ = ["BUNDLED_DICTIONARY", "WelshWords", "bundled_welsh_words", "lookup_form"]

#: ``cy_GB.aff`` and ``cy_GB.dic`` (hunspell-cy, Prifysgol Bangor and Troi; LGPL-3.0, see LICENCE there).
BUNDLED_DICTIONARY = Path(__file__).resolve().parent / "data" / "hunspell_cy" / "cy_GB"

#: Welsh clitics written onto the word before them ("gwaith'n", "i'r", "a'i"): not part of the word.
#: Typographic apostrophes are read as plain ones first.
_CLITICS = ("'n", "'r", "'i", "'u", "'w", "'m", "'th", "'ch")
_MAX_REMEMBERED = 50_000


class _Lookup(Protocol):
    def lookup(self, word: str) -> bool: ...


def lookup_form(word: str) -> str:
    """The form asked of the dictionary: lower case, with a trailing Welsh clitic left off."""
    lower = word.lower().replace("’", "'")
    for clitic in _CLITICS:
        if lower.endswith(clitic) and len(lower) > len(clitic) + 1:
            return lower[: -len(clitic)]
    return lower


class WelshWords:
    """Whether a word, written in lower case, is a word of the Welsh dictionary (thread-safe)."""

    def __init__(self, dictionary: Path = BUNDLED_DICTIONARY) -> None:
        self.dictionary = dictionary
        self._loaded: _Lookup | None = None
        self._unavailable = False
        self._lock = threading.Lock()
        self._known: dict[str, bool] = {}

    def _load(self) -> _Lookup | None:
        with self._lock:
            if self._loaded is None and not self._unavailable:
                try:
                    from spylls.hunspell import Dictionary

                    self._loaded = Dictionary.from_files(str(self.dictionary))
                except (ImportError, OSError) as exc:
                    self._unavailable = True
                    warnings.warn(
                        f"the Welsh dictionary could not be read ({exc}); a capitalised Welsh word opening "
                        "an answer may be taken for a name. Reinstall Clwstwr (it needs spylls and "
                        f"{self.dictionary}.aff/.dic).",
                        RuntimeWarning,
                        stacklevel=3,
                    )
            return self._loaded

    def load(self) -> bool:
        """Read the dictionary now rather than at the first Welsh answer (a server does this at
        start-up, so no reviewer waits for it); False when it cannot be read."""
        return self._load() is not None

    def is_word(self, word: str) -> bool:
        """True for an ordinary Welsh word in any of its forms ("Llwyth", "waith", "Gwasanaethau'n");
        False for names the dictionary spells with a capital ("Lleucu") and for non-words."""
        form = lookup_form(word)
        known = self._known.get(form)
        if known is not None:
            return known
        dictionary = self._load()
        found = bool(form) and form.isalpha() and dictionary is not None and bool(dictionary.lookup(form))
        if len(self._known) >= _MAX_REMEMBERED:
            self._known.clear()
        self._known[form] = found
        return found


@functools.cache
def bundled_welsh_words() -> WelshWords:
    """One reader of the bundled dictionary per process: the dictionary never changes once read."""
    return WelshWords()
