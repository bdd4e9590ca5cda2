"""Cue patterns: the fast form (substring pre-check, one word-boundary test per position) finds exactly
what the plain alternation of one look-behind/look-ahead group per keyword finds -- same matches,
same spans, same keyword for each -- so theme and outcome scores cannot move because of it."""

from __future__ import annotations

import pickle
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from corpora.codebook import load_codebook
from nlp.common_words import common_english_words
from nlp.cue_words import PREFIX_MIN_CHARS, CuePattern, compile_cues, welsh_initials

ROOT = Path(__file__).resolve().parents[2]


def plain_alternation(keywords: Sequence[str]) -> re.Pattern[str] | None:
    """The reference: the pattern as it was first written (one self-contained group per keyword),
    with one more such group for each Welsh mutated form of the keyword's first word (``k3m1`` is
    keyword 3's first mutated form)."""
    parts = []
    english = common_english_words()
    for i, keyword in enumerate(dict.fromkeys(k.lower().strip() for k in keywords if k.strip())):
        pieces = re.split(r"[\s-]+", keyword)
        radical, mutated = welsh_initials(pieces[0], english)
        for j, initial in enumerate((radical, *mutated) if mutated else (radical,)):
            spelt = [initial + pieces[0][len(radical):], *pieces[1:]]
            escaped = r"[\s-]*".join(re.escape(part) for part in spelt)
            body = escaped + (r"\w*" if len(keyword) >= PREFIX_MIN_CHARS and " " not in keyword else r"s?")
            if body.endswith(r"s\w*") and not keyword.endswith(("ss", "us", "is")) and len(keyword) > PREFIX_MIN_CHARS:
                body = body[: -len(r"s\w*")] + r"(?:s\w*)?"  # a plural cue word finds its singular too
            parts.append(f"(?P<k{i}m{j}>(?<![\\w]){body}(?![\\w]))")
    return re.compile("|".join(parts)) if parts else None


def found(pattern: re.Pattern[str] | None, text: str) -> list[tuple[int, int, str | None]]:
    """Matches as (start, end, keyword group), a mutated form counting as its keyword."""
    if pattern is None:
        return []
    return [(m.start(), m.end(), (m.lastgroup or "").split("m")[0]) for m in pattern.finditer(text.lower())]


def keyword_sets() -> list[tuple[str, ...]]:
    codebook = load_codebook()
    sets = [(*t.keywords, t.label) for t in codebook.themes_for(None)]
    sets += [tuple(o.keywords) for o in codebook.outcomes] + [tuple(h.keywords) for h in codebook.headings]
    sets += [
        ("time", "time pressure", "protected time"),  # a short keyword before a longer one sharing its start
        ("non-recurrent", "recurrent", "short term"),  # hyphen/space variants and a suffix of another
        ("-led", "GP-led", "  ", "ŵyn", "Cyllid"),  # a keyword starting with a separator; Welsh letters
        ("gwaith papur", "cyllideb", "amser", "llais", "rhanddeiliaid", "time"),  # Welsh mutations
        ("c++", "a.b", "(ref"),  # regex metacharacters, and a keyword that starts with punctuation
        ("cuts",),
    ]
    return sets


def sample_texts() -> list[str]:
    texts = []
    for name in ("corpora/sample/answers_barriers.yaml", "corpora/sample/answers_enablers.yaml",
                 "evaluation/data/holdout_answers.yaml"):
        texts += [a["text"] or "" for a in yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))["answers"]]
    tricky = [
        "", "Time-pressure and time pressure and timepressure; protected  time.", "NON RECURRENT non-recurrent",
        "nonrecurrent, recurrently, short-term, short  term", "cuts cutss cut's", "GP-led and -led and led",
        "Mae'r cyllid yn brin; ŵyn", "y gyllideb, ein nghyllideb, a chyllideb; o waith papur", "ein hamser", "c++ and a.b and axb (ref 12)", "funding\nfunded\tfundamental",
        "İstanbul time", "x" * 300 + " time",
    ]
    return texts + tricky + [t[i : i + 40] for t in texts[:40] for i in range(0, len(t), 11)]


