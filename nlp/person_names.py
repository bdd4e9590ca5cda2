"""Finding people's names without trusting any one source.

Each source is a pure function over the text; offsets are ``str`` indices of the text as given.

* spaCy's PERSON entities and proper-noun runs, cleaned (``clean_ner_person``): ``en_core_web_sm``
  is trained on English news; it tags "Cluster Lead" as a person and misses most Welsh given names
  ("Rhodri" comes back as LOC, "Siân Prys-Jones" as ORG). Spans are trimmed of words that are
  never part of a name (``NOT_NAME``) and dropped inside health-board names ("Hywel Dda").
* titles ("Dr", "Mrs", "Nurse", "Cllr" ...) followed by capitalised words (``find_titled_names``).
* a built-in list of given names, Welsh first, extended over the capitalised words that follow
  ("Ffion ap Iorwerth", "Siân Prys-Jones") (``find_listed_names``): this catches Welsh names
  with a blank pipeline or when the model misses them.
* cue words (``find_cued_names``): "X said", "contact X", "spoke to X", "Action: X to ...",
  "The chair, X"; and "X and Y" next to a name already found (``find_coordinated_names``).

Names never match lower case: "gwyn" (white), "bryn" (hill) and "glyn" (valley) are Welsh words.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable

from nlp.identifier_patterns import Span

__all__ = [
    "clean_ner_person",
    "find_coordinated_names",
    "find_cued_names",
    "find_listed_names",
    "find_protected",
    "find_titled_names",
    "candidate_words",
    "is_name_word",
    "word_spans",
]

TITLES = frozenset(
    "dr mr mrs ms miss mx prof professor nurse cllr councillor sister sir dame rev revd".split()
)

# Lowercase particles inside a name: "Ffion ap Iorwerth", "Siôn ab Owain", "Nest ferch Rhys".
_PARTICLES = frozenset("ap ab ferch verch van von de der le la".split())

# Capitalised words that are never part of a person's name in this domain: roles, organisation
# words, calendar words, and English and Welsh words that start sentences (closed-class words and
# sentence adverbs; not "will", "may", "grace" or other words that are also given names).
NOT_NAME = frozenset(
    """
    dr mr mrs ms miss mx prof professor nurse cllr councillor sister sir dame rev revd doctor
    cluster clusters lead leads manager managers practice practices pharmacist pharmacists
    practitioner practitioners physiotherapist paramedic paramedics prescriber director chair
    vice deputy head officer coordinator co-ordinator facilitator gp gps partner partners
    consultant therapist worker workers team teams group groups board boards health university
    care primary community services service programme collaborative collaboratives professional
    network plan planning hub centre surgery medical clinical wellbeing well-being social council
    county borough trust government wales welsh cymru nhs uhb rpb sppc pcmw acd imtp heiw dhcw phw
    ooh peer review reviewer reviewers panel meeting minutes notes note action actions agreed owner
    timescale update postcode address email e-mail tel phone mobile contact name date ref reference
    ring call ffoniwch cysylltwch referral referrals referred forms form pharmacy first excel teams
    optometrist optometry dentist dental audiology receptionist chief executive executives
    bureaucracy governance funding finance money resources engagement clarity leadership relationships
    workforce recruitment retention capacity time morale communication collaboration covid pandemic
    estates digital sustainability accountability
    administrator admin secretary commissioner minister regional partnership strategic national
    monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december spring summer autumn winter q1 q2 q3 q4
    the a an we our ours they their them this that these those it its in on at for from with and
    but or if when thanks thank also all some many most no yes not overall however both each every
    as by to of after before during since until please dear hi hello regards kind best he she his
    her there here what which who how why where while our us one two three new more less further
    mae roedd bydd mi fe y yr yn ar gyda diolch i o ac ond hefyd dyma nid dydy rydym rydyn ein eu
    ei fy dy clwstwr bwrdd iechyd meddyg meddygfa nyrs arweinydd rheolwr gofal sylfaenol cymuned
    cyngor prifysgol cymraeg saesneg gan am wedi bod nad os pan mewn trwy gwaith tîm grŵp
    my me you your himself herself itself ourselves themselves over under above below about across
    against among around between through within without into onto upon via per so nor yet though
    although because unless whereas whether than then now just only already again still even
    perhaps maybe none nothing something anything everything someone anyone everyone nobody
    somebody anybody everybody any much few several such other another either neither own same is
    are was were be been being have has had do does did can could would should must might shall
    honestly mostly generally currently recently unfortunately sometimes often usually really
    definitely probably certainly clearly finally initially additionally similarly obviously
    ultimately basically essentially personally frankly fortunately sadly actually especially
    particularly largely partly partially mainly slightly very too quite rather fairly almost
    yeah ok okay well second third last next lastly firstly secondly thirdly four five six seven
    eight nine ten
    """.split()
)

# Names that are also names of health boards, commissions or programmes: not people here.
_PROTECTED = re.compile(
    r"\b(?:Hywel\s+Dda|Aneurin\s+Bevan|Betsi\s+Cadwaladr|Cwm\s+Taf(?:\s+Morgannwg)?|Swansea\s+Bay"
    r"|Cardiff\s+and\s+Vale|Powys\s+Teaching|Bevan\s+Commission|Public\s+Health\s+Wales"
    r"|Welsh\s+Government|Llywodraeth\s+Cymru|Iechyd\s+Cyhoeddus\s+Cymru|Healthier\s+Wales"
    r"|Cluster\s+Leads?|Health\s+Board|Llais|Dewi\s+Sant|G[ŵw]yl\s+Dewi)\b",
    re.IGNORECASE,
)

# Given names, Welsh first. Left out on purpose: names that are common words when capitalised at
# the start of a sentence in English or Welsh ("Non", "Will", "Grace", "Hope", "May", "Seren" is
# also a programme's name).
GIVEN_NAMES = frozenset(
    """
    Aled Alun Alwyn Alaw Aneurin Angharad Anwen Arwel Arwyn Awen Berwyn Bethan Bleddyn Branwen
    Bronwen Bryn Brynmor Cadi Cai Caradog Carwyn Carys Catrin Ceinwen Cerys Ceri Ceridwen Cledwyn
    Crisiant Cynan Dafydd Deiniol Delyth Dewi Dilys Dwynwen Dyfan Dyfrig Dylan Efa Eifion Eiddwen
    Eilir Eirian Eirlys Eirwen Elain Eleri Elen Elfed Elin Elis Eluned Elwyn Emlyn Emrys Emyr Endaf
    Enfys Eryl Esyllt Euros Ffion Ffraid Gareth Garmon Geraint Gerallt Gethin Glenys Glesni Glyn
    Goronwy Gruffudd Gruffydd Guto Gwawr Gwen Gwenan Gwenda Gwenllian Gwenno Gwilym Gwion Gwyn
    Gwyneth Gwynfor Hedd Hefin Heddwyn Heledd Heulwen Huw Hywel Idris Idwal Ieuan Iestyn Ifan Ifor
    Ioan Iolo Iorwerth Islwyn Ithel Llew Llewelyn Llywelyn Llinos Llion Llŷr Llyr Lona Lowri Mabon
    Macsen Madog Mair Mali Manon Mared Mari Meilyr Meinir Meirion Meleri Menna Meredydd Mererid
    Merfyn Morfudd Myfanwy Nanw Nefydd Nerys Nest Nia Olwen Osian Owain Owena Peredur Rhian
    Rhiannon Rhodri Rhun Rhydian Rhys Sali Siân Sian Siôn Sion Sioned Steffan Sulwen Taliesin Tegan
    Tegwen Teleri Tesni Tirion Tomos Trefor Tudur Twm Wyn Ynyr
    Alison Andrew Angela Anne Anthony Barbara Carol Catherine Charlotte Christine Claire Clare
    Daniel David Deborah Elizabeth Emma Gillian Hannah Helen Ian Jacqueline Jane Janet Jennifer
    Jessica Joanne Jonathan Julie Karen Katherine Kathryn Laura Lisa Louise Margaret Matthew
    Michael Nicola Paul Peter Rachel Rebecca Richard Robert Sarah Sharon Simon Stephen Steven
    Susan Thomas Timothy Victoria Alan Chris Christopher Claire Gary Graham Jason Kevin Lee Neil
    Nigel Philip Sandra Stuart Tracey Wendy Zoe Amanda Priya Mohammed Aisha Ravi Anil
    """.split()
)

# Surnames common in Wales. Used only to pull a preceding capitalised word into a name
# ("Mari Lloyd"): alone, "Price" or "Morgan" at the start of a sentence is too often not a person.
SURNAMES = frozenset(
    """
    Jones Davies Davis Evans Williams Thomas Roberts Hughes Lewis Morgan Griffiths Owen Owens Rees
    Jenkins Lloyd Pritchard Parry Powell Vaughan Pugh Bowen Howells Hopkins Prosser Rowlands
    Edwards Phillips Watkins Harries Probert Meredith Llewellyn Gwynne Bevan Prys Pryce Jarvis
    Humphreys Ellis Ellis-Jones Gruffydd Huws Rhys Tudor Wynne Cadwaladr Iorwerth
    """.split()
)

# "ym"/"yng" are "in" before a nasally mutated noun ("ym Mhenrhyndeudraeth", "yng Nghaerdydd"):
# what follows is a place, not a person, whatever NER says.
_WELSH_IN = frozenset(("ym", "yng"))

# A letter may carry combining marks: text in NFD form spells "â" as "a" + U+0302.
_LETTERS = r"(?:[^\W\d_][\u0300-\u036f]*)+"
_WORD = re.compile(_LETTERS + r"(?:['’\-]" + _LETTERS + r")*")
_POSSESSIVE = ("'s", "’s")


def candidate_words(text: str) -> list[str]:
    """The words of ``text`` as the name finders here see them (a possessive "'s" left off)."""
    return [text[s:e] for s, e in word_spans(text)]


def word_spans(text: str) -> list[tuple[int, int]]:
    """Word spans, with a possessive "'s" left outside the word ("Bethan's" -> "Bethan"): what every
    finder here works on. A caller running several finders over one text computes them once and
    passes them in (``words=``), as ``nlp.deidentify`` does."""
    spans = []
    for m in _WORD.finditer(text):
        end = m.end()
        if m.group().endswith(_POSSESSIVE) and len(m.group()) > 2:
            end -= 2
        spans.append((m.start(), end))
    return spans


# "I'd", "We're", "It'll", "Don't": a capitalised word that is a contraction of a pronoun or of a
# word in NOT_NAME is not a name ("practice manager I'd say" was read as a manager called "I'd").
# Apostrophes inside names ("O'Neill", "D'Arcy") are not contractions and are left alone.
_CONTRACTION = re.compile(r"^(?P<stem>[^\W\d_]+)['’](?:d|m|ve|ll|re|s|t)$", re.IGNORECASE)
_NEGATED = re.compile(r"^(?P<stem>[^\W\d_]+)n['’]t$", re.IGNORECASE)
_PRONOUNS = frozenset("i you we they he she it that there here who what where let".split())


def _is_contraction(word: str) -> bool:
    m = _CONTRACTION.match(word) or _NEGATED.match(word)
    if m is None:
        return False
    stem = m.group("stem").casefold()
    return stem in _PRONOUNS or stem in NOT_NAME or _NEGATED.match(word) is not None


def is_name_word(word: str) -> bool:
    """Capitalised and not a word that is never part of a name here (``NOT_NAME``, or a contraction
    such as "I'd" or "Don't")."""
    return (
        word[:1].isupper() and word.casefold() not in NOT_NAME and not word.isdigit() and not _is_contraction(word)
    )


def _joined(text: str, left: tuple[int, int], right: tuple[int, int]) -> bool:
    """True when two words are separated by one run of spaces/tabs (no line break, no punctuation);
    after a single-letter initial a full stop is allowed ("R. Evans")."""
    gap = text[left[1]:right[0]]
    if left[1] - left[0] == 1 and text[left[0]].isupper():
        gap = gap.removeprefix(".")
        if gap == "":
            return True
    return gap != "" and gap.strip(" \t") == ""


def _extend(text: str, words: list[tuple[int, int]], i: int, limit: int = 4) -> int:
    """Index of the last word of the name starting at ``words[i]``, taking following capitalised
    words and particles ("ap", "ferch") that lead to one."""
    j = i
    while j + 1 < len(words) and j - i < limit:
        nxt = text[words[j + 1][0]:words[j + 1][1]]
        if not _joined(text, words[j], words[j + 1]):
            break
        if is_name_word(nxt):
            j += 1
        elif (
            nxt in _PARTICLES
            and j + 2 < len(words)
            and _joined(text, words[j + 1], words[j + 2])
            and is_name_word(text[words[j + 2][0]:words[j + 2][1]])
        ):
            j += 2
        else:
            break
    return j


def find_protected(text: str) -> list[tuple[int, int]]:
    """Spans of organisation names that look like people ("Hywel Dda", "Aneurin Bevan")."""
    return [(m.start(), m.end()) for m in _PROTECTED.finditer(text)]


def _overlaps_protected(start: int, end: int, protected: list[tuple[int, int]]) -> bool:
    return any(p0 < end and start < p1 for p0, p1 in protected)


def find_titled_names(
    text: str, *, words: list[tuple[int, int]] | None = None, protected: list[tuple[int, int]] | None = None
) -> list[Span]:
    """"Dr Rhodri Evans" -> the span of "Rhodri Evans" (the title stays: it is not identifying)."""
    words = word_spans(text) if words is None else words
    protected = find_protected(text) if protected is None else protected
    spans = []
    for i, (w0, w1) in enumerate(words[:-1]):
        if text[w0:w1].casefold() not in TITLES or not text[w0:w1][0].isupper():
            continue
        gap = text[w1:words[i + 1][0]]
        if gap.removeprefix(".").strip(" \t") != "" or gap == "":
            continue
        if not is_name_word(text[words[i + 1][0]:words[i + 1][1]]):
            continue
        j = _extend(text, words, i + 1)
        start, end = words[i + 1][0], words[j][1]
        if not _overlaps_protected(start, end, protected):
            spans.append(Span(start, end, "PERSON"))
    return spans


def find_listed_names(
    text: str, *, words: list[tuple[int, int]] | None = None, protected: list[tuple[int, int]] | None = None
) -> list[Span]:
    """Capitalised given names from ``GIVEN_NAMES`` with the capitalised words that follow, and
    capitalised word + surname from ``SURNAMES`` ("Mari Lloyd")."""
    words = word_spans(text) if words is None else words
    protected = find_protected(text) if protected is None else protected
    spans = []
    for i, (w0, w1) in enumerate(words):
        word = unicodedata.normalize("NFC", text[w0:w1])
        shouted = len(word) > 1 and word.isupper() and word.title() in GIVEN_NAMES
        if word in GIVEN_NAMES or shouted:
            j = _extend(text, words, i)
            start, end = w0, words[j][1]
        elif (
            word in SURNAMES
            and i > 0
            and _joined(text, words[i - 1], words[i])
            and is_name_word(text[words[i - 1][0]:words[i - 1][1]])
        ):
            start, end = words[i - 1][0], w1
        else:
            continue
        if not _overlaps_protected(start, end, protected):
            spans.append(Span(start, end, "PERSON"))
    return spans


# Words that, next to a capitalised word, say it is a person: "Marged thanked ...",
# "... said", "contact Cadwgan on ...". Acronyms ("RPB said") are not taken.
_CUE_AFTER = frozenset(
    """said says asked asks told noted thanked explained reported presented suggested agreed felt
    feels thinks thought wrote phoned emailed rang chaired described raised""".split()
)
_CUE_BEFORE = frozenset("thanked thank thanks contact contacted ask told cc per gan".split())
# Two-word cues before a name: "spoke to X", "led by X", "Diolch i X", "Action: X to ...".
_CUE_PAIRS = frozenset(
    (a, b)
    for a, bs in {
        "to": "spoke speak speaking talk talked talking wrote write writing",
        "by": """led chaired presented organised organized run checked done written referred
              completed supported covered""",
        "i": "diolch",
    }.items()
    for b in bs.split()
)
_ROLES = frozenset(
    """chair chairs vice-chair lead pharmacist manager coordinator co-ordinator nurse reviewer
    receptionist physio physiotherapist paramedic champion navigator administrator secretary
    facilitator director cydlynydd cadeirydd arweinydd""".split()
)
_ACTION_HEADS = frozenset("action actions agreed owner cam gweithred".split())


def _cue_name_word(word: str) -> bool:
    return is_name_word(word) and not (len(word) > 1 and word.isupper())


def find_cued_names(
    text: str, *, words: list[tuple[int, int]] | None = None, protected: list[tuple[int, int]] | None = None
) -> list[Span]:
    """Capitalised words next to a reporting verb or a "contact"/"thanks to" cue: names the lists
    and the model do not know ("Eurgain said", "contact Cadwgan on ...")."""
    words = word_spans(text) if words is None else words

    def get(k: int) -> str:
        return text[words[k][0]:words[k][1]]

    protected = find_protected(text) if protected is None else protected
    spans = []
    for k in range(len(words)):
        cue = get(k).casefold()
        found = []
        if (
            cue in _CUE_AFTER
            and k > 0
            and _joined(text, words[k - 1], words[k])
            and _cue_name_word(get(k - 1))
        ):
            i = k - 1
            while (
                i > 0
                and k - i < 3
                and _joined(text, words[i - 1], words[i])
                and _cue_name_word(get(i - 1))
            ):
                i -= 1
            found.append((words[i][0], words[k - 1][1]))
        before = get(k - 1).casefold() if k > 0 else ""
        role = cue in _ROLES and k + 1 < len(words)
        action = cue in _ACTION_HEADS and text[words[k][1]:words[k][1] + 1] == ":"
        if (
            (_CUE_PAIRS and (cue, before) in _CUE_PAIRS or role or action)
            and k + 1 < len(words)
            and text[words[k][1]:words[k + 1][0]].strip(" \t,:") == ""
            and _cue_name_word(get(k + 1))
        ):
            found.append((words[k + 1][0], words[_extend(text, words, k + 1, limit=2)][1]))
        if cue in _CUE_BEFORE and k + 1 < len(words):
            n = k + 1
            if cue == "thanks" and get(n).casefold() == "to" and n + 1 < len(words):
                n += 1
            if _joined(text, words[n - 1], words[n]) and _cue_name_word(get(n)):
                found.append((words[n][0], words[_extend(text, words, n, limit=2)][1]))
        spans += [
            Span(start, end, "PERSON")
            for start, end in found
            if not _overlaps_protected(start, end, protected)
        ]
    return spans


def clean_ner_person(
    text: str, entities: Iterable[tuple[int, int]], *,
    words: list[tuple[int, int]] | None = None, protected: list[tuple[int, int]] | None = None,
    not_names: frozenset[str] = frozenset(),
) -> list[Span]:
    """Trim NER PERSON spans to their name words and drop the ones that are not names.

    Leading/trailing words in ``NOT_NAME`` go ("Nurse Angharad Lewis" -> "Angharad Lewis",
    "Mae Carys" -> "Carys"); a span left with no capitalised word, or overlapping an organisation
    name ("Hywel Dda"), is dropped, and so is one whose capitalised words are all in ``not_names``
    (case-folded; the codebook's own words, say). A span with another name word keeps them all:
    "Sarah Champion" stays whole, although "champion" is a cue word.
    """
    protected = find_protected(text) if protected is None else protected
    spans = []
    all_words = word_spans(text) if words is None else words
    starts = [w[0] for w in all_words]
    for start, end in entities:
        first = bisect_left(starts, start)
        words = [w for w in all_words[first:bisect_left(starts, end)] if w[1] <= end]
        while words and not is_name_word(text[words[0][0]:words[0][1]]):
            words.pop(0)
        while words and not is_name_word(text[words[-1][0]:words[-1][1]]):
            words.pop()
        named = [text[w0:w1] for w0, w1 in words if is_name_word(text[w0:w1])]
        if not words or all(word.casefold() in not_names for word in named):
            continue
        s, e = words[0][0], words[-1][1]
        k = bisect_left(starts, s)
        if k > 0 and text[all_words[k - 1][0]:all_words[k - 1][1]].casefold() in _WELSH_IN:
            continue
        if not _overlaps_protected(s, e, protected):
            spans.append(Span(s, e, "PERSON"))
    return spans


_AND = re.compile(r"[ \t]+(?:and|a|ac|&)[ \t]+")
_AND_BEFORE = re.compile(r"(?<![\w'’\-])([^\W\d_][\w'’\-]*)[ \t]+(?:and|a|ac|&)[ \t]+$")
_NAME_RUN = re.compile(r"[^\W\d_][\w'’\-]*(?:[ \t]+[^\W\d_][\w'’\-]*)?")


def find_coordinated_names(text: str, spans: list[Span]) -> list[Span]:
    """"Ffraid Jenkins and Bryony Hale": a capitalised one or two words joined by "and" (Welsh "a",
    "ac") to a found name are a name too. Known places and clusters win over these by priority."""
    found = []
    for s in spans:
        if s.kind != "PERSON":
            continue
        m = _AND.match(text, s.end)
        if m and (n := _NAME_RUN.match(text, m.end())):
            words = n.group().split()
            while words and not is_name_word(words[-1]):
                words.pop()
            if words and all(is_name_word(w) for w in words):
                found.append(Span(n.start(), n.start() + len(" ".join(words)), "PERSON"))
        before = _AND_BEFORE.search(text, max(0, s.start - 80), s.start)
        if before and all(is_name_word(w) for w in before.group(1).split()):
            found.append(Span(before.start(1), before.end(1), "PERSON"))
    return found
