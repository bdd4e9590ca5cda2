"""ThemeClassifier behaviour on a hand-written three-theme set, with a stand-in embedder.

No real model: ``HashedBagOfWords`` is a deterministic, L2-normalised hashed word count, enough to
exercise the embedding head and the stacking path without loading MiniLM.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from sklearn.base import clone

from nlp.theme_classifier import ThemeClassifier
from nlp.threshold_tuning import CALIBRATED_GRID, labels_from_scores, tune_thresholds

LABELS = ["funding", "time", "bureaucracy"]

FUNDING = [
    "We need more funding for the surgery",
    "The grant money ran out before the project finished",
    "Budget cuts mean fewer services for patients",
    "There is not enough money to pay for extra staff",
    "Funding for the cluster was cut again this year",
    "We could not afford the equipment without a grant",
    "The budget does not cover the cost of the new clinic",
    "Money is always the problem, the funding is too small",
    "Financial support from the health board has been reduced",
    "Without more money the service will close",
]
TIME = [
    "There is never enough time to see every patient",
    "Appointments are far too short, ten minutes is not enough time",
    "I waited weeks for an appointment",
    "Staff are rushed and have no time to talk",
    "The waiting time at the clinic was hours",
    "We spend all day waiting and the delays are awful",
    "Time pressure means GPs cannot listen properly",
    "Long waits and delays for every referral",
    "The clinic runs late every single day",
    "No time for training because the days are so busy",
]
BUREAUCRACY = [
    "Too much paperwork and too many forms to fill in",
    "The bureaucracy of the referral process is exhausting",
    "Endless forms and box ticking for every request",
    "Red tape stops us from changing anything",
    "The paperwork for each patient takes longer than the visit",
    "Reporting requirements and forms are a burden",
    "Bureaucracy and admin slow everything down",
    "Approval processes and paperwork delay decisions",
    "We fill in the same forms three times for the health board",
    "Admin and red tape take over the working day",
]

OFF_TOPIC = [
    "The receptionist was lovely",
    "Lovely views from the window",
    "The car park was full",
    "Nice flowers in the garden",
    "The coffee was good",
    "Great to see the new building",
    "The weather was fine",
    "Thank you to everyone",
]


class HashedBagOfWords:
    """Stand-in sentence embedder: hashed word counts, L2-normalised, float32."""

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace(",", " ").replace(".", " ").split():
                bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim
                out[row, bucket] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


def _training_set() -> tuple[list[str], np.ndarray]:
    texts = FUNDING + TIME + BUREAUCRACY
    Y = np.zeros((len(texts), len(LABELS)), dtype=int)
    for j, group in enumerate((FUNDING, TIME, BUREAUCRACY)):
        start = sum(len(g) for g in (FUNDING, TIME, BUREAUCRACY)[:j])
        Y[start : start + len(group), j] = 1
    # Two comments that name two themes, so multi-label rows are part of what is learnt.
    texts += [
        "Not enough money and not enough time",
        "The forms take so much time to fill in",
    ]
    Y = np.vstack([Y, [[1, 1, 0], [0, 1, 1]]])
    # Comments that fit no theme, so "none" is something the thresholds can learn.
    texts += OFF_TOPIC
    Y = np.vstack([Y, np.zeros((len(OFF_TOPIC), len(LABELS)), dtype=int)])
    return texts, Y


@pytest.fixture(scope="module")
def fitted() -> ThemeClassifier:
    texts, Y = _training_set()
    return ThemeClassifier(HashedBagOfWords(), seed=0, n_folds=3, min_labels=0).fit(
        texts, Y, LABELS
    )


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("The funding and the budget are far too small", "funding"),
        ("I waited weeks, the delays are terrible", "time"),
        ("So much paperwork and red tape", "bureaucracy"),
    ],
)
def test_theme_classifier_predicts_clear_held_out_sentences(
    fitted: ThemeClassifier, text: str, label: str
) -> None:
    predicted = fitted.predict([text])[0]
    assert [LABELS[j] for j in np.flatnonzero(predicted)] == [label]


def test_theme_classifier_gives_two_labels_when_a_sentence_names_two(
    fitted: ThemeClassifier,
) -> None:
    predicted = fitted.predict(["Not enough funding and the waits are too long"])[0]
    assert predicted.tolist() == [1, 1, 0]


def test_theme_classifier_off_topic_sentence_gets_no_label_with_min_labels_0(
    fitted: ThemeClassifier,
) -> None:
    assert fitted.predict(["The coffee and the views were lovely"]).sum() == 0


def test_theme_classifier_min_labels_1_always_gives_a_label() -> None:
    texts, Y = _training_set()
    clf = ThemeClassifier(HashedBagOfWords(), seed=0, n_folds=3, min_labels=1).fit(texts, Y, LABELS)
    predicted = clf.predict(["The car park is beautiful in spring", "So much paperwork"])
    assert predicted.sum(axis=1).tolist() == [1, 1]
    assert predicted[1].tolist() == [0, 0, 1]


def test_theme_classifier_same_seed_same_probabilities() -> None:
    texts, Y = _training_set()
    probe = ["Not enough money", "Waiting for forms", "Lovely staff"]
    first = ThemeClassifier(HashedBagOfWords(), seed=7, n_folds=3).fit(texts, Y, LABELS)
    second = ThemeClassifier(HashedBagOfWords(), seed=7, n_folds=3).fit(texts, Y, LABELS)
    np.testing.assert_array_equal(first.predict_proba(probe), second.predict_proba(probe))
    np.testing.assert_array_equal(first.thresholds_, second.thresholds_)


def test_theme_classifier_probabilities_are_in_unit_interval(fitted: ThemeClassifier) -> None:
    scores = fitted.predict_proba(["Money", "Time", "Forms", ""])
    assert scores.shape == (4, 3)
    assert ((scores >= 0) & (scores <= 1)).all()


def test_theme_classifier_fit_returns_self_and_learned_state_ends_in_underscore() -> None:
    texts, Y = _training_set()
    clf = ThemeClassifier(HashedBagOfWords(), seed=0, n_folds=3)
    before = set(vars(clf))
    assert clf.fit(texts, Y, LABELS) is clf
    learned = set(vars(clf)) - before
    assert {"thresholds_", "label_ids_"} <= learned
    assert all(name.endswith("_") for name in learned)
    assert clf.label_ids_ == LABELS
    assert clf.thresholds_.shape == (3,)


def test_theme_classifier_init_only_stores_parameters_and_clone_works() -> None:
    embedder = HashedBagOfWords()
    clf = ThemeClassifier(embedder, seed=3, text_C=5.0, min_labels=0)
    assert clf.get_params()["embedder"] is embedder
    copy = clone(clf)
    assert copy.get_params()["seed"] == 3
    assert copy.get_params()["text_C"] == 5.0
    assert not hasattr(copy, "thresholds_")
    texts, Y = _training_set()
    fitted_copy = clone(clf).set_params(n_folds=3).fit(texts, Y, LABELS)
    assert fitted_copy.predict(["So much paperwork and red tape"])[0].tolist() == [0, 0, 1]


def test_theme_classifier_without_embedder_uses_tfidf_only() -> None:
    texts, Y = _training_set()
    clf = ThemeClassifier(None, seed=0, n_folds=3, min_labels=0).fit(texts, Y, LABELS)
    assert clf.embedding_heads_ is None
    assert clf.predict(["The grant money and the budget"])[0].tolist() == [1, 0, 0]


def test_theme_classifier_mean_combiner_matches_weighted_average() -> None:
    texts, Y = _training_set()
    clf = ThemeClassifier(
        HashedBagOfWords(), seed=0, n_folds=3, combiner="mean", embedding_weight=0.25
    ).fit(texts, Y, LABELS)
    assert clf.stackers_ is None
    assert clf.predict(["So much paperwork and red tape"])[0].tolist() == [0, 0, 1]


def test_theme_classifier_stacker_is_unweighted_and_cut_offs_on_calibrated_grid() -> None:
    texts, Y = _training_set()
    clf = ThemeClassifier(HashedBagOfWords(), seed=0, n_folds=3, stacker_C=0.5).fit(
        texts, Y, LABELS
    )
    assert all(head.class_weight is None and head.C == 0.5 for head in clf.stackers_)
    assert np.isin(clf.thresholds_, CALIBRATED_GRID).all()


def test_theme_classifier_rejects_mismatched_shapes_and_non_binary_labels() -> None:
    texts, Y = _training_set()
    with pytest.raises(ValueError, match="shape"):
        ThemeClassifier().fit(texts[:-1], Y, LABELS)
    with pytest.raises(ValueError, match="0 and 1"):
        ThemeClassifier().fit(texts, Y * 2, LABELS)


def test_theme_classifier_predict_before_fit_raises() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ThemeClassifier().predict(["anything"])


def test_threshold_tuning_picks_the_cut_off_that_separates_classes() -> None:
    scores = np.array([[0.1], [0.2], [0.3], [0.7], [0.8], [0.9]])
    truth = np.array([[0], [0], [0], [1], [1], [1]])
    (threshold,) = tune_thresholds(scores, truth)
    assert 0.3 < threshold <= 0.7


def test_labels_from_scores_falls_back_to_closest_to_its_own_cut_off() -> None:
    scores = np.array([[0.40, 0.08, 0.0]])
    thresholds = np.array([0.9, 0.1, 0.5])
    assert labels_from_scores(scores, thresholds, min_labels=0).tolist() == [[0, 0, 0]]
    # 0.08/0.1 beats 0.40/0.9: the near miss on the low-cut-off theme wins.
    assert labels_from_scores(scores, thresholds, min_labels=1).tolist() == [[0, 1, 0]]
