"""TensorRT backend: strongly typed engines built from the exported ONNX graphs with the TensorRT
Python API (10.3 and later, 11.x), cached on disk under their full build key, run on CUDA buffers
owned by torch.

Precision lives in the graph, not in builder flags (TensorRT 11 has no weak typing): ``fp16=True``
builds from the fp16 mixed-precision graphs of ``mlnet_ros.inference.mixed_precision``, ``fp16=False``
from the fp32 export; both as strongly typed networks. The TensorRT module and the CUDA device are
explicit dependencies of ``TensorRTGraphs``, and every TensorRT call runs with that device current.

Written against the documented API; it needs a CUDA GPU and the ``tensorrt`` package (JetPack or
NVIDIA's wheels), neither of which exists on the project's CI machine.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.inference.backends.engine_cache import EngineCache, EngineKey, cached_engine
from mlnet_ros.inference.backends.errors import BackendUnavailable
from mlnet_ros.inference.export_format import IMAGE_GRAPH, TEXT_GRAPH, Export

WORKSPACE_BYTES = 1 << 30
MAX_BATCH = 32  # windows per text batch (tag_words' batch size)
MAX_IMAGES = 4
MIN_VERSION = (10, 3)  # NetworkDefinitionCreationFlag.STRONGLY_TYPED
NETWORK_FLAGS = ("STRONGLY_TYPED",)  # required on 10.x for the mixed-precision graphs; ignored (always on) on 11.x


def import_tensorrt():
    """The ``tensorrt`` module (>= 10.3), or BackendUnavailable saying what is missing."""
    try:
        import tensorrt
    except Exception as error:  # ImportError, or a broken install failing inside its own import
        raise BackendUnavailable(
            f"the TensorRT Python package is not importable ({type(error).__name__}: {error}); it ships "
            "with JetPack or NVIDIA's TensorRT wheels"
        ) from None
    if tensorrt_version(tensorrt) < MIN_VERSION:
        raise BackendUnavailable(f"TensorRT {tensorrt.__version__} is older than 10.3 (no strongly typed networks)")
    if not torch.cuda.is_available():
        raise BackendUnavailable("no CUDA device is available")
    return tensorrt


def tensorrt_version(trt) -> tuple[int, int]:
    """(major, minor) of a ``tensorrt`` module."""
    major, minor = trt.__version__.split(".")[:2]
    return int(major), int(minor)


def profile_shapes(config: MLNetConfig, text_only_cells: int = 1) -> dict[str, dict[str, tuple[tuple[int, ...], ...]]]:
    """(min, opt, max) shape of every dynamic input, per graph: batch 1..32 windows, 1..max_length
    wordpieces, 1..s+1 crops of ``text_only_cells``..cells regions in the text graph (one crop = text
    only; see ``Export.text_only_cells``), 1..4 images of s+1 crops."""
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
            "regions": shapes(batch, (1, crops, crops), (text_only_cells, cells, cells), d),
            "image_present": shapes(batch),
        },
    }


@dataclass(frozen=True)
class DeviceIdentity:
    """What tells GPUs apart for an engine: the same name and compute capability can differ in SMs."""

    name: str
    compute_capability: str
    multiprocessors: int


class CudaDevice:
    """One CUDA device (``cuda`` or ``cuda:N``): its identity, a stream on it, buffers on it, and
    ``current()``, under which every TensorRT call runs (build, deserialize, context, execution)."""

    def __init__(self, device: str):
        requested = torch.device(device)
        if requested.type != "cuda":
            raise BackendUnavailable(f"needs a CUDA device, got device {device!r}")
        index = torch.cuda.current_device() if requested.index is None else requested.index
        if index >= torch.cuda.device_count():
            raise BackendUnavailable(f"device {device!r} does not exist ({torch.cuda.device_count()} CUDA devices)")
        self.device = torch.device("cuda", index)
        properties = torch.cuda.get_device_properties(index)
        self.identity = DeviceIdentity(
            properties.name, f"{properties.major}.{properties.minor}", properties.multi_processor_count
        )
        self.stream = torch.cuda.Stream(self.device)

    @contextmanager
    def current(self):
        """This device and its stream are current (torch allocations and TensorRT calls go here)."""
        with torch.cuda.device(self.device), torch.cuda.stream(self.stream):
            yield

    @property
    def stream_handle(self) -> int:
        return self.stream.cuda_stream

    def upload(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(array).to(self.device, non_blocking=True)

    def empty(self, shape: tuple[int, ...], dtype: np.dtype) -> torch.Tensor:
        return torch.empty(shape, dtype=torch.from_numpy(np.empty(0, dtype)).dtype, device=self.device)

    def synchronize(self) -> None:
        self.stream.synchronize()


def build_engine(trt, onnx_path: str, shapes: dict[str, tuple]) -> bytes:
    """Parse the ONNX graph into a strongly typed network and build a serialized engine with one
    optimization profile; no precision builder flags (the graph's types are the engine's)."""
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0
    for flag_name in NETWORK_FLAGS:
        flags |= 1 << int(getattr(trt.NetworkDefinitionCreationFlag, flag_name))
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(onnx_path):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise BackendUnavailable(f"cannot parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)
    profile = builder.create_optimization_profile()
    for name, (low, optimum, high) in shapes.items():
        profile.set_shape(name, low, optimum, high)
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise BackendUnavailable(f"building an engine from {onnx_path} failed (see the TensorRT log)")
    return bytes(serialized)


class TensorRTGraphs:
    """Both graphs as TensorRT engines on one CUDA device, the executor of a ``GraphRunner``; inputs and
    outputs pass through torch tensors.

    ``trt`` is the ``tensorrt`` module (``import_tensorrt()``) and ``gpu`` a ``CudaDevice``.
    """

    def __init__(self, export: Export, trt, gpu: CudaDevice, fp16: bool = True, force_engine_rebuild: bool = False):
        self.config = export.config()
        self.output_names = {graph: export.output_names(graph) for graph in (IMAGE_GRAPH, TEXT_GRAPH)}
        self.trt, self.gpu = trt, gpu
        self.shapes = profile_shapes(self.config, export.text_only_cells())
        precision = "fp16" if fp16 else "fp32"
        cache = EngineCache(export.derived_dir("tensorrt"))
        self.engines, self.contexts, self.inputs, self.outputs = {}, {}, {}, {}
        with gpu.current():
            runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
            for graph in (IMAGE_GRAPH, TEXT_GRAPH):
                key = self.engine_key(export, graph, precision)
                name = f"{graph.removesuffix('.onnx')}.{precision}"
                build = partial(self._build, export, graph, fp16)
                data = cached_engine(cache, name, key, build, force_engine_rebuild)
                engine = runtime.deserialize_cuda_engine(data)
                if engine is None:
                    raise BackendUnavailable(
                        f"{cache.engine_path(name)} does not deserialize; use force_engine_rebuild"
                    )
                context = engine.create_execution_context()
                if context is None:
                    raise BackendUnavailable(f"no execution context for {cache.engine_path(name)} (out of GPU memory?)")
                self.engines[graph], self.contexts[graph] = engine, context
                names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
                self.inputs[graph] = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
                self.outputs[graph] = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]

    def engine_key(self, export: Export, graph: str, precision: str) -> EngineKey:
        from mlnet_ros.inference.mixed_precision import recipe_sha256

        identity = self.gpu.identity
        return EngineKey(
            onnx_sha256=export.sidecar["graphs"][graph]["sha256"],
            precision=precision,
            mixed_precision_recipe=recipe_sha256() if precision == "fp16" else "",
            network_flags=NETWORK_FLAGS,
            profile=self.shapes[graph],
            workspace_bytes=WORKSPACE_BYTES,
            tensorrt_version=self.trt.__version__,
            gpu_name=identity.name,
            compute_capability=identity.compute_capability,
            multiprocessors=identity.multiprocessors,
        )

    def _build(self, export: Export, graph: str, fp16: bool) -> bytes:
        if fp16:
            from mlnet_ros.inference.mixed_precision import ensure_mixed_precision

            onnx_path = ensure_mixed_precision(export).graph(graph)
        else:
            onnx_path = export.graph(graph)
        return build_engine(self.trt, str(onnx_path), self.shapes[graph])

    def run(self, graph: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        trt, engine, context = self.trt, self.engines[graph], self.contexts[graph]
        keep = []  # device inputs stay alive until the stream is done
        outputs = {}
        with self.gpu.current():
            for name in self.inputs[graph]:
                array = np.ascontiguousarray(feeds[name], dtype=trt.nptype(engine.get_tensor_dtype(name)))
                if not context.set_input_shape(name, array.shape):
                    low, _, high = self.shapes[graph][name]
                    raise RuntimeError(
                        f"tensorrt {graph}: input {name} of shape {array.shape} is outside the engine's profile "
                        f"{low}..{high}"
                    )
                tensor = self.gpu.upload(array)
                self._bind(context, graph, name, tensor)
                keep.append(tensor)
            for name in self.outputs[graph]:
                shape = tuple(context.get_tensor_shape(name))
                if any(size < 0 for size in shape):
                    raise RuntimeError(f"tensorrt {graph}: output {name} has an unresolved shape {shape}")
                outputs[name] = self.gpu.empty(shape, trt.nptype(engine.get_tensor_dtype(name)))
                self._bind(context, graph, name, outputs[name])
            if not context.execute_async_v3(self.gpu.stream_handle):
                raise RuntimeError(f"tensorrt {graph}: execution failed (see the TensorRT log)")
            self.gpu.synchronize()
        return [outputs[name].cpu().numpy() for name in self.output_names[graph]]

    @staticmethod
    def _bind(context, graph: str, name: str, tensor: torch.Tensor) -> None:
        if not context.set_tensor_address(name, tensor.data_ptr()):
            raise RuntimeError(f"tensorrt {graph}: cannot bind {name} ({tuple(tensor.shape)}) to its buffer")
