"""Stand-ins for the ``tensorrt`` module and the CUDA device, for running the TensorRT backend's own
code (build, cache, deserialize, bind, execute, fallback) where neither exists (no tests here).

``StandInTensorRT`` offers the calls the backend makes, with TensorRT 10.3's names and return
conventions (False from ``set_input_shape`` outside the profile, None from a failed deserialize).
Its "engine" is the ONNX graph the backend asked it to build (the fp16 mixed-precision graph or
the fp32 export), run by a real onnxruntime session on the host buffers the backend bound by
address, so the backend's results are real model outputs. ``fail`` replaces named calls:
``StandInTensorRT(fail={"execute_async_v3": lambda *args: False})`` makes that call return False
inside the backend's real code path; a replacement that raises makes it raise. ``HostDevice``
stands in for ``CudaDevice`` with host memory and records which device index is current.
"""
from __future__ import annotations

import ctypes
import enum
import json
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np
import onnxruntime
import torch

from mlnet_ros.inference.backends.tensorrt_backend import DeviceIdentity

ACTIVE_DEVICES: list[int] = []  # device indices of the HostDevice.current() blocks entered, innermost last


class DataType(enum.IntEnum):  # TensorRT's values
    FLOAT = 0
    HALF = 1
    INT32 = 3
    BOOL = 4
    INT64 = 8


class TensorIOMode(enum.IntEnum):
    NONE = 0
    INPUT = 1
    OUTPUT = 2


NUMPY_TYPES = {DataType.FLOAT: np.float32, DataType.HALF: np.float16, DataType.INT32: np.int32,
               DataType.BOOL: np.bool_, DataType.INT64: np.int64}
ONNX_TYPES = {"tensor(float)": DataType.FLOAT, "tensor(float16)": DataType.HALF, "tensor(int32)": DataType.INT32,
              "tensor(bool)": DataType.BOOL, "tensor(int64)": DataType.INT64}


class StandInTensorRT:
    """The part of the ``tensorrt`` module the backend uses; ``calls`` lists (call, current device)."""

    class Logger:
        WARNING = 2

        def __init__(self, severity: int):
            self.severity = severity

    DataType = DataType
    TensorIOMode = TensorIOMode
    MemoryPoolType = SimpleNamespace(WORKSPACE=0)

    def __init__(self, version: str = "10.3.0.26", fail: dict | None = None, strongly_typed: bool = True):
        self.__version__ = version
        self.fail = fail or {}
        self.calls: list[tuple[str, int | None]] = []
        flags = {"EXPLICIT_BATCH": 0, "STRONGLY_TYPED": 1} if version.startswith("10.") else {"STRONGLY_TYPED": 0}
        if not strongly_typed:
            del flags["STRONGLY_TYPED"]
        self.NetworkDefinitionCreationFlag = SimpleNamespace(**flags)
        # TensorRT 11 removed the weak-typing flags (FP16 among them); only TF32 remains.
        self.BuilderFlag = SimpleNamespace(FP16=0, TF32=7) if version.startswith("10.") else SimpleNamespace(TF32=7)

    def call(self, name: str, default, *args):
        self.calls.append((name, ACTIVE_DEVICES[-1] if ACTIVE_DEVICES else None))
        return self.fail[name](*args) if name in self.fail else default(*args)

    def count(self, name: str) -> int:
        return sum(call == name for call, _ in self.calls)

    @staticmethod
    def nptype(dtype: DataType):
        return NUMPY_TYPES[dtype]

    def Builder(self, logger):
        return _Builder(self)

    def OnnxParser(self, network, logger):
        return _Parser(self, network)

    def Runtime(self, logger):
        def deserialize_cuda_engine(data: bytes):
            return self.call("deserialize_cuda_engine", lambda plan: _Engine(self, json.loads(plan)), data)

        return SimpleNamespace(deserialize_cuda_engine=deserialize_cuda_engine)


class _Builder:
    def __init__(self, trt: StandInTensorRT):
        self.trt = trt

    def create_network(self, flags: int):
        return self.trt.call("create_network", lambda f: SimpleNamespace(flags=f, onnx_path=None), flags)

    def create_builder_config(self):
        config = SimpleNamespace(profiles=[], pools={})
        config.set_memory_pool_limit = lambda pool, size: config.pools.update({int(pool): size})
        config.add_optimization_profile = lambda profile: config.profiles.append(profile)
        return config

    def create_optimization_profile(self):
        return _Profile(self.trt)

    def build_serialized_network(self, network, config):
        def build(network, config):
            (profile,) = config.profiles
            return json.dumps({"onnx": network.onnx_path, "flags": network.flags, "profile": profile.shapes}).encode()

        return self.trt.call("build_serialized_network", build, network, config)


