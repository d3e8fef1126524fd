"""Inference backends: the recognition pipeline (``EntityRecognizer``) with a torch, onnxruntime or
TensorRT runner.

``load_backend(model_dir, "auto")`` takes the fastest one that loads (tensorrt, then onnxruntime,
then torch) and logs which one it took and why the faster ones were passed over. ``auto`` never
runs the one-time ONNX export (about a minute on 2 cores): it uses an export already in the
cache (``python -m mlnet_ros.inference.onnx_export``, or a first load with an explicit ONNX backend).
Every backend shares the tokenisation, windowing, CRF decoding and entity building; only the
runner differs. Importing this package is cheap: the pipeline and a backend's runtime are imported
when a backend is loaded (``loading``), and the onnxruntime backend never imports torch,
transformers or onnx.
"""
from __future__ import annotations

import logging
from pathlib import Path

from mlnet_ros.inference.backends.errors import BackendUnavailable

__all__ = ["BACKENDS", "BackendUnavailable", "load_backend"]
BACKENDS = ("tensorrt", "onnxruntime", "torch")  # fastest first: the order "auto" tries them in
log = logging.getLogger(__name__)


def load_backend(
    model_dir: str | Path,
    backend: str = "auto",
    device: str = "cpu",
    *,
    fp16: bool = True,
    force_engine_rebuild: bool = False,
):
    """An ``EntityRecognizer`` for ``backend`` (one of BACKENDS, or "auto"); TensorRT is warmed up.

    ``fp16`` and ``force_engine_rebuild`` apply to TensorRT engines. Raises ModelLoadError for an
    unusable model directory and BackendUnavailable when the backend cannot run here.
    """
    model_dir = Path(model_dir)
    if backend != "auto":
        return _load_one(backend, model_dir, device, fp16, force_engine_rebuild, auto=False)
    passed_over = []
    for name in ("tensorrt", "onnxruntime"):
        try:
            recognizer = _load_one(name, model_dir, device, fp16, force_engine_rebuild, auto=True)
        except BackendUnavailable as error:
            passed_over.append(str(error))
            continue
        log.info("backend auto: using %s%s", name, f" ({'; '.join(passed_over)})" if passed_over else "")
        return recognizer
    log.info("backend auto: using torch (%s)", "; ".join(passed_over))
    return _load_one("torch", model_dir, device, fp16, force_engine_rebuild, auto=True)


def _load_one(name: str, model_dir: Path, device: str, fp16: bool, force_engine_rebuild: bool, auto: bool):
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r} (available: {', '.join(BACKENDS)}, auto)")
    from mlnet_ros.inference.backends import loading

    if name == "torch":
        return loading.load_torch(model_dir, device)
    try:
        if name == "onnxruntime":
            return loading.load_onnxruntime(model_dir, device, auto)
        return loading.load_tensorrt(model_dir, device, fp16, force_engine_rebuild, auto)
    except BackendUnavailable as error:
        raise BackendUnavailable(f"{name}: {' '.join(str(error).split())}") from None
