"""Import a self-reflection export into a round: read, validate all of it, then store it in one go.

All-or-nothing by default (DESIGN.md, "Bad input"): a file with any bad row stores nothing and the
error lists every bad row. ``skip_bad_rows=True`` stores the good rows and still reports the bad ones.
Importing the same file again is a no-op, and a cluster already stored with identical answers is
skipped rather than counted twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from corpora.codebook import Codebook
from store import rounds
from store.database import transaction

from .ingest.self_reflection import ImportProblem, ImportValidationError, SubmissionRecord, parse_round
from .ingest.tables import read_table


@dataclass(frozen=True)
class ImportResult:
    round_name: str
    source_name: str
    stored: int
    already_stored: int
    skipped_rows: tuple[ImportProblem, ...]
    ignored_columns: tuple[str, ...]
    already_imported: bool = False


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def import_file(
    factory: sessionmaker[Session],
    codebook: Codebook,
    path: Path,
    round_name: str,
    *,
    actor: str,
    skip_bad_rows: bool = False,
    progress: Callable[[str], None] = lambda _msg: None,
) -> ImportResult:
    """Validate ``path`` completely, then store it in one transaction (or raise and store nothing)."""
    progress(f"reading {path.name}")
    table = read_table(path)
    digest = file_sha256(path)
    with transaction(factory) as session:
        existing_round = rounds.get_round(session, round_name)
        if existing_round is not None and rounds.find_import(session, existing_round.id, digest) is not None:
            return ImportResult(round_name, table.source_name, 0, 0, (), (), already_imported=True)

    progress(f"checking {len(table.rows)} rows against the codebook")
    parsed = parse_round(table, codebook)
    file_level = [p for p in parsed.problems if p.row is None]
    if file_level or (parsed.problems and not skip_bad_rows):
        raise ImportValidationError(table.source_name, list(parsed.problems))

    with transaction(factory) as session:
        round_ = rounds.get_or_create_round(session, round_name)
        stored = rounds.stored_keys(session, round_.id)
        new: list[SubmissionRecord] = []
        repeated = 0
        conflicts: list[ImportProblem] = []
        for record in parsed.records:
            previous = stored.get(record.cluster_key)
            if previous is None:
                new.append(record)
            elif previous.content_hash == record.content_hash():
                repeated += 1
            else:
                conflicts.append(
                    ImportProblem(
                        record.row,
                        None,
                        record.cluster_name,
                        f"a cluster not already in round '{round_name}' (it was stored from "
                        f"{previous.source_name} row {previous.source_row} with different answers)",
                    )
                )
        if conflicts and not skip_bad_rows:
            raise ImportValidationError(table.source_name, conflicts)
        progress(f"storing {len(new)} submissions")
        rounds.add_import(
            session,
            round_,
            source_name=table.source_name,
            sha256=digest,
            file_format=table.file_format,
            records=new,
            actor=actor,
        )
    return ImportResult(
        round_name=round_name,
        source_name=table.source_name,
        stored=len(new),
        already_stored=repeated,
        skipped_rows=tuple(parsed.problems) + tuple(conflicts),
        ignored_columns=parsed.ignored_columns,
    )
