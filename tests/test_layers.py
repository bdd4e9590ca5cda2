"""Layers are checked, not hoped for: what each top-level package may import (DESIGN.md's table)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"nlp", "models", "corpora", "api", "letters", "store", "evaluation", "clwstwr", "tests"}
ALLOWED_OURS = {
    "corpora": {"corpora"},
    "models": {"models"},
    "nlp": {"nlp", "corpora", "models"},
    "letters": {"letters", "nlp", "corpora"},
    "store": {"store", "corpora"},
}
NO_WEB_OR_DB = {"fastapi", "starlette", "sqlalchemy", "alembic", "psycopg", "httpx", "uvicorn", "requests"}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED_OURS))
def test_layers_each_package_imports_only_what_it_may(package: str) -> None:
    for path in sorted((ROOT / package).rglob("*.py")):
        imported = imported_top_levels(path)
        forbidden_ours = (imported & OURS) - ALLOWED_OURS[package]
        assert not forbidden_ours, f"{path.relative_to(ROOT)} imports {sorted(forbidden_ours)}"
        if package in {"nlp", "corpora", "letters", "models"}:
            web = imported & NO_WEB_OR_DB
            assert not web, f"{path.relative_to(ROOT)} imports {sorted(web)}"


def test_layers_readme_starts_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci.splitlines()


def test_layers_no_module_is_a_grab_bag() -> None:
    assert not list(ROOT.glob("*/utils.py"))
    for package in set(ALLOWED_OURS) | {"api", "clwstwr", "evaluation"}:
        for path in (ROOT / package).rglob("*.py"):
            lines = path.read_text(encoding="utf-8").count("\n")
            assert lines <= 600, f"{path.relative_to(ROOT)} has {lines} lines: split it by concept"
