"""Fine-tuning the bundled MiniLM as a multi-label classifier, on tiny hand-written data.

These load the real encoder (local, nothing downloaded), so they are marked slow; each fit is two
dozen short texts, one to four epochs and a short sequence length, so a fit takes about a second.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from evaluation.encoder_fine_tuning import CrossFittedFineTuning, EncoderFineTuner

pytestmark = pytest.mark.slow

ANIMALS = [
    "The dog barked at the cat", "A cat sat on the mat", "Horses ran across the field",
    "The puppy chased its tail", "Cows were grazing in the meadow", "A kitten slept by the fire",
    "The sheep followed the farmer", "Ducks swam on the pond", "The parrot repeated my words",
    "A rabbit hid under the hedge", "The goat ate the washing", "Owls hooted all night",
]
VEHICLES = [
    "The car would not start", "A bus was late again", "The train was cancelled",
    "My bicycle has a flat tyre", "The lorry blocked the road", "A taxi took us home",
    "The van broke down on the motorway", "The tram was crowded", "A motorbike roared past",
    "The ferry crossed the bay", "Our car needs new brakes", "The coach left without us",
]
UNSEEN = [
    "The donkey brayed loudly", "The cat chased a mouse", "The bus broke down", "A train was delayed",
]
UNSEEN_Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])

# One epoch, short sequences, small batches: enough to exercise every code path quickly.
FAST = {"epochs": 1, "batch_size": 8, "max_seq_length": 16}


def _toy() -> tuple[list[str], np.ndarray]:
    texts = ANIMALS + VEHICLES
    Y = np.zeros((len(texts), 2), dtype=int)
    Y[: len(ANIMALS), 0] = 1
    Y[len(ANIMALS) :, 1] = 1
    return texts, Y


def test_encoder_fine_tuning_same_seed_same_scores_other_seed_other_scores() -> None:
    texts, Y = _toy()
    first = EncoderFineTuner(seed=3, **FAST).fit(texts, Y).predict_proba(UNSEEN)
    second = EncoderFineTuner(seed=3, **FAST).fit(texts, Y).predict_proba(UNSEEN)
    other = EncoderFineTuner(seed=4, **FAST).fit(texts, Y).predict_proba(UNSEEN)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_encoder_fine_tuning_learns_a_separable_labelling() -> None:
    texts, Y = _toy()
    tuner = EncoderFineTuner(
        seed=0, epochs=4, batch_size=8, max_seq_length=16, learning_rate=1e-4, head_learning_rate=1e-2
    ).fit(texts, Y)
    scores = tuner.predict_proba(UNSEEN)
    assert scores.shape == (len(UNSEEN), 2)
    assert ((scores >= 0) & (scores <= 1)).all()
    # Each unseen text scores higher on its own label than on the other one.
    assert (scores[UNSEEN_Y == 1] > scores[UNSEEN_Y == 0]).all()
    assert tuner.losses_[-1] < tuner.losses_[0]


def test_encoder_fine_tuning_restores_torch_settings_and_pickles() -> None:
    import torch

    texts, Y = _toy()
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    tuner = EncoderFineTuner(seed=0, num_threads=1, **FAST).fit(texts, Y)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic
    loaded = pickle.loads(pickle.dumps(tuner))
    np.testing.assert_array_equal(loaded.predict_proba(UNSEEN), tuner.predict_proba(UNSEEN))
    assert clone(tuner).get_params() == tuner.get_params()


def test_encoder_fine_tuning_rejects_bad_input_and_unfitted_use() -> None:
    texts, Y = _toy()
    with pytest.raises(ValueError):
        EncoderFineTuner(**FAST).fit(texts[:-1], Y)
    with pytest.raises(ValueError):
        EncoderFineTuner(**FAST).fit(texts, Y * 2)
    with pytest.raises(ValueError):
        EncoderFineTuner(pos_weight="balanced", **FAST).fit(texts, Y)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        EncoderFineTuner().predict_proba(["anything"])


def test_cross_fitted_fine_tuning_scores_every_row_from_a_network_that_did_not_see_it() -> None:
    texts, Y = _toy()
    cross = CrossFittedFineTuning(EncoderFineTuner(**FAST), n_folds=2, seed=0).fit(texts, Y)
    assert len(cross.networks_) == 2
    assert cross.held_out_scores_.shape == Y.shape
    assert (cross.held_out_scores_ > 0).all()
    mean = np.mean([n.predict_proba(UNSEEN) for n in cross.networks_], axis=0)
    np.testing.assert_allclose(cross.predict_proba(UNSEEN), mean)
