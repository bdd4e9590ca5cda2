"""Fine-tune the sentence encoder end to end as a multi-label theme classifier (BCE head).

    >>> tuner = EncoderFineTuner(epochs=2, seed=0).fit(texts, Y)      # Y: (n, k) of 0/1
    >>> tuner.predict_proba(["Waited three weeks for a call back"])   # (1, k) sigmoid scores

Why: ``ThemeClassifier``'s embedding head is fitted on *frozen* sentence embeddings, so whatever
MiniLM's general-purpose training did not put into the 384 numbers is lost to it. Fine-tuning all
layers on the labelled comments lets the encoder learn which parts of a comment matter for the
codebook. The fine-tuned network's probabilities are a candidate third view of the text next to the
TF-IDF and frozen-embedding heads; ``evaluation/pxtextmining_fine_tuning_ablation.py`` measures
whether blending or stacking them lifts ``ThemeClassifier`` (on train-only validation it did not
clear the +0.01 macro-F1 bar, so the classifier does not use it; the results file has the numbers).

The network is the encoder, mean-pooled over real tokens (the pooling MiniLM was trained with), then
dropout and one linear layer with a sigmoid per theme, trained with binary cross-entropy, AdamW,
linear warm-up and decay; the new head gets a larger learning rate than the pretrained body because
it starts from nothing. It is CPU-only and sized for a two-core machine: comments are short (median
10 tokens), so batches are built from texts of similar length (less padding), the sequence length is
capped (``max_seq_length``), and a couple of epochs suffice.

Deterministic for a seed: the batch order comes from a seeded numpy generator, dropout and the head's
initialisation from a forked torch generator seeded with the same seed, and deterministic kernels are
switched on while training (the process-wide torch settings are restored afterwards). Nothing is
downloaded: ``model_dir`` is a local directory, ``None`` meaning the bundled all-MiniLM-L6-v2.

Follows the scikit-learn estimator contract (parameters in ``__init__``, learned state ending in
``_``, ``clone`` works), and pickles: the fitted network is stored as its config and weights.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from models.embedding_model import resolve_model

#: Texts per forward pass when scoring (no gradients, so larger than the training batch).
_PREDICT_BATCH = 128
#: Training batches are formed inside windows of this many batches' worth of rows, sorted by length
#: in each window: batches of similar-length texts, yet still a random mix across the epoch.
_BUCKET_WINDOW = 50


class EncoderFineTuner(BaseEstimator):
    """A sentence encoder plus a linear multi-label head, fine-tuned together with BCE.

    Parameters
    ----------
    model_dir:
        Local sentence-transformers/BERT model directory; ``None`` means the bundled model.
    epochs, batch_size:
        Passes over the training rows and rows per optimiser step.
    learning_rate, head_learning_rate:
        Peak AdamW learning rates of the pretrained encoder and of the new linear head.
    warmup_ratio:
        Share of the steps over which the learning rate rises linearly from 0 before decaying to 0.
    weight_decay:
        AdamW weight decay (not applied to biases and LayerNorm weights).
    pos_weight:
        ``None`` for plain BCE; ``"sqrt"`` weights each theme's positives by sqrt(negatives /
        positives), so rare themes are not ignored while the scores stay close to probabilities.
    max_seq_length:
        Tokens kept per comment (longer ones are cut); bounds the cost of the rare long rant.
    dropout:
        Dropout on the pooled vector before the head.
    freeze_word_embeddings:
        Keep the token-embedding table (half of MiniLM's 22.7M weights) as pretrained and train
        everything above it: on two cores this cuts a training step by about a third (no gradient
        and no AdamW update for the 30,522 x 384 table), and a few thousand short comments touch
        too few of the 30k tokens to learn much there anyway.
    seed:
        Seeds the batch order, dropout and the head's initialisation.
    num_threads:
        torch intra-op threads while training and scoring (restored afterwards).
    """

    def __init__(
        self,
        model_dir: str | None = None,
        *,
        epochs: int = 2,
        batch_size: int = 32,
        learning_rate: float = 8e-5,
        head_learning_rate: float = 2e-3,
        warmup_ratio: float = 0.1,
        weight_decay: float = 0.01,
        pos_weight: str | None = "sqrt",
        max_seq_length: int = 128,
        dropout: float = 0.1,
        freeze_word_embeddings: bool = False,
        seed: int = 0,
        num_threads: int = 2,
    ) -> None:
        self.model_dir = model_dir
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.head_learning_rate = head_learning_rate
        self.warmup_ratio = warmup_ratio
        self.weight_decay = weight_decay
        self.pos_weight = pos_weight
        self.max_seq_length = max_seq_length
        self.dropout = dropout
        self.freeze_word_embeddings = freeze_word_embeddings
        self.seed = seed
        self.num_threads = num_threads

    # ----------------------------------------------------------------------------------- public

    def fit(self, texts: Sequence[str], Y: np.ndarray) -> EncoderFineTuner:
        """Fine-tune on ``texts`` and their 0/1 labels ``Y`` of shape ``(len(texts), k)``."""
        import torch

        texts = [str(t) for t in texts]
        Y = np.asarray(Y)
        if Y.ndim != 2 or Y.shape[0] != len(texts) or len(texts) == 0:
            raise ValueError(f"Y must have shape (len(texts), k) with texts; got {Y.shape}")
        if not np.isin(Y, (0, 1)).all():
            raise ValueError("Y must hold only 0 and 1")
        if self.pos_weight not in (None, "sqrt"):
            raise ValueError(f"pos_weight must be None or 'sqrt', not {self.pos_weight!r}")

        started = time.perf_counter()
        path = resolve_model(self.model_dir)
        self.tokenizer_ = _load_tokenizer(path, self.max_seq_length)
        ids = self.tokenizer_(texts)
        targets = torch.from_numpy(Y.astype(np.float32))
        rng = np.random.default_rng(self.seed)
        with _torch_settings(self.num_threads, deterministic=True), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            network = _build_network(path, Y.shape[1], self.dropout)
            if self.freeze_word_embeddings:
                network.encoder.get_input_embeddings().weight.requires_grad_(False)
            network.train()
            steps = self.epochs * -(-len(texts) // self.batch_size)
            warmup = max(1, int(round(self.warmup_ratio * steps)))
            optimiser = torch.optim.AdamW(
                _parameter_groups(network, self), lr=self.learning_rate, foreach=True
            )
            schedule = torch.optim.lr_scheduler.LambdaLR(
                optimiser, lambda step: _warmup_then_linear_decay(step, warmup, steps)
            )
            loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=self._pos_weight(Y))
            self.losses_: list[float] = []
            for _ in range(self.epochs):
                epoch_loss, n_batches = 0.0, 0
                for rows in _training_batches([len(i) for i in ids], self.batch_size, rng):
                    input_ids, mask = _pad([ids[i] for i in rows])
                    loss = loss_fn(network(input_ids, mask), targets[rows])
                    optimiser.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
                    optimiser.step()
                    schedule.step()
                    epoch_loss += float(loss.detach())
                    n_batches += 1
                self.losses_.append(epoch_loss / max(n_batches, 1))
            network.eval()
        self.network_ = network
        self.n_labels_ = Y.shape[1]
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Per-theme sigmoid scores in [0, 1], shape ``(len(texts), k)``."""
        import torch

        if not hasattr(self, "network_"):
            raise NotFittedError("EncoderFineTuner is not fitted yet; call fit(texts, Y)")
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), self.n_labels_), dtype=np.float64)
        if not texts:
            return out
        ids = self.tokenizer_(texts)
        order = np.argsort([len(i) for i in ids], kind="stable")
        with _torch_settings(self.num_threads, deterministic=False), torch.inference_mode():
            for start in range(0, len(order), _PREDICT_BATCH):
                rows = order[start : start + _PREDICT_BATCH]
                input_ids, mask = _pad([ids[i] for i in rows])
                out[rows] = torch.sigmoid(self.network_(input_ids, mask)).double().numpy()
        return out

    # ---------------------------------------------------------------------------------- helpers

    def _pos_weight(self, Y: np.ndarray):  # -> torch.Tensor | None
        import torch

        if self.pos_weight is None:
            return None
        positives = Y.sum(axis=0).astype(np.float64)
        ratio = (len(Y) - positives) / np.maximum(positives, 1.0)
        return torch.from_numpy(np.sqrt(np.maximum(ratio, 1.0)).astype(np.float32))

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the network as its config and weights, not as a live module."""
        state = self.__dict__.copy()
        network = state.pop("network_", None)
        if network is not None:
            state["_network_config"] = network.encoder.config
            state["_network_weights"] = {
                k: v.detach().clone() for k, v in network.state_dict().items()
            }
            state["_network_dropout"] = network.dropout.p
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        config = state.pop("_network_config", None)
        weights = state.pop("_network_weights", None)
        dropout = state.pop("_network_dropout", 0.1)
        super().__setstate__(state)
        if config is not None and weights is not None:
            network = _network_from_config(config, weights["head.weight"].shape[0], dropout)
            network.load_state_dict(weights)
            self.network_ = network.eval()


class CrossFittedFineTuning:
    """``n_folds`` fine-tuned networks, each fitted on the rows the others hold out.

    Why cross-fitting rather than out-of-fold scores plus a final refit on all rows: a blend weight
    or cut-off can only learn how far to trust the fine-tuned network from scores it gave to rows it
    never saw, and on two CPU cores fine-tuning is the dominant cost. With two folds the networks
    together see the training rows exactly once per epoch (the cost of a single fit on everything),
    every row gets an honest held-out score (``held_out_scores_``), and new texts are scored by the
    mean of the fold networks (a small ensemble) instead of by a refit that would double the cost.
    """

    def __init__(self, tuner: EncoderFineTuner, n_folds: int = 2, seed: int = 0) -> None:
        self.tuner = tuner
        self.n_folds = n_folds
        self.seed = seed

    def fit(self, texts: Sequence[str], Y: np.ndarray) -> CrossFittedFineTuning:
        """Fit one network per fold; store each row's score from the network that did not see it."""
        from sklearn.base import clone
        from sklearn.model_selection import KFold

        texts = list(texts)
        Y = np.asarray(Y)
        if self.n_folds < 2 or len(texts) < self.n_folds:
            raise ValueError(
                f"need n_folds >= 2 and at least n_folds rows; got {self.n_folds}, {len(texts)}"
            )
        started = time.perf_counter()
        self.held_out_scores_ = np.zeros(Y.shape, dtype=np.float64)
        self.networks_: list[EncoderFineTuner] = []
        folds = KFold(n_splits=self.n_folds, shuffle=True, random_state=self.seed)
        for fold, (fit_rows, held_rows) in enumerate(folds.split(np.arange(len(texts)))):
            tuner = clone(self.tuner).set_params(seed=self.tuner.seed + fold)
            tuner.fit([texts[i] for i in fit_rows], Y[fit_rows])
            self.held_out_scores_[held_rows] = tuner.predict_proba([texts[i] for i in held_rows])
            self.networks_.append(tuner)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Mean of the fold networks' scores, shape ``(len(texts), k)``."""
        if not hasattr(self, "networks_"):
            raise NotFittedError("CrossFittedFineTuning is not fitted yet; call fit(texts, Y)")
        return np.mean([network.predict_proba(texts) for network in self.networks_], axis=0)


