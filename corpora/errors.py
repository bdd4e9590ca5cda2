"""The project's error vocabulary.

Every error Clwstwr raises on purpose derives from ``ClwstwrError`` and carries a stable ``code`` that
the API's error answers, the CLI and the logs show, so a person can search for it and a test can
assert it. Codes never change meaning once released; a new kind of error gets a new code.

It lives in ``corpora`` because ``corpora`` is the bottom layer: every other package may import it,
and it imports nothing of ours. Subclasses are defined next to the code that raises them.

Hierarchy (codes are grouped by hundreds, one block per area)::

    ClwstwrError                       CW000  base; never raised directly
    ├── CodebookError                  CW100  corpora: codebook data missing, malformed or asked for an unknown id
    ├── UnreadableFileError            CW200  clwstwr.ingest.tables: a file that is not a readable table
    ├── ImportValidationError          CW210  clwstwr.ingest.self_reflection: rows that do not fit the codebook
    ├── RoundNotFoundError             CW300  store.rounds: no round of that name
    ├── SubmissionNotFoundError        CW301  store.rounds: no submission for that cluster in the round
    ├── UnknownKindError               CW400  nlp.suggestion_service: a question kind not in the codebook
    ├── DeidentificationError          CW410  nlp.deidentify: base of de-identification errors
    │   └── SpanOutOfRangeError        CW411  an offset range outside the text
    ├── ModelUnavailableError          CW420  nlp.embeddings: the embedding model is not installed / not a local path
    ├── PdfExportUnavailableError      CW440  letters.pdf_export: no Chromium to print PDF with, or it failed
    ├── PeerReviewError                CW600  letters: a peer-review record or its notes that cannot be used
    ├── DraftNotFoundError             CW610  store.letters: no letter draft with that id
    ├── StaleDraftError                CW611  store.letters: an edit made against an old version (HTTP 409)
    ├── ReviewNotFoundError            CW612  store.letters: no peer review with that id
    ├── ReportError                    CW620  letters: a report asked for something the round cannot give
    ├── MessageCatalogueError          CW630  letters.message_catalogue: an English/Welsh catalogue that is incomplete or malformed
    ├── AuthenticationError            CW700  api.auth: not logged in, or wrong user name / password
    ├── PermissionDeniedError          CW701  api.auth: logged in, but the role may not do this
    ├── InsecureSettingsError          CW702  clwstwr.settings: a placeholder secret outside development
    ├── UserAccountError               CW703  store.users: a bad user name, role or password, or no such user
    ├── LoginThrottledError            CW704  store.users: too many failed log-ins for a user name lately (HTTP 429)
    ├── CodingError                    CW710  store.workspace: a coding decision that cannot be recorded
    ├── AgreementError                 CW711  clwstwr.agreement_coefficients: coding records agreement cannot be computed from
    └── QdpxError                      CW800  clwstwr.refi_qda: a .qdpx file that is not a valid REFI-QDA project

Unexpected exceptions (bugs) are deliberately *not* ``ClwstwrError``: they are logged and answered
generically, never shown to users.
"""

from __future__ import annotations

__all__ = ["ClwstwrError", "CodebookError"]


class ClwstwrError(Exception):
    """Base of every deliberate Clwstwr error.

    ``message`` is written for the person who has to fix the input: it names the file, row or field
    and what was expected. ``code`` identifies the kind of error, independent of the wording.
    """

    code: str = "CW000"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CodebookError(ClwstwrError):
    """The codebook data is invalid, or a lookup named an id the codebook does not have.

    Raised at load time (naming the YAML file and the entry) so a bad edit to the data never reaches
    a coder, and by ``Codebook`` lookups (naming the id and listing the valid ones).
    """

    code = "CW100"
