"""Inference backends behind ``EntityRecognizer``: torch (eager), onnxruntime and TensorRT.

``load_backend(model_dir, "auto")`` takes the fastest one that loads (tensorrt, then onnxruntime,
then torch) and logs which one it took and why the faster ones were passed over. ``auto`` never
runs the one-time ONNX export (about a minute on 2 cores): it uses an export already in the
cache (``python -m mlnet_ros.inference.onnx_export``, or a first load with an explicit ONNX backend).
The ONNX backends share the torch recognizer's tokenisation, windowing, CRF decoding and
entity building; only the tensor compute differs.
"""
from __future__ import annotations

import logging
from pathlib import Path

BACKENDS = ("tensorrt", "onnxruntime", "torch")  # fastest first: the order "auto" tries them in
log = logging.getLogger(__name__)


class BackendUnavailable(RuntimeError):
    """A backend cannot run here (missing package, no GPU, failed export or engine build); says why."""


def _load_onnxruntime(model_dir: Path, device: str, auto: bool):
    from mlnet_ros.inference.backends.graph_recognizer import GraphRecognizer, verified_export
    from mlnet_ros.inference.backends.onnxruntime_backend import OnnxRuntimeModel, providers

    if auto and device.startswith("cuda") and providers(device) == ["CPUExecutionProvider"]:
        raise BackendUnavailable("this onnxruntime build has no GPU provider (torch uses the GPU)")
    export = verified_export(model_dir, export_if_missing=not auto)
    return GraphRecognizer(model_dir, OnnxRuntimeModel(export, device), "onnxruntime")


def _load_tensorrt(model_dir: Path, device: str, fp16: bool, force_engine_rebuild: bool, auto: bool):
    if not device.startswith("cuda"):
        raise BackendUnavailable(f"needs a CUDA device, got device {device!r}")
    from mlnet_ros.inference.backends.graph_recognizer import GraphRecognizer, verified_export
    from mlnet_ros.inference.backends.tensorrt_backend import CudaDevice, TensorRTModel, import_tensorrt

    trt = import_tensorrt()  # fail before a possible ONNX export
    export = verified_export(model_dir, export_if_missing=not auto)
    try:
        model = TensorRTModel(export, trt, CudaDevice(device), fp16, force_engine_rebuild)
    except BackendUnavailable:
        raise
    except Exception as error:  # TensorRT and CUDA failures have no common base class
        raise BackendUnavailable(f"engine build or load failed: {_one_line(error)}") from error
    recognizer = GraphRecognizer(model_dir, model, "tensorrt")
    try:
        recognizer.warm_up()
    except Exception as error:
        raise BackendUnavailable(f"warm-up inference failed: {_one_line(error)}") from error
    return recognizer


def _one_line(error: Exception) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


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
    if name == "torch":
        from mlnet_ros.inference.pipeline import TorchRecognizer

        return TorchRecognizer(model_dir, device=device)
    try:
        if name == "onnxruntime":
            return _load_onnxruntime(model_dir, device, auto)
        return _load_tensorrt(model_dir, device, fp16, force_engine_rebuild, auto)
    except BackendUnavailable as error:
        raise BackendUnavailable(f"{name}: {' '.join(str(error).split())}") from None