# ------------------------------------------------------------------------------------ network

@functools.cache
def _network_class():  # -> type[torch.nn.Module]; torch is imported only when fine-tuning is used
    import torch

    class Network(torch.nn.Module):
        """Encoder -> mean pooling over real tokens -> dropout -> linear, one logit per theme."""

        def __init__(self, encoder: torch.nn.Module, n_labels: int, dropout: float) -> None:
            super().__init__()
            self.encoder = encoder
            self.dropout = torch.nn.Dropout(dropout)
            self.head = torch.nn.Linear(encoder.config.hidden_size, n_labels)

        def forward(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=mask, token_type_ids=torch.zeros_like(input_ids)
            )[0]
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return self.head(self.dropout(pooled))

    return Network


def _build_network(path: Path, n_labels: int, dropout: float):  # -> torch.nn.Module
    """The pretrained encoder from ``path`` with a freshly initialised head (uses torch's RNG)."""
    from transformers import AutoModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoder = AutoModel.from_pretrained(str(path), local_files_only=True)
    return _network_class()(encoder, n_labels, dropout)


def _network_from_config(config: Any, n_labels: int, dropout: float):  # -> torch.nn.Module
    """An untrained network of the same shape, for loading pickled weights into."""
    from transformers import AutoModel

    return _network_class()(AutoModel.from_config(config), n_labels, dropout)


