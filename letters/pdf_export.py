"""PDF from the same HTML the browser shows, printed by headless Chromium.

Why Chromium and not a Python PDF library: the letter and the report are already laid out in HTML and
CSS (tables, inline SVG charts, Welsh diacritics in web fonts); printing that HTML keeps one layout to
maintain and gives a PDF that looks like the page the chair approved. Chromium is a system package
(Debian ``chromium``); where it is missing the export says so by name instead of failing obscurely.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from corpora.errors import ClwstwrError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class PdfExportUnavailableError(ClwstwrError):
    """No Chromium to print with, or Chromium did not produce a PDF."""

    code = "CW440"


def find_chromium(explicit: str | None = None) -> str:
    """The Chromium executable: an explicit path, ``CLWSTWR_CHROMIUM``, or the first on ``PATH``."""
    for candidate in (explicit, os.environ.get("CLWSTWR_CHROMIUM")):
        if candidate:
            if Path(candidate).is_file() and os.access(candidate, os.X_OK):
                return candidate
            raise PdfExportUnavailableError(f"Chromium not found at {candidate!r} (set CLWSTWR_CHROMIUM to its path)")
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise PdfExportUnavailableError(
        "PDF export needs Chromium: install the 'chromium' package (Debian/Ubuntu: apt-get install chromium) "
        "or set CLWSTWR_CHROMIUM to a Chromium or Chrome executable"
    )


def html_to_pdf(html: str, out_path: Path, *, chromium: str | None = None, timeout: float = 120.0) -> Path:
    """Print ``html`` to ``out_path`` (A4, backgrounds on, no header/footer) and return the path.

    The HTML goes through a temporary file, so documents must be self-contained (inline CSS and SVG,
    no relative links) — which is also what makes them safe to e-mail.
    """
    executable = find_chromium(chromium)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clwstwr-pdf-") as tmp:
        source = Path(tmp) / "document.html"
        source.write_text(html, encoding="utf-8")
        target = Path(tmp) / "document.pdf"
        command = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            completed = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfExportUnavailableError(f"Chromium did not finish printing the PDF within {timeout:.0f} s") from exc
        if not target.exists() or target.stat().st_size == 0:
            detail = completed.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PdfExportUnavailableError(
                f"Chromium ({executable}) exited with status {completed.returncode} without writing a PDF: "
                + " | ".join(detail)
            )
        shutil.move(str(target), out_path)
    return out_path
