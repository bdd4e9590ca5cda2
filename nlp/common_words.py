"""Everyday English words, so that a capitalised "Funding" is not taken for somebody's name.

Why: de-identification treats a run of proper nouns (Penn tags NNP/NNPS) that NER left alone as a
name, which catches Welsh given names the model does not know ("Hefina", "Lleucu"). But spaCy's tagger
also calls capitalised words at the start of a bullet or a heading proper nouns, so a list answer
("- Funding / - Time / - Engagement from practices") lost every item to ``[PERSON]``, and with it its
themes. A word that is an ordinary lower-case word of English is not a name found *only* by its tag.

Where the words come from: the whole lower-case words of the bundled embedding model's WordPiece
vocabulary (it is on every machine that runs Clwstwr, so nothing extra is shipped or downloaded).
That vocabulary also holds names, but it is ordered roughly by frequency ("the" 1996, "time" 2051,
"funding" 4804, "engagement" 8147; "gareth" 20243, "mathias" 20494, "bellamy" 25544), so only the
words before ``FREQUENT_RANK`` count as everyday words. The caller also keeps out the built-in given
names and surnames, and anything NER labels a person.
"""

from __future__ import annotations

import functools
from pathlib import Path

from models.embedding_model import EmbeddingModelNotFoundError, bundled_model_path


#: Vocabulary rank below which a word is an everyday word (on the deid benchmark, 20,000 kept every
#: name that the full vocabulary lost, and still dropped the bullet and place false positives).
FREQUENT_RANK = 20_000


def words_from_vocabulary(vocab_file: Path, max_rank: int = FREQUENT_RANK) -> frozenset[str]:
    """Whole words of a WordPiece ``vocab.txt`` before ``max_rank``: alphabetic, lower-case, two
    letters or more."""
    words = set()
    for rank, line in enumerate(vocab_file.read_text(encoding="utf-8").splitlines()):
        if rank >= max_rank:
            break
        token = line.strip()
        if len(token) > 1 and token.isalpha() and token.islower():
            words.add(token)
    return frozenset(words)


@functools.cache
def common_english_words() -> frozenset[str]:
    """The bundled model's vocabulary words (read once per process; an immutable set).

    Empty when the bundled model is not installed: de-identification then keeps every proper-noun
    run, as before, so it never finds fewer names for want of this list.
    """
    try:
        vocab = bundled_model_path() / "vocab.txt"
    except EmbeddingModelNotFoundError:
        return frozenset()
    return words_from_vocabulary(vocab) if vocab.is_file() else frozenset()
