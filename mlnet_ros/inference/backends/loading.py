"""Assembling a recognizer per backend: checkpoint, verified ONNX export or deploy bundle → runner +
tokenizer → ``EntityRecognizer``. Each runtime (torch, onnxruntime, TensorRT) is imported by its own
loader; a deploy bundle (``mlnet_ros.inference.bundle``) needs neither torch nor the checkpoint."""
from __future__ import annotations

from pathlib import Path

from mlnet_ros.core.base_weights import BaseWeightsError, text_encoder_dir
from mlnet_ros.core.checkpoint_files import CONFIG_FILE, ModelLoadError, read_config
from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.core.text_inputs import WordPieceTokenizer
from mlnet_ros.inference.backends.errors import BackendUnavailable
from mlnet_ros.inference.bundle import TOKENIZER_FILE, is_bundle, verify_bundle
from mlnet_ros.inference.export_format import Export, ExportError, checkpoint_hash, default_export_dir, verify_export
from mlnet_ros.inference.pipeline import EntityRecognizer
from mlnet_ros.inference.region_proposals import proposer_for
from mlnet_ros.inference.runner import Runner


def verified_export(model_dir: Path, export_if_missing: bool) -> Export:
    """The checkpoint's verified ONNX export from the cache; when it is missing or stale, exported
    first (``export_if_missing``) or BackendUnavailable.

    Raises ModelLoadError for an unusable model directory, BackendUnavailable when the export fails.
    """
    read_config(model_dir)  # a missing or malformed model directory is a ModelLoadError, as for torch
    try:
        return verify_export(default_export_dir(model_dir), checkpoint_hash(model_dir))
    except ExportError as error:
        if not export_if_missing:
            raise BackendUnavailable(
                f"no usable ONNX export yet ({error}); run: python -m mlnet_ros.inference.onnx_export --model {model_dir}"
            ) from None
    from mlnet_ros.inference.onnx_export import ensure_export  # torch and onnx: only when exporting

    try:
        return ensure_export(model_dir)
    except ModelLoadError:
        raise
    except Exception as error:  # torch.export / onnx failures have no common base class
        raise BackendUnavailable(f"ONNX export of {model_dir} failed: {type(error).__name__}: {error}") from error


def graph_tokenizer(model_dir: Path, config: MLNetConfig) -> WordPieceTokenizer:
    """The text encoder's ``tokenizer.json``, read without transformers; BackendUnavailable if it has none."""
    try:
        path = text_encoder_dir(config) / TOKENIZER_FILE
    except BaseWeightsError as error:
        raise ModelLoadError(f"{Path(model_dir) / CONFIG_FILE}: base weights unavailable ({error})") from None
    if not path.is_file():
        raise BackendUnavailable(f"{path} is missing (only the torch backend reads a tokenizer from vocab.txt)")
    try:
        return WordPieceTokenizer.from_file(path)
    except ValueError as error:
        raise BackendUnavailable(str(error)) from None


def graphs_and_tokenizer(model_dir: Path, export_if_missing: bool) -> tuple[Export, WordPieceTokenizer]:
    """The verified graphs and the tokenizer of a deploy bundle, or of a checkpoint (its cached export)."""
    if is_bundle(model_dir):
        export = verify_bundle(model_dir)
        try:
            return export, WordPieceTokenizer.from_file(Path(model_dir) / TOKENIZER_FILE)
        except ValueError as error:
            raise ModelLoadError(str(error)) from None
    export = verified_export(model_dir, export_if_missing)
    return export, graph_tokenizer(model_dir, export.config())


def recognizer(model_dir: Path, runner: Runner, tokenizer: WordPieceTokenizer, backend: str) -> EntityRecognizer:
    """The pipeline around ``runner``, named after the model directory, with the model's region proposer."""
    return EntityRecognizer(runner, tokenizer, Path(model_dir).resolve().name, backend,
                            proposer_for(runner.config.proposer))


def load_torch(model_dir: Path, device: str) -> EntityRecognizer:
    if is_bundle(model_dir):
        raise BackendUnavailable(
            f"{model_dir} is a deploy bundle (ONNX graphs, no torch weights): use the onnxruntime or tensorrt backend"
        )
    from mlnet_ros.inference.backends.torch_runner import TorchRunner
    from mlnet_ros.model.checkpoint import load_checkpoint

    model, tokenizer = load_checkpoint(model_dir)
    return recognizer(model_dir, TorchRunner(model.to(device), device), tokenizer, "torch")


def load_onnxruntime(model_dir: Path, device: str, auto: bool) -> EntityRecognizer:
    from mlnet_ros.inference.backends.onnxruntime_runner import onnxruntime_runner, providers

    if auto and device.startswith("cuda") and providers(device) == ["CPUExecutionProvider"]:
        raise BackendUnavailable("this onnxruntime build has no GPU provider (torch uses the GPU)")
    export, tokenizer = graphs_and_tokenizer(model_dir, export_if_missing=not auto)
    return recognizer(model_dir, onnxruntime_runner(export, device), tokenizer, "onnxruntime")


def load_tensorrt(model_dir: Path, device: str, fp16: bool, force_engine_rebuild: bool, auto: bool) -> EntityRecognizer:
    """TensorRT engines from the verified export, warmed up; any TensorRT or CUDA failure while building,
    loading or warming up is a one-line BackendUnavailable (``auto`` then falls back)."""
    if not device.startswith("cuda"):
        raise BackendUnavailable(f"needs a CUDA device, got device {device!r}")
    from mlnet_ros.inference.backends.graph_runner import GraphRunner
    from mlnet_ros.inference.backends.tensorrt_backend import CudaDevice, TensorRTGraphs, import_tensorrt

    trt = import_tensorrt()  # fail before a possible ONNX export
    export, tokenizer = graphs_and_tokenizer(model_dir, export_if_missing=not auto)
    if export.int8():
        raise BackendUnavailable(
            f"{model_dir} is an int8 bundle: its text graph uses onnxruntime's MatMulNBits, which TensorRT "
            "cannot parse; give TensorRT an fp32 bundle (mlnet_export without --int8), it builds fp16 engines itself"
        )
    try:
        graphs = TensorRTGraphs(export, trt, CudaDevice(device), fp16, force_engine_rebuild)
    except BackendUnavailable:
        raise
    except Exception as error:  # TensorRT and CUDA failures have no common base class
        raise BackendUnavailable(f"engine build or load failed: {one_line(error)}") from error
    loaded = recognizer(model_dir, GraphRunner(export, graphs), tokenizer, "tensorrt")
    try:
        loaded.warm_up()
    except Exception as error:
        raise BackendUnavailable(f"warm-up inference failed: {one_line(error)}") from error
    return loaded


def one_line(error: Exception) -> str:
    """``Type: message`` with the message's whitespace (newlines of CUDA errors) collapsed."""
    return f"{type(error).__name__}: {' '.join(str(error).split())}"
