"""The one Jinja2 environment every document is rendered with.

StrictUndefined everywhere: a missing value in a letter or report is a bug to surface, not an empty
string to send. Autoescape for HTML templates only; ``.txt``/``.md`` templates render as written.
Organisations can put their own templates in a directory searched first, extending ours by name
(``{% extends "clwstwr/maturity_report.html.j2" %}``).
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined, select_autoescape

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def percent(value: float, digits: int = 0) -> str:
    return f"{value * 100:.{digits}f}%"


def make_environment(override_dir: Path | None = None) -> Environment:
    """Our templates, reachable by plain name or as ``clwstwr/<name>``; overrides searched first."""
    ours = FileSystemLoader(str(TEMPLATES_DIR))
    loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
    loaders += [ours, PrefixLoader({"clwstwr": ours})]
    env = Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml", "html.j2"), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["percent"] = percent
    return env