def test_cue_words_fast_pattern_matches_the_plain_alternation_exactly() -> None:
    texts = sample_texts()
    compared = 0
    for keywords in keyword_sets():
        fast, reference = compile_cues(keywords), plain_alternation(keywords)
        for text in texts:
            want = found(reference, text)
            assert found(fast.pattern, text) == want, (keywords, text)
            assert fast.spans(text) == [(s, e) for s, e, _ in want], (keywords, text)
            assert fast.hits(text) == len({g for *_se, g in want}), (keywords, text)
            compared += 1
    assert compared > 20_000


def test_cue_words_plural_keyword_finds_the_singular_and_nothing_new_besides() -> None:
    """Codebooks list cue words in the plural ("relationships", "partners"); answers often use the
    singular ("a good working relationship")."""
    cue = compile_cues(["relationships", "partners", "process", "cuts", "status"])
    assert cue.hits("A good working relationship with the practices.") == 1
    assert cue.spans("relationship, relationships, relationship-building") == [(0, 12), (14, 27), (29, 41)]
    assert cue.hits("One partner, then partners and a partnership.") == 1
    assert cue.spans("partner partners partnership") == [(0, 7), (8, 16), (17, 28)]
    assert cue.hits("The processes, and the proces.") == 1  # "-ss" is not a plural ending
    assert cue.hits("Cuts to the budget, a cut here.") == 1  # too short to be a prefix cue either way
    assert cue.hits("The stat and the status.") == 1
    assert cue.hits("relationshipping or relations") == 0


def test_cue_words_welsh_keyword_finds_its_mutated_forms_and_english_ones_do_not_mutate() -> None:
    """Welsh mutates a word's first letters after certain words: "cyllideb" (budget) is "y
    gyllideb", "gwaith papur" (paperwork) is "gormod o waith papur", "amser" (time) is "ein hamser".
    Answers written that way lost the codebook's Welsh cue words."""
    cue = compile_cues(["cyllideb", "gwaith papur", "amser", "rhanddeiliaid", "time"])
    assert cue.hits("Toriadau i'r gyllideb bob blwyddyn.") == 1
    assert cue.hits("Gormod o waith papur.") == 1
    assert cue.hits("Does dim digon o'n hamser wedi'i ddiogelu.") == 1
    assert cue.hits("Cyfarfod gyda'r randdeiliaid.") == 1
    assert cue.hits("ein nghyllideb a chyllideb") == 1 and len(cue.spans("ein nghyllideb a chyllideb")) == 2
    # an everyday English cue word is not mutated: "time" does not find "dime" or "thime"
    assert cue.hits("Not a dime, thime or nhime.") == 0
    # only the radical's own forms: "c" never becomes "b", and the rest of the word must follow
    assert cue.hits("byllideb, gyllid") == 0


def test_cue_words_pre_check_never_hides_a_match() -> None:
    cue = compile_cues(["Non-recurrent", "budget"])
    assert cue.hits("All of it is NON RECURRENT.") == 1
    assert cue.hits("The Budget, the budgets and non-recurrent money.") == 2
    assert cue.hits("Nothing about money here.") == 0 and cue.spans("Nothing here.") == []


def test_cue_words_pattern_without_pre_check_still_counts() -> None:
    """A pattern unpickled from a model saved before the pre-check existed has no needles: it must
    still count, not report zero."""
    fresh = compile_cues(["funding", "budget"])
    old_style = CuePattern(fresh.keywords, fresh.pattern)
    assert old_style.needles == ()
    assert old_style.hits("funding and budget") == 2


def test_cue_words_no_keywords_match_nothing() -> None:
    cue = compile_cues(["", "  "])
    assert cue.pattern is None and cue.hits("anything") == 0 and cue.spans("anything") == []


@pytest.mark.slow
def test_cue_words_loaded_suggester_rebuilds_its_patterns(suggestion_service) -> None:
    """A saved suggester carries the patterns it was fitted with; loading it rebuilds them from their
    keywords (same matches, faster form), so an old artefact gets the fast path too."""
    suggester = suggestion_service.suggester
    state = suggester.__getstate__()
    state["_cues"] = [CuePattern(c.keywords, plain_alternation(c.keywords)) for c in state["_cues"]]
    loaded = pickle.loads(pickle.dumps(state))
    clone = type(suggester).__new__(type(suggester))
    clone.__setstate__(loaded)
    assert all(c.needles for c in clone._cues)
    assert [c.pattern.pattern for c in clone._cues] == [c.pattern.pattern for c in suggester._cues]
