"""The Twitter-2015/2017 datasets: where their files are, and their images. The CoNLL reader
(``Sentence``, ``DataError``, ``read_conll``) lives in ``mlnet_ros.core.conll``, imported here."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from mlnet_ros.core.conll import DataError, Sentence, read_conll  # noqa: F401 (training's data API)

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def dataset_file(data_dir: Path, dataset: str, split: str) -> Path:
    """``<data_dir>/<dataset>/<split>.txt``, e.g. dataset "twitter2015", split "valid"."""
    return Path(data_dir) / dataset / f"{split}.txt"


def load_image(folder: Path, image_id: str | None) -> np.ndarray | None:
    """``<folder>/<image_id>.jpg`` as (H, W, 3) uint8 RGB, or None if absent or unreadable."""
    if image_id is None:
        return None
    bgr = cv2.imread(str(Path(folder) / f"{image_id}.jpg"), cv2.IMREAD_COLOR)
    if bgr is None:
        return None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
