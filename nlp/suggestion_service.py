"""Answers in, suggestions out: de-identify, segment, score themes, map outcomes and headings.

The one entry point the CLI, the API and batch coding share. Everything it returns is built from the
de-identified text, so no original name, e-mail or number can reach a suggestion, a quote or a report
through it.
"""

from __future__ import annotations

from collections.abc import Sequence

from corpora.codebook import Codebook
from corpora.errors import ClwstwrError

from .deidentify import Deidentifier, KnownNames
from .outcome_mapping import OutcomeMapper
from .suggestions import Suggestion, ThemeSuggestion
from .theme_suggester import ThemeSuggester


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

    def for_round(self, known: KnownNames) -> SuggestionService:
        """The same models, de-identifying with the names a round's metadata knows (its clusters...)."""
        return SuggestionService(self.codebook, Deidentifier(self.deidentifier.nlp, known), self.suggester, self.mapper)

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
        return self.suggest_many([text], [kind])[0]

    def suggest_many(self, texts: Sequence[str], kinds: Sequence[str | None]) -> list[Suggestion]:
        if len(texts) != len(kinds):
            raise ValueError("texts and kinds must be the same length")
        question_ids = [self.question_id(k) for k in kinds]
        clean = [d.text for d in self.deidentifier.pipe(texts)]
        scored = self.suggester.score(clean, question_ids)
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
