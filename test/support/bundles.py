"""Deploy bundles of the model under test, written by the mlnet_export executable (about 40 s each here)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support.paths import MODEL_DIR

BIN = Path(sys.executable).parent


def export_bundle(out: Path, *options: str) -> Path:
    run = subprocess.run([BIN / "mlnet_export", "--model", MODEL_DIR, "--out", out, *options], capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == str(out)
    return out
