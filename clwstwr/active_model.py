"""Which fitted suggester is in service: the bundled fit, or a retrained one someone chose.

Why a pointer file beside the artefacts rather than "newest wins": a retrained model can score worse
than the one in service on held-out decisions (the retraining page shows it), so a person decides to
put it into service, and that choice must survive a restart. The pointer names the artefact folder and
who chose it; the artefact's model card is checked against the codebook and embedder in use before it
is loaded, so a pointer left over from another codebook version is ignored with a warning instead of
giving suggestions for themes that no longer exist.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from models.artefacts import ModelCard, read_card

log = logging.getLogger(__name__)

POINTER_NAME = "active_suggester.json"


@dataclass(frozen=True)
class ActiveModel:
    """The artefact in service and who put it there (``retrain_id`` None for a hand-made choice)."""

    artefact: str
    version: str
    activated_by: str
    activated_at: str
    retrain_id: int | None = None


def pointer_path(models_dir: Path) -> Path:
    return Path(models_dir) / POINTER_NAME


def read_active(models_dir: Path) -> ActiveModel | None:
    """The recorded choice, or None when the bundled fit is in service (or the pointer is unreadable)."""
    path = pointer_path(models_dir)
    if not path.is_file():
        return None
    try:
        return ActiveModel(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        log.warning("ignoring %s (%s); the bundled suggester stays in service", path, exc)
        return None


def usable_artefact(models_dir: Path, *, codebook_version: str, embedder: str) -> Path | None:
    """The chosen artefact if it exists and was fitted for this codebook and embedder, else None."""
    active = read_active(models_dir)
    if active is None:
        return None
    folder = Path(active.artefact)
    if not (folder / "card.json").is_file() or not (folder / "model.pkl").is_file():
        log.warning("the suggester put into service (%s) is missing; using the bundled one", folder)
        return None
    card: ModelCard = read_card(folder)
    if (card.codebook_version, card.embedder) != (codebook_version, embedder):
        log.warning(
            "the suggester put into service was fitted for codebook %s / %s, not %s / %s; using the bundled one",
            card.codebook_version, card.embedder, codebook_version, embedder,
        )
        return None
    return folder


def record_active(models_dir: Path, artefact: Path, version: str, *, actor: str, retrain_id: int | None) -> ActiveModel:
    """Write the pointer atomically (a reader never sees half a file)."""
    chosen = ActiveModel(
        artefact=str(Path(artefact).resolve()), version=version, activated_by=actor,
        activated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), retrain_id=retrain_id,
    )
    target = pointer_path(models_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=".active-", dir=target.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(json.dumps(asdict(chosen), indent=2) + "\n")
    os.replace(staging, target)
    return chosen


def clear_active(models_dir: Path) -> None:
    """Back to the bundled fit."""
    pointer_path(models_dir).unlink(missing_ok=True)
