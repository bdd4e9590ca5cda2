"""The command line as a user meets it: help everywhere, clear errors, no tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from clwstwr.cli import main
from corpora.sample_round import SAMPLE_DIR, SAMPLE_XLSX


def _run(tmp_path: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(tmp_path / "home"), *args])


@pytest.mark.parametrize("command", sorted(main.commands))
def test_cli_every_subcommand_has_help(command: str, tmp_path: Path) -> None:
    result = _run(tmp_path, command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output and main.commands[command].help.split("\n")[0][:30] in result.output


def test_cli_import_then_report(tmp_path: Path) -> None:
    first = _run(tmp_path, "import", str(SAMPLE_DIR / SAMPLE_XLSX), "--round", "2024")
    assert first.exit_code == 0, first.output
    assert "stored 46 submission(s)" in first.output
    assert "Who contributed to this self-reflection?" in first.output  # reported as not imported
    again = _run(tmp_path, "import", str(SAMPLE_DIR / SAMPLE_XLSX), "--round", "2024")
    assert "already imported" in again.output
    report = _run(tmp_path, "report", "--round", "2024", "--out", str(tmp_path / "out"))
    assert report.exit_code == 0, report.output
    assert (tmp_path / "out" / "report.html").exists()


def test_cli_import_of_a_bad_file_exits_nonzero_listing_rows(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Cluster name,Health board\nSomewhere,Nowhere\n", encoding="utf-8")
    result = _run(tmp_path, "import", str(bad), "--round", "2024")
    assert result.exit_code == 2
    assert "error [CW210]" in result.output and "nothing was stored" in result.output
    assert "PCMW 1" in result.output and "Traceback" not in result.output


def test_cli_report_on_an_unknown_round_names_the_stored_ones(tmp_path: Path) -> None:
    _run(tmp_path, "import", str(SAMPLE_DIR / SAMPLE_XLSX), "--round", "2024")
    result = _run(tmp_path, "report", "--round", "2023", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "no round named '2023'" in result.output and "2024" in result.output
