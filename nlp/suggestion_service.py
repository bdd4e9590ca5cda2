"""Answers in, suggestions out: de-identify, segment, score themes, map outcomes and headings.

The one entry point the CLI, the API and batch coding share. Everything it returns is built from the
de-identified text, so no original name, e-mail or number can reach a suggestion, a quote or a report
through it.

One answer at a time (the API) is latency-bound, and its two costly steps -- spaCy's NER for
de-identification and the embedding model -- are independent in the common case: most answers hold
no identifier, so the text de-identification returns is the text it was given. ``suggest`` therefore
runs spaCy on a worker thread while this thread runs the embedding model on the answer as given, and
keeps those vectors only if de-identification left the text unchanged; otherwise it drops them
unstored and embeds the de-identified text, exactly as the sequential path does. Either way the
result is the one ``suggest_many`` gives: same sentences, same single encode call, same vectors.

The order is chosen for the GIL. Everything that needs it on this thread (segmenting, the cache
query, tokenising) happens first; spaCy is started at the moment the model starts (ONNX Runtime
releases the GIL while it computes), so neither thread waits out the interpreter's 5 ms switch
interval behind the other. Many answers at once (``suggest_many``) stay sequential: there one batched
encode of every sentence is what is fast, and any answer with an identifier would waste a speculative one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

from corpora.codebook import Codebook
from corpora.errors import ClwstwrError

from .deidentify import DeidentifiedText, Deidentifier, KnownNames
from .embeddings import CachedEmbedder, PendingVectors
from .outcome_mapping import OutcomeMapper
from .suggestions import Suggestion, ThemeSuggestion
from .theme_suggester import AnswerScores, ThemeSuggester


T = TypeVar("T")


class UnknownKindError(ClwstwrError):
    """A question kind that is not in the codebook."""

    code = "CW400"


class SuggestionService:
    def __init__(
        self, codebook: Codebook, deidentifier: Deidentifier, suggester: ThemeSuggester, mapper: OutcomeMapper
    ) -> None:
        self.codebook = codebook
        self.deidentifier = deidentifier
        self.suggester = suggester
        self.mapper = mapper
        self._labels = {t.id: t.label for t in codebook.themes_for(None)}
        self._kinds = {q.kind: q.id for q in codebook.questions} | {q.id: q.id for q in codebook.questions}
        self._worker: ThreadPoolExecutor | None = None
        self._worker_lock = threading.Lock()

    def for_round(self, known: KnownNames) -> SuggestionService:
        """The same models, de-identifying with the names a round's metadata knows (its clusters...)."""
        deidentifier = Deidentifier(
            self.deidentifier.nlp, known, self.deidentifier.common_words, cue_words=self.deidentifier.cue_words,
            welsh_words=self.deidentifier.welsh_words,
        )
        return SuggestionService(self.codebook, deidentifier, self.suggester, self.mapper)

    def close(self) -> None:
        """Stop the de-identification worker thread, if one was started (it is also stopped at exit)."""
        with self._worker_lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown(wait=True)

    @property
    def model(self) -> str:
        return self.suggester.identity

    def question_id(self, kind: str | None) -> str | None:
        if kind is None or kind == "":
            return None
        try:
            return self._kinds[kind]
        except KeyError:
            valid = ", ".join(q.kind for q in self.codebook.questions)
            raise UnknownKindError(f"unknown kind '{kind}'; expected one of: {valid} (or none for all themes)") from None

    def suggest(self, text: str, kind: str | None = None) -> Suggestion:
        """One answer, with de-identification and embedding overlapped (see the module docstring)."""
        if not isinstance(text, str):
            raise TypeError(f"text is {type(text).__name__}, expected str")
        question_ids = [self.question_id(kind)]
        embedder = self.suggester.embedder
        if not isinstance(embedder, CachedEmbedder):
            return self.suggest_many([text], [kind])[0]
        segments = self.suggester.segment_all([text])
        started: list[Future[list[DeidentifiedText]]] = []
        pending: PendingVectors | None = None
        try:
            pending = embedder.encode_pending(
                self.suggester.sentence_texts(segments),
                before_forward=lambda: started.append(self._in_background(self.deidentifier.pipe, [text])),
            )
        except Exception:
            pending = None  # the plain path below decides, and raises again if the model is at fault
        finally:
            wait(started)  # a failed request leaves no de-identification running behind it
        clean = (started[0].result() if started else self.deidentifier.pipe([text]))[0].text
        if clean != text or pending is None:  # an identifier was replaced: the vectors are never stored
            scored = self.suggester.score([clean], question_ids)
        else:
            scored = self.suggester.score_segmented([clean], question_ids, segments, pending.commit())
        return self._suggestions([clean], [kind], scored)[0]

    def suggest_many(self, texts: Sequence[str], kinds: Sequence[str | None]) -> list[Suggestion]:
        """Many answers: de-identify all, then embed all sentences in one call (batched by length)."""
        if len(texts) != len(kinds):
            raise ValueError("texts and kinds must be the same length")
        question_ids = [self.question_id(k) for k in kinds]
        clean = [d.text for d in self.deidentifier.pipe(texts)]
        return self._suggestions(clean, kinds, self.suggester.score(clean, question_ids))

    def _in_background(self, fn: Callable[[list[str]], T], arg: list[str]) -> Future[T]:
        with self._worker_lock:
            if self._worker is None:
                self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clwstwr-deidentify")
            return self._worker.submit(fn, arg)

    def _suggestions(
        self, clean: Sequence[str], kinds: Sequence[str | None], scored: Sequence[AnswerScores]
    ) -> list[Suggestion]:
        out = []
        for text, kind, scores in zip(clean, kinds, scored):
            themes = tuple(
                ThemeSuggestion(
                    id=s.theme_id,
                    label=self._labels[s.theme_id],
                    score=s.score,
                    evidence=scores.segments[s.sentence_index].text if s.sentence_index >= 0 else "",
                    evidence_start=scores.segments[s.sentence_index].start if s.sentence_index >= 0 else 0,
                    evidence_end=scores.segments[s.sentence_index].end if s.sentence_index >= 0 else 0,
                )
                for s in scores.suggested
            )
            if scores.segments:
                outcomes, headings = self.mapper.map_embedded(scores.sentence_embeddings, text)
            else:
                outcomes, headings = (), ()
            out.append(
                Suggestion(
                    text=text,
                    kind=kind or None,
                    themes=themes,
                    outcomes=outcomes,
                    headings=headings,
                    model=self.model,
                )
            )
        return out
