"""Every fixed word of a letter, in English and Welsh, from ``letters/catalogue/<language>.yaml``.

Why a catalogue and not text in the templates: correspondence from NHS bodies in Wales falls under the
Welsh Language Standards, so the Welsh letter must say everything the English one says. Keeping all
fixed text as keyed data makes that checkable (same keys, same placeholders in both files) and lets a
translator work on one file without touching templates. The Welsh file carries its review ``status``:
until a translator approves it (name and date recorded), every Welsh or bilingual output shows a
bilingual "draft translation" notice.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from corpora.errors import CodebookError

__all__ = ["CATALOGUE_DIR", "CATALOGUE_LANGUAGES", "CatalogueLanguage", "MessageCatalogue", "MessageCatalogueError", "load_catalogue"]

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
CATALOGUE_LANGUAGES = ("en", "cy")
STATUSES = ("draft", "approved")
# The values a message may interpolate; anything else in braces is a typo in the catalogue.
PLACEHOLDERS = frozenset({"cluster", "date", "board", "rpb", "chair", "reviewing", "sppc"})
_SECTIONS = ("messages", "outcomes", "themes")


class MessageCatalogueError(CodebookError):
    """A catalogue file that is missing, malformed, or out of step with the other language.

    A kind of codebook error (both are the fixed vocabulary shipped as data, and both fail at load
    time naming the file and the key, before any letter is rendered), with its own code so a
    translator's broken edit is told apart from a broken codebook.
    """

    code = "CW630"


@dataclass(frozen=True)
class CatalogueLanguage:
    """One language's fixed text, with its translation status."""

    language: str
    status: str
    translator: str | None
    approved_on: date | None
    messages: Mapping[str, str]
    months: tuple[str, ...]
    outcomes: Mapping[str, str]
    themes: Mapping[str, str]

    @property
    def approved(self) -> bool:
        return self.status == "approved"


def _fields(template: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(template) if name is not None}


