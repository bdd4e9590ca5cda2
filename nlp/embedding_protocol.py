"""The one thing the text models need of an embedder: texts in, unit vectors out.

A Protocol, so the suggester, the mapper and topic discovery take any encoder (the cached production
embedder, a test's small stand-in) without importing a model library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Encodes(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row L2-normalised."""
        ...
