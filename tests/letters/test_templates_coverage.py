"""Every document template is under a strict-rendering test: a new template cannot slip in untested.

The letter family (``outcome_letter*``, ``letter_*``) is rendered with minimal contexts in
``test_letter_rendering``; the report family (``all_wales_report*``, ``report_*``,
``maturity_report``) in ``test_report_templates``; ``base.html.j2`` is what both extend.
"""

from __future__ import annotations

from letters.rendering import TEMPLATES_DIR

FAMILIES = (("outcome_letter", "letter_"), ("all_wales_report", "report_", "maturity_report"))


def test_every_template_belongs_to_a_family_rendered_under_strict_undefined() -> None:
    names = sorted(p.name for p in TEMPLATES_DIR.iterdir() if p.suffix in {".j2", ".html", ".txt"})
    assert names, "no templates found"
    uncovered = [n for n in names if n != "base.html.j2" and not any(n.startswith(f) for fam in FAMILIES for f in fam)]
    assert not uncovered, f"templates no strict-rendering test covers: {uncovered}"
