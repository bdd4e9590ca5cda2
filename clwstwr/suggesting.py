"""Build the suggestion service from settings: models loaded once, the fitted suggester reused.

The bundled suggester is fitted on the codebook's examples and the bundled training answers the first
time it is needed, then saved under ``<CLWSTWR_HOME>/models`` with its model card; later processes load
it in well under a second. A change to the training data, the codebook, the seed or the embedder gives
a different key, so a stale model is never reused.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpora.codebook import Codebook
from corpora.training_data import bundled_training_answers
from models.artefacts import ModelCard, find_artefact, load_artefact, save_artefact
from nlp.deidentify import Deidentifier, KnownNames, load_spacy_pipeline
from nlp.embeddings import CachedEmbedder, EmbeddingCache, load_embedder
from nlp.outcome_mapping import OutcomeMapper
from nlp.suggestion_service import SuggestionService
from nlp.theme_features import FEATURE_NAMES, FEATURE_VERSION
from nlp.theme_suggester import LabelledAnswer, ThemeSuggester

from .active_model import usable_artefact
from .settings import Settings

log = logging.getLogger(__name__)

SUGGESTER_NAME = "theme-suggester"
DEFAULT_SEED = 0


@dataclass(frozen=True)
class TextModels:
    """The heavy, shareable pieces: one of each per process."""

    embedder: CachedEmbedder
    spacy_pipeline: object


def load_text_models(settings: Settings) -> TextModels:
    """Load the embedder and spaCy once for the process.

    BLAS is limited to one thread: every matrix here is small (a few sentences against a thousand
    bank vectors), and OpenBLAS's thread hand-off cost more than the work -- one thread cut a warm
    suggestion's wall time by about a third on the 2-core machine (``evaluation/api_latency.py``).
    ONNX Runtime keeps its own intra-op threads for the model itself.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    settings.ensure_home()
    cache = EmbeddingCache(settings.cache_dir / "embeddings")
    embedder = load_embedder(settings.embedding_model, cache_dir=settings.cache_dir)
    return TextModels(embedder=CachedEmbedder(embedder, cache), spacy_pipeline=load_spacy_pipeline(settings.spacy_model))


def training_key(codebook: Codebook, labelled: Sequence[LabelledAnswer], seed: int) -> str:
    digest = hashlib.sha256(f"{codebook.version}|{seed}|{FEATURE_VERSION}|{FEATURE_NAMES}".encode())
    for a in labelled:
        digest.update(f"{a.source}\x1f{a.question_id}\x1f{','.join(a.themes)}\x1f{a.text}\x1e".encode())
    return digest.hexdigest()[:16]


def bundled_labelled(codebook: Codebook) -> list[LabelledAnswer]:
    return [LabelledAnswer(x.text, x.question_id, x.themes, x.source) for x in bundled_training_answers(codebook)]


def load_or_fit_suggester(
    models_dir: Path,
    codebook: Codebook,
    embedder: CachedEmbedder,
    labelled: Sequence[LabelledAnswer],
    *,
    seed: int = DEFAULT_SEED,
    progress: Callable[[str], None] = lambda _m: None,
    notes: str = "pair-feature logistic model; threshold and floor chosen out of fold (grouped by source)",
) -> tuple[ThemeSuggester, Path]:
    key = training_key(codebook, labelled, seed)
    found = find_artefact(models_dir, SUGGESTER_NAME, codebook_version=codebook.version,
                          embedder=embedder.identity, data_hash=key)
    if found is not None:
        model, _card = load_artefact(found)
        assert isinstance(model, ThemeSuggester)
        return model.with_embedder(embedder), found
    progress(f"fitting the theme suggester on {len(labelled)} labelled answers and the codebook examples")
    suggester = ThemeSuggester(codebook, embedder, seed=seed).fit(labelled)
    card = ModelCard(
        name=SUGGESTER_NAME,
        version=suggester.fit_hash_,
        codebook_version=codebook.version,
        embedder=embedder.identity,
        seed=seed,
        data_hash=key,
        n_training=len(labelled),
        metrics=dict(suggester.metrics_),
        notes=notes,
    )
    return suggester, save_artefact(models_dir, suggester, card)


def build_suggestion_service(
    settings: Settings,
    codebook: Codebook,
    *,
    models: TextModels | None = None,
    known: KnownNames = KnownNames(),
    progress: Callable[[str], None] = lambda _m: None,
) -> SuggestionService:
    models = models or load_text_models(settings)
    chosen = usable_artefact(settings.models_dir, codebook_version=codebook.version, embedder=models.embedder.identity)
    model = load_artefact(chosen)[0] if chosen is not None else None
    if chosen is not None and not (isinstance(model, ThemeSuggester) and model.has_current_features):
        log.warning("the suggester put into service (%s) was fitted on an older version of the theme features; "
                    "using the bundled one until it is retrained", chosen)
        model = None
    if isinstance(model, ThemeSuggester):
        # A retrained suggester someone put into service (clwstwr.active_model) outlives restarts.
        suggester = model.with_embedder(models.embedder)
    else:
        suggester, _path = load_or_fit_suggester(
            settings.models_dir, codebook, models.embedder, bundled_labelled(codebook), progress=progress
        )
    mapper = OutcomeMapper(codebook, models.embedder).fit()
    deidentifier = Deidentifier(models.spacy_pipeline, known, cue_words=codebook.cue_words())  # type: ignore[arg-type]
    return SuggestionService(codebook, deidentifier, suggester, mapper)
