"""Matching a Forms export's column headers to the codebook, tolerantly.

People rename, renumber and re-export forms: "1. An Informed Public", "An informed public2" (Forms adds a
digit to repeated titles) and "An Informed Public " must all find PCMW outcome 1. Matching compares
normalised text (case, accents, punctuation, '&' vs 'and', leading and trailing numbering folded); a
header that two roles claim, or a role that two headers claim, is an error rather than a guess.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from corpora.codebook import Codebook

_LEADING_NUMBER = re.compile(r"^(?:q(?:uestion)?\s*)?\d+(?:\s+|$)")
_TRAILING_NUMBER = re.compile(r"\s*\d+$")
_NON_WORD = re.compile(r"[^a-z0-9]+")

# Roles that are not codebook entries: the columns Microsoft Forms writes first, and our metadata.
FIXED_ROLES: dict[str, tuple[str, ...]] = {
    "external_id": ("id",),
    "started_at": ("start time",),
    "completed_at": ("completion time",),
    "respondent_email": ("email",),
    "respondent_name": ("name",),
    "last_modified": ("last modified time",),
    "cluster": ("cluster", "cluster name", "name of cluster", "name of your cluster", "which cluster"),
    "health_board": ("health board", "health board area", "which health board", "hb"),
    "team_stage": (
        "team development",
        "team development stage",
        "stage of team development",
        "tuckman",
        "which stage of team development best describes your cluster",
    ),
}


def normalise(text: str) -> str:
    """Fold case, accents, punctuation and '&'; keep digits (outcome numbers matter)."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace("&", " and ")
    return _NON_WORD.sub(" ", text).strip()


def header_variants(header: str) -> tuple[str, ...]:
    """The normalised header, then with leading numbering removed, then trailing numbering too."""
    base = normalise(header)
    no_lead = _LEADING_NUMBER.sub("", base).strip()
    no_trail = _TRAILING_NUMBER.sub("", no_lead).strip()
    out: list[str] = []
    for variant in (base, no_lead, no_trail):
        if variant and variant not in out:
            out.append(variant)
    return tuple(out)


@dataclass(frozen=True)
class HeaderMatch:
    roles: dict[str, str]  # role -> header
    ignored: tuple[str, ...]  # headers that match no role (reported, not imported)
    conflicts: tuple[str, ...]  # human-readable problems: ambiguous or duplicated columns


def role_names(codebook: Codebook) -> dict[str, tuple[str, ...]]:
    """Every role the importer fills, with the normalised names a header may carry for it."""
    names: dict[str, tuple[str, ...]] = {role: tuple(normalise(a) for a in aliases) for role, aliases in FIXED_ROLES.items()}
    for outcome in codebook.outcomes:
        module = outcome.module.upper()
        candidates = [outcome.name, *outcome.aliases, f"{module} outcome {outcome.number}", f"{module} {outcome.number}"]
        candidates += [f"{module} outcome {outcome.number} {outcome.name}", f"{module} {outcome.number} {outcome.name}"]
        names[f"outcome:{outcome.id}"] = tuple(dict.fromkeys(normalise(c) for c in candidates))
    for question in codebook.questions:
        candidates = [question.label, question.wording, *question.aliases]
        names[f"question:{question.id}"] = tuple(dict.fromkeys(normalise(c) for c in candidates if c))
    return names


def _match_header(header: str, names: dict[str, tuple[str, ...]]) -> set[str]:
    variants = header_variants(header)
    for variant in variants:
        exact = {role for role, aliases in names.items() if variant in aliases}
        if exact:
            return exact
    # A Forms matrix may prefix the row label with the question title ("Maturity - An informed public"):
    # accept a header that ends with a long-enough alias, but only after exact matching failed.
    # The longest matching alias wins, so "barriers to effective cluster working" beats "effective
    # cluster working"; equally long matches for two roles stay ambiguous.
    for variant in variants:
        best: dict[str, int] = {}
        for role, aliases in names.items():
            if not role.startswith(("outcome:", "question:")):
                continue
            lengths = [len(a) for a in aliases if len(a) >= 12 and variant.endswith(" " + a)]
            if lengths:
                best[role] = max(lengths)
        if best:
            top = max(best.values())
            return {role for role, length in best.items() if length == top}
    return set()


def match_headers(headers: tuple[str, ...], codebook: Codebook) -> HeaderMatch:
    names = role_names(codebook)
    roles: dict[str, str] = {}
    ignored: list[str] = []
    conflicts: list[str] = []
    for header in headers:
        found = _match_header(header, names)
        if not found:
            ignored.append(header)
            continue
        if len(found) > 1:
            conflicts.append(f"column '{header}' could be any of: {', '.join(sorted(found))}; rename it")
            continue
        role = found.pop()
        if role in roles:
            conflicts.append(f"columns '{roles[role]}' and '{header}' both look like {describe_role(role, codebook)}")
            continue
        roles[role] = header
    return HeaderMatch(roles=roles, ignored=tuple(ignored), conflicts=tuple(conflicts))


def describe_role(role: str, codebook: Codebook) -> str:
    """A role as a person would name it in an error message."""
    if role.startswith("outcome:"):
        return f"the {codebook.outcome(role.split(':', 1)[1]).label} rating"
    if role.startswith("question:"):
        return f"the answer to '{codebook.question(role.split(':', 1)[1]).label}'"
    return {
        "cluster": "the cluster name",
        "health_board": "the health board",
        "team_stage": "the team development stage",
    }.get(role, role.replace("_", " "))
