"""The on-disk embedding cache: vectors keyed by embedder identity and the sha256 of the exact text.

Its own module because two processes (the web app and a CLI job) share one cache file, and what
makes that safe — WAL mode, a writer waiting for another, a set-up retried when both open a new file
at once — is a concern of its own, apart from how vectors are computed (``nlp.embeddings``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def text_key(text: str) -> str:
    """sha256 hex of the text's exact UTF-8 bytes: no normalisation, so "café" in NFC and NFD, or
    texts differing by one space, are different keys (their embeddings may differ too)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class EmbeddingCache:
    """Vectors on disk keyed by (embedder identity, sha256 of the exact text), in one SQLite file.

    ``<directory>/embeddings.sqlite3`` in WAL mode: any number of readers and one writer at a time
    across processes, a writer waiting up to ``timeout`` seconds for another. Only the hash of a text
    is stored, never the text. A vector is returned only for the exact key it was stored under, and
    only if its stored width matches its bytes. (WAL needs a local filesystem, not NFS.)
    """

    FILENAME = "embeddings.sqlite3"
    _SCHEMA = """CREATE TABLE IF NOT EXISTS embedding (model TEXT NOT NULL, text_sha256 TEXT NOT NULL,
        dim INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, text_sha256)) WITHOUT ROWID"""

    def __init__(self, directory: str | Path, *, timeout: float = 30.0) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / self.FILENAME
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        self._set_up(timeout)

    def _set_up(self, timeout: float) -> None:
        """WAL mode and the table, retried: switching a new file to WAL takes an exclusive lock, and
        SQLite answers "database is locked" at once (no busy wait) when two processes open the same
        new cache together."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._conn.executescript(
                    f"PRAGMA busy_timeout = {int(timeout * 1000)}; PRAGMA journal_mode = WAL; "
                    "PRAGMA synchronous = NORMAL;" + self._SCHEMA
                )
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def get_many(self, model: str, texts: Sequence[str]) -> list[np.ndarray | None]:
        """The cached vector of each text under ``model`` (a fresh float32 array), or ``None``.

        One query for the whole batch, whatever its size.
        """
        keys = [text_key(t) for t in texts]
        if not keys:
            return []
        with self._lock:
            rows = self._conn.execute(
                "SELECT text_sha256, dim, vector FROM embedding "
                "WHERE model = ? AND text_sha256 IN (SELECT value FROM json_each(?))",
                (model, json.dumps(keys)),
            ).fetchall()
        # A row whose bytes do not match its width is damaged: a miss, never a wrong vector.
        found = {key: np.frombuffer(blob, "<f4").astype(np.float32) for key, dim, blob in rows if len(blob) == 4 * dim}
        return [found.get(k) for k in keys]

    def put_many(self, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store ``vectors[i]`` for ``texts[i]`` under ``model``; a key already there is kept as is."""
        vectors = np.asarray(vectors, dtype="<f4")
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ValueError(f"{len(texts)} texts but vectors of shape {vectors.shape}")
        rows = [(model, text_key(t), vectors.shape[1], vectors[i].tobytes()) for i, t in enumerate(texts)]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO embedding (model, text_sha256, dim, vector) VALUES (?, ?, ?, ?)", rows
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def count(self, model: str | None = None) -> int:
        """Vectors stored, for one model identity or all."""
        sql, args = ("SELECT count(*) FROM embedding", ()) if model is None else (
            "SELECT count(*) FROM embedding WHERE model = ?", (model,))
        with self._lock:
            return int(self._conn.execute(sql, args).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
