"""Where the tests find the repository and the model under test (the one way to locate it)."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUPPORT = Path(__file__).resolve().parent
# The shipped default; MLNET_TEST_MODEL_DIR points the whole suite at another trained model.
MODEL_DIR = Path(os.environ.get("MLNET_TEST_MODEL_DIR") or REPO / "models" / "embedded")
SHIPPED_MODEL = REPO / "models" / "embedded"