def _warmup_then_linear_decay(step: int, warmup: int, steps: int) -> float:
    """Learning-rate factor: rises linearly to 1 over ``warmup`` steps, then falls linearly to 0."""
    return min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup)))


def _parameter_groups(network: Any, tuner: EncoderFineTuner) -> list[dict[str, Any]]:
    """Encoder and head at their own learning rates; no weight decay on biases and LayerNorms."""
    groups: list[dict[str, Any]] = []
    for part, lr in ((network.encoder, tuner.learning_rate), (network.head, tuner.head_learning_rate)):
        decay, no_decay = [], []
        for name, parameter in part.named_parameters():
            if not parameter.requires_grad:
                continue
            (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(parameter)
        groups.append({"params": decay, "lr": lr, "weight_decay": tuner.weight_decay})
        groups.append({"params": no_decay, "lr": lr, "weight_decay": 0.0})
    return groups


# --------------------------------------------------------------------------------- batching

def _load_tokenizer(path: Path, max_seq_length: int):  # -> Callable[[list[str]], list[list[int]]]
    file = path / "tokenizer.json"
    if not file.is_file():
        raise ValueError(f"{path} has no tokenizer.json: save the model with a fast tokenizer")
    return _Tokenize(file.read_text(encoding="utf-8"), max_seq_length)


class _Tokenize:
    """The model's fast tokenizer, truncating at ``max_seq_length``, never padding; picklable."""

    def __init__(self, tokenizer_json: str, max_seq_length: int) -> None:
        self.tokenizer_json = tokenizer_json
        self.max_seq_length = max_seq_length
        self._tokenizer: Any = None

    def __call__(self, texts: list[str]) -> list[list[int]]:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_str(self.tokenizer_json)
            self._tokenizer.no_padding()
            self._tokenizer.enable_truncation(max_length=self.max_seq_length)
        return [e.ids for e in self._tokenizer.encode_batch(texts)]

    def __getstate__(self) -> dict[str, Any]:
        # The compiled tokenizer is rebuilt from its JSON on first use after loading.
        return {**self.__dict__, "_tokenizer": None}


def _training_batches(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator
) -> Iterator[np.ndarray]:
    """One epoch of row-index batches: a seeded shuffle, sorted by length within windows of
    ``_BUCKET_WINDOW`` batches (so little padding), then the batches themselves shuffled."""
    order = rng.permutation(len(lengths))
    lengths = np.asarray(lengths)
    window = batch_size * _BUCKET_WINDOW
    batches: list[np.ndarray] = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    for b in rng.permutation(len(batches)):
        yield batches[b]


def _pad(sequences: list[list[int]]):  # -> tuple[torch.Tensor, torch.Tensor]
    import torch

    width = max(len(s) for s in sequences)
    input_ids = np.zeros((len(sequences), width), dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for row, seq in enumerate(sequences):
        input_ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return torch.from_numpy(input_ids), torch.from_numpy(mask)


@contextmanager
def _torch_settings(num_threads: int, *, deterministic: bool) -> Iterator[None]:
    """torch's thread count and deterministic-kernel switch for the block, restored afterwards."""
    import torch

    threads, was_deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(max(1, int(num_threads)))
    if deterministic:
        torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(was_deterministic)