def _load_language(path: Path, language: str) -> CatalogueLanguage:
    where = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MessageCatalogueError(f"message catalogue {path} is missing") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MessageCatalogueError(f"{where}: not valid UTF-8 YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise MessageCatalogueError(f"{where}: expected a mapping with status, messages, months, outcomes, themes")
    if data.get("language") != language:
        raise MessageCatalogueError(f"{where}: field 'language' must be {language!r}, got {data.get('language')!r}")
    status = data.get("status")
    if status not in STATUSES:
        raise MessageCatalogueError(f"{where}: field 'status' must be one of {', '.join(STATUSES)}, got {status!r}")
    translator, approved_on = data.get("translator"), data.get("approved_on")
    if status == "approved" and language != "en":
        if not translator or not str(translator).strip():
            raise MessageCatalogueError(f"{where}: status 'approved' needs 'translator' (who approved the translation)")
        if not isinstance(approved_on, date):
            raise MessageCatalogueError(f"{where}: status 'approved' needs 'approved_on' as a date like 2025-04-01, got {approved_on!r}")
    sections: dict[str, dict[str, str]] = {}
    for section in _SECTIONS:
        entries = data.get(section)
        if not isinstance(entries, dict) or not entries:
            raise MessageCatalogueError(f"{where}: section '{section}' is missing or empty")
        for key, value in entries.items():
            if not isinstance(value, str) or not value.strip():
                raise MessageCatalogueError(f"{where}: {section}.{key} must be non-empty text")
            if section == "messages":
                unknown = _fields(value) - PLACEHOLDERS
                if unknown:
                    raise MessageCatalogueError(f"{where}: messages.{key} uses unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(PLACEHOLDERS)}")
        sections[section] = {str(k): " ".join(v.split()) for k, v in entries.items()}
    months = data.get("months")
    if not isinstance(months, list) or len(months) != 12 or not all(isinstance(m, str) and m.strip() for m in months):
        raise MessageCatalogueError(f"{where}: 'months' must list the twelve month names, January first")
    return CatalogueLanguage(
        language=language, status=status, translator=str(translator).strip() if translator else None,
        approved_on=approved_on if isinstance(approved_on, date) else None,
        messages=sections["messages"], months=tuple(months), outcomes=sections["outcomes"], themes=sections["themes"],
    )


class MessageCatalogue:
    """English and Welsh fixed text, checked to match key for key and placeholder for placeholder."""

    def __init__(self, languages: Mapping[str, CatalogueLanguage]) -> None:
        missing = [code for code in CATALOGUE_LANGUAGES if code not in languages]
        if missing:
            raise MessageCatalogueError(f"message catalogue: no {', '.join(missing)} file")
        self.languages = dict(languages)
        self._check_same_keys()

    def _check_same_keys(self) -> None:
        en = self.languages["en"]
        for code, lang in self.languages.items():
            if code == "en":
                continue
            for section in _SECTIONS:
                ours, theirs = getattr(en, section), getattr(lang, section)
                for key in ours:
                    if key not in theirs:
                        raise MessageCatalogueError(f"{code}.yaml: {section}.{key} is missing (en.yaml has it)")
                for key in theirs:
                    if key not in ours:
                        raise MessageCatalogueError(f"en.yaml: {section}.{key} is missing ({code}.yaml has it)")
            for key, text in en.messages.items():
                if _fields(text) != _fields(lang.messages[key]):
                    raise MessageCatalogueError(
                        f"{code}.yaml: messages.{key} uses placeholders {sorted(_fields(lang.messages[key]))}, "
                        f"en.yaml uses {sorted(_fields(text))}; they must match"
                    )

    @classmethod
    def load(cls, directory: Path | None = None) -> MessageCatalogue:
        """Load and check ``en.yaml`` and ``cy.yaml`` (default: the bundled catalogue)."""
        folder = Path(directory) if directory else CATALOGUE_DIR
        return cls({code: _load_language(folder / f"{code}.yaml", code) for code in CATALOGUE_LANGUAGES})

    def _lang(self, language: str) -> CatalogueLanguage:
        try:
            return self.languages[language]
        except KeyError:
            raise MessageCatalogueError(f"no message catalogue for language {language!r}; have {', '.join(self.languages)}") from None

    def text(self, language: str, key: str, **values: Any) -> str:
        """A message with its placeholders filled; a missing key is named, never printed as blank."""
        lang = self._lang(language)
        try:
            template = lang.messages[key]
        except KeyError:
            raise MessageCatalogueError(f"{language}.yaml: messages.{key} is missing") from None
        return template.format_map(values) if _fields(template) else template

    def messages(self, language: str, **values: Any) -> dict[str, str]:
        """Every message of a language, placeholders filled from ``values``."""
        return {key: self.text(language, key, **values) for key in self._lang(language).messages}

    def outcome_name(self, language: str, outcome_id: str) -> str:
        try:
            return self._lang(language).outcomes[outcome_id]
        except KeyError:
            raise MessageCatalogueError(f"{language}.yaml: outcomes.{outcome_id} is missing") from None

    def theme_label(self, language: str, theme_id: str) -> str:
        try:
            return self._lang(language).themes[theme_id]
        except KeyError:
            raise MessageCatalogueError(f"{language}.yaml: themes.{theme_id} is missing") from None

    def format_date(self, language: str, value: date) -> str:
        """``14 March 2025`` / ``14 Mawrth 2025``: the long form letters use in both languages."""
        return f"{value.day} {self._lang(language).months[value.month - 1]} {value.year}"

    def needs_draft_notice(self, language: str) -> bool:
        """Whether a document in ``language`` (``en``, ``cy`` or ``bilingual``) must carry the notice."""
        if language == "en":
            return False
        return not self._lang("cy").approved

    def draft_notice(self) -> str:
        """The notice in both languages, Welsh first: it must be understood whoever reads the letter."""
        return f"{self.text('cy', 'draft_notice')} / {self.text('en', 'draft_notice')}"

    def all_text(self) -> Iterator[str]:
        """Every fixed string of every language (what a rendered letter may contain besides its inputs)."""
        for lang in self.languages.values():
            for section in _SECTIONS:
                yield from getattr(lang, section).values()
            yield from lang.months


@functools.lru_cache(maxsize=1)
def _bundled() -> MessageCatalogue:
    return MessageCatalogue.load()


def load_catalogue(directory: Path | None = None) -> MessageCatalogue:
    """The bundled catalogue (cached: it is immutable data) or one from ``directory`` (read afresh)."""
    return MessageCatalogue.load(directory) if directory else _bundled()
