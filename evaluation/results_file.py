"""How a benchmark records its result: where it ran, when, and the JSON file under results/."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path


def machine() -> dict[str, object]:
    """What a reader needs to judge a timing: cores, platform, and how busy the machine was."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average": list(os.getloadavg())}


def write_result(path: Path, result: dict[str, object]) -> None:
    """Stamp ``result`` with the machine and date, write it as JSON, and print it."""
    stamped = {**result, "machine": machine(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stamped, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(stamped, indent=2, ensure_ascii=False))