class _Profile:
    def __init__(self, trt: StandInTensorRT):
        self.trt, self.shapes = trt, {}

    def set_shape(self, name, low, optimum, high):
        self.trt.call("set_shape", lambda *shapes: self.shapes.update({name: [list(s) for s in shapes]}),
                      low, optimum, high)


class _Parser:
    def __init__(self, trt: StandInTensorRT, network):
        self.trt, self.network, self.num_errors = trt, network, 0

    def parse_from_file(self, path: str) -> bool:
        self.network.onnx_path = path
        return self.trt.call("parse_from_file", lambda p: True, path)


class _Engine:
    def __init__(self, trt: StandInTensorRT, plan: dict):
        self.trt, self.plan = trt, plan
        self.session = onnxruntime.InferenceSession(plan["onnx"], providers=["CPUExecutionProvider"])
        values = [(v, TensorIOMode.INPUT) for v in self.session.get_inputs()]
        values += [(v, TensorIOMode.OUTPUT) for v in self.session.get_outputs()]
        self.names = [v.name for v, _ in values]
        self.modes = {v.name: mode for v, mode in values}
        self.types = {v.name: ONNX_TYPES[v.type] for v, _ in values}
        self.num_io_tensors = len(values)

    def get_tensor_name(self, index: int) -> str:
        return self.names[index]

    def get_tensor_mode(self, name: str) -> TensorIOMode:
        return self.modes[name]

    def get_tensor_dtype(self, name: str) -> DataType:
        return self.types[name]

    def create_execution_context(self):
        return self.trt.call("create_execution_context", lambda: _Context(self))


class _Context:
    """Inputs are read from, and outputs written to, the addresses the backend binds."""

    def __init__(self, engine: _Engine):
        self.engine, self.trt = engine, engine.trt
        self.shapes, self.addresses, self.results = {}, {}, None

    def set_input_shape(self, name: str, shape) -> bool:
        def within_profile(name, shape):
            low, _, high = self.engine.plan["profile"][name]
            inside = len(shape) == len(low) and all(a <= s <= b for a, s, b in zip(low, shape, high))
            if inside:
                self.shapes[name], self.results = tuple(shape), None
            return inside

        return self.trt.call("set_input_shape", within_profile, name, shape)

    def set_tensor_address(self, name: str, address: int) -> bool:
        return self.trt.call("set_tensor_address", lambda n, a: self.addresses.update({n: a}) is None, name, address)

    def _array_at(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        dtype = np.dtype(NUMPY_TYPES[self.engine.types[name]])
        size = int(np.prod(shape)) * dtype.itemsize
        return np.frombuffer((ctypes.c_char * size).from_address(self.addresses[name]), dtype).reshape(shape)

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        if self.results is None:  # the output shapes follow from the inputs: compute them
            inputs = [n for n in self.engine.names if self.engine.modes[n] == TensorIOMode.INPUT]
            feeds = {n: self._array_at(n, self.shapes[n]).copy() for n in inputs}
            outputs = [n for n in self.engine.names if self.engine.modes[n] == TensorIOMode.OUTPUT]
            self.results = dict(zip(outputs, self.engine.session.run(outputs, feeds)))
        return self.results[name].shape if name in self.results else self.shapes[name]

    def execute_async_v3(self, stream: int) -> bool:
        def execute(stream):
            for name, values in self.results.items():
                ctypes.memmove(self.addresses[name], np.ascontiguousarray(values).ctypes.data, values.nbytes)
            return True

        return self.trt.call("execute_async_v3", execute, stream)


class HostDevice:
    """Stands in for ``CudaDevice``: host buffers, stream 0, the device index recorded while current."""

    def __init__(self, device: str):
        self.index = torch.device(device).index or 0
        self.identity = DeviceIdentity("Stand-in GPU", "8.7", 16)
        self.stream_handle = 0

    @contextmanager
    def current(self):
        ACTIVE_DEVICES.append(self.index)
        try:
            yield
        finally:
            ACTIVE_DEVICES.pop()

    def upload(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(array.copy())

    def empty(self, shape: tuple[int, ...], dtype) -> torch.Tensor:
        return torch.from_numpy(np.empty(shape, dtype))

    def synchronize(self) -> None:
        pass
