"""onnxruntime backend: the exported graphs in onnxruntime sessions (CPU; CUDA/TensorRT providers when
present), sized for small shared CPUs: one intra-op thread per usable core, no busy-waiting. Torch-free."""
from __future__ import annotations

import os

import numpy as np
import onnxruntime

from mlnet_ros.inference.backends.errors import BackendUnavailable
from mlnet_ros.inference.backends.graph_runner import GraphRunner
from mlnet_ros.inference.export_format import GRAPHS, Export

GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


def session_options() -> onnxruntime.SessionOptions:
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = len(os.sched_getaffinity(0))
    options.inter_op_num_threads = 1
    # Spinning threads steal the cores from everything else on a 2-core robot computer.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    # Transcripts give every call new shapes: an arena (and a memory pattern per shape) keeps
    # the largest input's memory for ever (+210 MB after ten 4096-character transcripts);
    # without them freed tensors go back to malloc, at about the same speed.
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    return options


def providers(device: str) -> list:
    """CPU for ``cpu``; for ``cuda[:N]`` the GPU providers this onnxruntime build has, then CPU."""
    if not device.startswith("cuda"):
        return ["CPUExecutionProvider"]
    device_id = int(device.partition(":")[2] or 0)
    available = onnxruntime.get_available_providers()
    gpu = [(name, {"device_id": device_id}) for name in GPU_PROVIDERS if name in available]
    return gpu + ["CPUExecutionProvider"]


def session(path, options: onnxruntime.SessionOptions, device: str) -> onnxruntime.InferenceSession:
    """An inference session of the graph at ``path``; BackendUnavailable naming it if onnxruntime refuses it."""
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=providers(device))
    except Exception as error:  # onnxruntime raises its own Fail/InvalidGraph/RuntimeError types
        raise BackendUnavailable(f"{path}: onnxruntime cannot load it ({' '.join(str(error).split())[:300]})") from None


class OnnxRuntimeGraphs:
    """Both graphs in onnxruntime sessions."""

    def __init__(self, export: Export, device: str = "cpu"):
        options = session_options()
        self.sessions = {graph: session(export.graph(graph), options, device) for graph in GRAPHS}
        self.output_names = {graph: export.output_names(graph) for graph in GRAPHS}

    def run(self, graph: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.sessions[graph].run(self.output_names[graph], feeds)


def onnxruntime_runner(export: Export, device: str = "cpu") -> GraphRunner:
    """The runner of ``export`` on onnxruntime."""
    return GraphRunner(export, OnnxRuntimeGraphs(export, device))
