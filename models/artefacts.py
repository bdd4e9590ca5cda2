"""Fitted models as versioned artefacts on disk, each with a model card.

An artefact is a folder ``<root>/<name>/<version>/`` holding ``model.pkl`` and ``card.json``. The
version is derived from what the model was fitted on (data, seed, parameters), so refitting the same
thing finds the same folder, and the card records what a person relying on a suggestion may ask:
which data (its hash), which codebook, which embedder, which seed, when, and how well it did.
Artefacts are written to a temporary folder and renamed into place, so a reader never sees half a
model. Pickle is only ever read from our own data directory.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ModelCard:
    name: str
    version: str
    codebook_version: str
    embedder: str
    seed: int
    data_hash: str
    n_training: int
    metrics: dict[str, Any] = field(default_factory=dict)
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    notes: str = ""

    def matches(self, *, codebook_version: str, embedder: str, data_hash: str) -> bool:
        return (self.codebook_version, self.embedder, self.data_hash) == (codebook_version, embedder, data_hash)


def artefact_dir(root: Path, name: str, version: str) -> Path:
    return root / name / version


def save_artefact(root: Path, model: object, card: ModelCard) -> Path:
    target = artefact_dir(root, card.name, card.version)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{card.version}-", dir=target.parent))
    try:
        with (staging / "model.pkl").open("wb") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
        (staging / "card.json").write_text(json.dumps(asdict(card), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def read_card(path: Path) -> ModelCard:
    return ModelCard(**json.loads((path / "card.json").read_text(encoding="utf-8")))


def load_artefact(path: Path) -> tuple[object, ModelCard]:
    card = read_card(path)
    with (path / "model.pkl").open("rb") as handle:
        model = pickle.load(handle)  # noqa: S301 - our own artefact under the user's data directory
    return model, card


def find_artefact(root: Path, name: str, *, codebook_version: str, embedder: str, data_hash: str) -> Path | None:
    """The artefact fitted on exactly this data, codebook and embedder, if one is stored."""
    folder = root / name
    if not folder.is_dir():
        return None
    for candidate in sorted(folder.iterdir()):
        if candidate.name.startswith(".") or not (candidate / "card.json").exists():
            continue
        if read_card(candidate).matches(codebook_version=codebook_version, embedder=embedder, data_hash=data_hash):
            return candidate
    return None
