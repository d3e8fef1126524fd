"""TensorRT backend: engines built from the exported ONNX graphs with the TensorRT Python API (10.x),
cached on disk per GPU / TensorRT version / precision, run on CUDA buffers owned by torch.

Written against the documented API; it needs a CUDA GPU and the ``tensorrt`` package (JetPack or
NVIDIA's wheels), neither of which exists on the project's CI machine.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import torch

from mlnet_ros.inference.backends.errors import BackendUnavailable
from mlnet_ros.inference.backends.engine_cache import EngineCache, EngineKey, cached_engine
from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.inference.export_format import IMAGE_GRAPH, TEXT_GRAPH, Export

WORKSPACE_BYTES = 1 << 30
MAX_BATCH = 32  # windows per text batch (tag_words' batch size)
MAX_IMAGES = 4


def import_tensorrt():
    """The ``tensorrt`` module, or BackendUnavailable saying what is missing."""
    try:
        import tensorrt
    except ImportError as error:
        raise BackendUnavailable(
            f"the TensorRT Python package is not importable ({error}); it ships with JetPack "
            "or NVIDIA's TensorRT wheels"
        ) from None
    if not torch.cuda.is_available():
        raise BackendUnavailable("no CUDA device is available")
    return tensorrt


def profile_shapes(config: MLNetConfig) -> dict[str, dict[str, tuple[tuple[int, ...], ...]]]:
    """(min, opt, max) shape of every dynamic input, per graph: batch 1..32 windows, 1..max_length
    wordpieces, 1..s+1 crops in the text graph (1 = text only), 1..4 images of s+1 crops."""
    crops, cells, d, side = config.num_crops + 1, config.cells_per_crop, config.text_hidden, config.crop_size
    pieces, words, chars = (1, 48, config.max_length), (1, 24, config.max_length - 2), (1, 12, config.max_word_chars)
    batch = (1, 1, MAX_BATCH)

    def shapes(*axes):
        return tuple(tuple(axis[i] if isinstance(axis, tuple) else axis for axis in axes) for i in range(3))

    return {
        IMAGE_GRAPH: {"crops": shapes((1, 1, MAX_IMAGES), crops, 3, side, side)},
        TEXT_GRAPH: {
            "input_ids": shapes(batch, pieces),
            "attention_mask": shapes(batch, pieces),
            "word_starts": shapes(batch, words),
            "word_mask": shapes(batch, words),
            "char_ids": shapes(batch, words, chars),
            "regions": shapes(batch, (1, crops, crops), cells, d),
            "image_present": shapes(batch),
        },
    }


def build_engine(trt, onnx_path: str, shapes: dict[str, tuple], fp16: bool) -> bytes:
    """Parse the ONNX graph and build a serialized engine with one optimization profile."""
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(onnx_path):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise BackendUnavailable(f"cannot parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)
    if fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    for name, (low, optimum, high) in shapes.items():
        profile.set_shape(name, low, optimum, high)
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise BackendUnavailable(f"building an engine from {onnx_path} failed (see the TensorRT log)")
    return bytes(serialized)


class TensorRTGraphs:
    """Both graphs as TensorRT engines on one CUDA device; inputs and outputs pass through torch tensors."""

    def __init__(self, export: Export, device: str = "cuda", fp16: bool = True, force_engine_rebuild: bool = False):
        self.config = export.config()
        self.output_names = {graph: export.output_names(graph) for graph in (IMAGE_GRAPH, TEXT_GRAPH)}
        trt = import_tensorrt()
        self.trt = trt
        self.device = torch.device(device)
        properties = torch.cuda.get_device_properties(self.device)
        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        cache = EngineCache(export.directory / "tensorrt")
        shapes = profile_shapes(self.config)
        self.engines, self.contexts = {}, {}
        for graph in (IMAGE_GRAPH, TEXT_GRAPH):
            key = EngineKey(
                onnx_sha256=export.sidecar["graphs"][graph]["sha256"],
                tensorrt_version=trt.__version__,
                gpu_name=properties.name,
                compute_capability=f"{properties.major}.{properties.minor}",
                precision="fp16" if fp16 else "fp32",
            )
            name = f"{graph.removesuffix('.onnx')}.{key.precision}"
            build = partial(build_engine, trt, str(export.graph(graph)), shapes[graph], fp16)
            data = cached_engine(cache, name, key, build, force_engine_rebuild)
            engine = runtime.deserialize_cuda_engine(data)
            if engine is None:
                raise BackendUnavailable(f"{cache.engine_path(name)} does not deserialize; use force_engine_rebuild")
            self.engines[graph] = engine
            self.contexts[graph] = engine.create_execution_context()
        self.stream = torch.cuda.Stream(self.device)

    def run(self, graph: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        trt, engine, context = self.trt, self.engines[graph], self.contexts[graph]
        keep = []  # device tensors stay alive until the stream is done
        outputs = {}
        with torch.cuda.stream(self.stream):
            for i in range(engine.num_io_tensors):
                name = engine.get_tensor_name(i)
                if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
                    dtype = trt.nptype(engine.get_tensor_dtype(name))
                    host = torch.from_numpy(np.ascontiguousarray(feeds[name], dtype=dtype))
                    tensor = host.to(self.device, non_blocking=True)
                    context.set_input_shape(name, tuple(tensor.shape))
                    context.set_tensor_address(name, tensor.data_ptr())
                    keep.append(tensor)
            for i in range(engine.num_io_tensors):
                name = engine.get_tensor_name(i)
                if engine.get_tensor_mode(name) == trt.TensorIOMode.OUTPUT:
                    dtype = torch.from_numpy(np.empty(0, dtype=trt.nptype(engine.get_tensor_dtype(name)))).dtype
                    tensor = torch.empty(tuple(context.get_tensor_shape(name)), dtype=dtype, device=self.device)
                    context.set_tensor_address(name, tensor.data_ptr())
                    outputs[name] = tensor
            if not context.execute_async_v3(self.stream.cuda_stream):
                raise RuntimeError(f"tensorrt: execution of {graph} failed")
        self.stream.synchronize()
        return [outputs[name].cpu().numpy() for name in self.output_names[graph]]
