"""A suggester put into service must have been fitted on the features this code computes: a model
saved before the features changed meaning would be fed numbers it never learnt from."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import pytest

from clwstwr.active_model import clear_active, record_active
from clwstwr.settings import Settings
from clwstwr.suggesting import SUGGESTER_NAME, build_suggestion_service
from models.artefacts import ModelCard, save_artefact
from nlp.theme_features import FEATURE_VERSION


def _put_into_service(models_dir: Path, suggester: object, codebook_version: str, embedder: str, version: str) -> Path:
    card = ModelCard(name=SUGGESTER_NAME, version=version, codebook_version=codebook_version,
                     embedder=embedder, seed=0, data_hash=version, n_training=0)
    folder = save_artefact(models_dir, suggester, card)
    record_active(models_dir, folder, version, actor="lead", retrain_id=None)
    return folder


@pytest.mark.slow
def test_a_suggester_fitted_on_older_features_is_not_put_back_into_service(
    models_home: Path, text_models, codebook, suggestion_service, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(home=models_home)  # the session's models folder: the bundled fit is found, not refitted
    embedder = text_models.embedder.identity
    bundled = suggestion_service.suggester
    assert bundled.has_current_features
    try:
        current = copy.copy(bundled)
        current.threshold_ = bundled.threshold_ + 0.01  # a different model, so that "in service" shows
        _put_into_service(settings.models_dir, current, codebook.version, embedder, "current0")
        assert build_suggestion_service(settings, codebook, models=text_models).suggester.threshold_ == current.threshold_

        stale = copy.copy(current)
        stale.feature_version_ = FEATURE_VERSION - 1
        folder = _put_into_service(settings.models_dir, stale, codebook.version, embedder, "stale000")
        with caplog.at_level(logging.WARNING, logger="clwstwr.suggesting"):
            service = build_suggestion_service(settings, codebook, models=text_models)
        assert service.suggester.threshold_ == bundled.threshold_ and service.model == suggestion_service.model
        assert str(folder) in caplog.text and "older version of the theme features" in caplog.text
    finally:
        clear_active(settings.models_dir)  # the models folder is shared by the test session

    unversioned = copy.copy(bundled)  # as a model pickled before the version was recorded on it
    del unversioned.feature_version_
    assert not unversioned.has_current_features
