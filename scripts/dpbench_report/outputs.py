"""Writing the package's output files: whole or not at all.

A report, comparison or model file is written to a temporary file beside it and renamed over the old one,
so a run that fails or is killed half-way never leaves a half-written file or replaces a good one (the
same rule dpbench follows for results files).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write text to path (creating its folder) by rename; raises OSError, leaving no temporary behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
