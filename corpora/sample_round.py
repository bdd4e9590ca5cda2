"""The bundled sample round: 46 fictional clusters' self-reflection returns, as a Forms export.

The file is built by ``python -m corpora.sample_round`` from three inputs kept beside it:
``clusters.yaml`` (who), ``answers_*.yaml`` (free text written for the sample, with the themes a
reviewer would code) and ``published_2024_counts.yaml`` (the published all-Wales counts the maturity
answers must reproduce). Ratings are assigned from a seeded per-cluster propensity, so a cluster that
is mature in one outcome tends to be further on in others, as real returns are, while every outcome's
column still holds exactly the published counts. The built .xlsx/.csv are committed; rebuilding with
the same seed gives the same bytes of content.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from corpora.codebook import Codebook, load_codebook

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
SAMPLE_ROUND_NAME = "sample-2024"
SAMPLE_XLSX = "self_reflection_2024_sample.xlsx"
SAMPLE_CSV = "self_reflection_2024_sample.csv"
SEED = 2024

# The column headers of the 2024 self-reflection form, as its export carries them.
PCMW_HEADERS = (
    "An Informed Public",
    "Empowered communities",
    "Support for well-being, prevention & self-care",
    "Local Services",
    "Seamless working",
    "Safe & effective call handling, signposting & triage",
    "Quality out-of-hours care",
    "Directly accessed services",
    "Integrated care for people with multiple care needs",
    "Cluster estates & facilities support multi-professional working",
    "Cluster IT systems enable cluster communications & data sharing",
    "Ease of access to community diagnostics supporting high-quality care",
    "Finance systems designed to drive whole-system transformative change",
)
ACD_HEADERS = (
    "Enhanced integrated planning between clusters, Health Boards & Local Authorities",
    "Wider range of services delivered across a cluster, meeting population priorities and need, closer to home",
    "More effective leaders across the primary care system, collaboratives, and clusters",
    "Improved equity of cluster care service provision based upon local need",
    "Improved multi-professional & multi-agency services delivered",
    "Effective, efficient, and long-term sustainable cluster workforce and services",
    "Empowered clusters with increased autonomy, flexibility, and vision",
)
LEADING_HEADERS = ("ID", "Start time", "Completion time", "Email", "Name")
CLUSTER_HEADER = "Cluster name"
BOARD_HEADER = "Health board"
CONTRIBUTORS_HEADER = "Who contributed to this self-reflection?"
STAGE_HEADER = "Which stage of team development best describes your cluster?"
CONTRIBUTOR_GROUPS = (
    "Cluster lead", "Health board", "GP collaborative", "Pharmacy collaborative", "Optometry collaborative",
    "Dental collaborative", "Community nursing", "Local authority", "Third sector", "Allied health professionals",
)
BOARD_LABELS = {
    "abuhb": "Aneurin Bevan University Health Board",
    "bcuhb": "Betsi Cadwaladr University Health Board",
    "cavuhb": "Cardiff and Vale University Health Board",
    "ctmuhb": "Cwm Taf Morgannwg University Health Board",
    "hduhb": "Hywel Dda University Health Board",
    "pthb": "Powys Teaching Health Board",
    "sbuhb": "Swansea Bay University Health Board",
}
RESPONDENTS = (
    "Gwenllian Pritchard", "Rhodri Llewellyn", "Ffion Morgan", "Dafydd Hughes", "Sian Roberts", "Iestyn Evans",
    "Bethan Jones", "Geraint Thomas", "Llinos Davies", "Owain Williams", "Nia Powell", "Huw Griffiths",
)


def bundled_sample_path() -> Path:
    """The sample export the demo imports."""
    return SAMPLE_DIR / SAMPLE_XLSX


@dataclass(frozen=True)
class SampleCluster:
    number: int
    name: str
    board: str
    places: tuple[str, ...]


def load_clusters() -> tuple[SampleCluster, ...]:
    doc = yaml.safe_load((SAMPLE_DIR / "clusters.yaml").read_text(encoding="utf-8"))
    return tuple(
        SampleCluster(int(c["n"]), str(c["name"]), str(c["board"]), tuple(c.get("places", ())))
        for c in doc["clusters"]
    )


def load_sample_answers() -> list[dict[str, object]]:
    """Every sample answer with its cluster number, question id, text and the intended themes."""
    out: list[dict[str, object]] = []
    for name in ("answers_barriers.yaml", "answers_enablers.yaml"):
        doc = yaml.safe_load((SAMPLE_DIR / name).read_text(encoding="utf-8"))
        out.extend(doc["answers"])
    return out


def assign_levels(
    propensity: list[float], counts: list[int], rng_noise: list[float], level_ids: tuple[str, ...]
) -> list[str | None]:
    """Give each cluster a level so the column holds exactly ``counts``; the lowest scores get the
    lowest levels, and clusters beyond ``sum(counts)`` (the least engaged) leave it blank."""
    n = len(propensity)
    answered = sum(counts)
    scores = [p + e for p, e in zip(propensity, rng_noise)]
    # Blanks go to the clusters with the smallest |score|: an arbitrary but deterministic choice.
    order_blank = sorted(range(n), key=lambda i: (abs(scores[i]), i))
    blanks = set(order_blank[: n - answered])
    ranked = sorted((i for i in range(n) if i not in blanks), key=lambda i: (scores[i], i))
    result: list[str | None] = [None] * n
    position = 0
    for level_id, count in zip(level_ids, counts):
        for i in ranked[position : position + count]:
            result[i] = level_id
        position += count
    return result


def build_rows(codebook: Codebook) -> tuple[list[str], list[list[object]]]:
    import numpy as np

    rng = np.random.default_rng(SEED)
    clusters = load_clusters()
    targets = yaml.safe_load((SAMPLE_DIR / "published_2024_counts.yaml").read_text(encoding="utf-8"))
    level_ids = tuple(lv.id for lv in sorted(codebook.maturity_levels, key=lambda lv: lv.rank))
    statements = {
        "pcmw": {lv.id: lv.statement_pcmw for lv in codebook.maturity_levels},
        "acd": {lv.id: lv.statement_acd for lv in codebook.maturity_levels},
    }
    n = len(clusters)
    propensity = rng.normal(0.0, 1.0, n).tolist()
    levels: dict[str, list[str | None]] = {}
    for outcome in codebook.outcomes:
        noise = rng.normal(0.0, 0.9, n).tolist()
        levels[outcome.id] = assign_levels(propensity, list(targets["maturity"][outcome.id]), noise, level_ids)
    stage_counts = [targets["team_stages"][s.id] for s in sorted(codebook.team_stages, key=lambda s: s.rank)]
    stage_ids = tuple(s.id for s in sorted(codebook.team_stages, key=lambda s: s.rank))
    stages = assign_levels(propensity, stage_counts, rng.normal(0.0, 0.6, n).tolist(), stage_ids)
    stage_labels = {s.id: s.label for s in codebook.team_stages}

    answers = {(int(a["cluster"]), str(a["question"])): str(a["text"] or "") for a in load_sample_answers()}
    question_headers = [q.wording for q in codebook.questions]
    headers = [*LEADING_HEADERS, CLUSTER_HEADER, BOARD_HEADER, CONTRIBUTORS_HEADER, *PCMW_HEADERS, *ACD_HEADERS,
               STAGE_HEADER, *question_headers]

    start = datetime(2024, 4, 1, 9, 0, 0)
    offsets = sorted(rng.integers(0, 60 * 24 * 60, n).tolist())  # minutes across April–May
    order = rng.permutation(n).tolist()  # submission order differs from cluster numbering
    rows: list[list[object]] = []
    for rank, i in enumerate(order):
        cluster = clusters[i]
        completed = start + timedelta(minutes=int(offsets[rank]))
        began = completed - timedelta(minutes=int(rng.integers(25, 240)))
        respondent = RESPONDENTS[int(rng.integers(0, len(RESPONDENTS)))]
        email = respondent.lower().replace(" ", ".") + "@example.wales.nhs.uk"
        picked = rng.choice(len(CONTRIBUTOR_GROUPS), size=int(rng.integers(2, 6)), replace=False)
        contributors = ";".join(CONTRIBUTOR_GROUPS[j] for j in sorted(picked.tolist())) + ";"
        row: list[object] = [rank + 1, began, completed, email, respondent, cluster.name, BOARD_LABELS[cluster.board],
                             contributors]
        for outcome in codebook.outcomes:
            level = levels[outcome.id][i]
            row.append(statements[outcome.module][level] if level else "")
        stage = stages[i]
        row.append(stage_labels[stage] if stage else "")
        for question in codebook.questions:
            row.append(answers.get((cluster.number, question.id), ""))
        rows.append(row)
    return headers, rows


def write_sample(codebook: Codebook | None = None, directory: Path = SAMPLE_DIR) -> tuple[Path, Path]:
    """Write the .xlsx and .csv exports of the sample round."""
    import openpyxl

    codebook = codebook or load_codebook()
    headers, rows = build_rows(codebook)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    # Fixed document properties so a rebuild with the same inputs is byte-stable enough to review.
    book.properties.creator = "Clwstwr sample builder"
    book.properties.created = datetime(2024, 6, 1)
    book.properties.modified = datetime(2024, 6, 1)
    xlsx_path = directory / SAMPLE_XLSX
    book.save(xlsx_path)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([v.strftime("%m/%d/%y %H:%M:%S") if isinstance(v, datetime) else v for v in row])
    csv_path = directory / SAMPLE_CSV
    csv_path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return xlsx_path, csv_path


if __name__ == "__main__":
    for path in write_sample():
        print(path)
