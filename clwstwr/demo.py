"""The demo: the main job end to end on the bundled sample round, on the embedded defaults."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path

from corpora.sample_round import SAMPLE_ROUND_NAME, bundled_sample_path

from .context import AppContext
from .importing import import_file
from .reporting import write_round_report


def run_demo(ctx: AppContext, out_dir: Path, *, progress: Callable[[str], None] = lambda _m: None) -> dict[str, Path]:
    """Import the sample round (a no-op when already imported) and write its report into ``out_dir``."""
    sample = bundled_sample_path()
    progress(f"importing the sample round from {sample.name}")
    result = import_file(ctx.sessions, ctx.codebook, sample, SAMPLE_ROUND_NAME, actor=getpass.getuser(), progress=progress)
    if result.already_imported:
        progress("sample round already stored; reusing it")
    progress("writing the maturity report")
    files = write_round_report(ctx, SAMPLE_ROUND_NAME, out_dir)
    return {"report": files.html, "summary": files.summary_json}
