"""Fixed explanatory text of the report (the method note), written once for every format.

The HTML page and the Word file must explain the figures in the same words, so the notes are built
here from the report model rather than written twice in two templates.
"""

from __future__ import annotations

from .report_model import ThematicReport


def method_notes(report: ThematicReport) -> tuple[str, ...]:
    scope = report.scope
    where = f" by clusters in {scope.name}" if scope.board else ""
    notes = [
        f"Figures are counted from the returns stored for round {report.round_name}{where}; each cluster counts "
        "once. Maturity shares are of the clusters that rated that outcome.",
    ]
    if report.coded:
        notes.append(
            f"Themes come from coding run {report.coding_run} by {report.coding_model}: the suggestions of the theme "
            "model, for reviewers to check. A theme's count is the number of clusters whose answer carries it, out of "
            "the clusters that answered the question; a cluster can raise several themes."
        )
        notes.append(
            "Quotes are de-identified and word for word. They are the sentences the theme model scored highest for "
            "the theme, never two from one answer, and never two from the same health board while another board "
            "has one" + (f"; in this report all come from {scope.name}." if scope.board else ".")
        )
        notes.append(
            "Opportunities for action are sentences from the answers on what would help and on overcoming "
            "barriers, each placed under the recommendation heading it is closest to. A lead organisation or "
            "timescale is shown only where the sentence names it; otherwise it is to be agreed."
        )
    else:
        notes.append("This round has not been coded, so the report has no themes, quotes or opportunities for "
                     "action (run `clwstwr code`).")
    if report.previous_round:
        notes.append(f"Changes are against round {report.previous_round}: in clusters, and in share of responses "
                     "as percentage points (pp).")
        if report.comparison_note:
            notes.append(report.comparison_note)
    if scope.suppression.active:
        t = scope.suppression.threshold or 0
        notes.append(
            f"Small numbers: counts from 1 to {t - 1} are shown as {scope.suppression.small_text} and their shares "
            "are not shown. Where a row adds up to a total, further cells are withheld and shown as [c] so that no "
            "small count can be worked out by subtraction; a change involving a withheld figure is shown as —. "
            "Withheld theme counts are listed after the others, in codebook order, and outcomes with a withheld "
            "count are left out of the maturity charts."
        )
    if report.candidates is None:
        notes.append("Topic discovery (candidate new themes) was not run for this report.")
    else:
        notes.append(
            f"Candidate new themes: topic discovery over {report.discovery_sentences} de-identified sentences; a group "
            f"is a candidate when its centre's similarity to every codebook theme is below {report.discovery_threshold}. "
            "Candidates are not in the codebook and are not counted anywhere else in the report."
        )
    return tuple(notes)
