"""The TensorRT backend's own code on a machine without TensorRT or a GPU: build, cache, bind,
execute, the device it runs under, and the fallback when any TensorRT call fails.

How the failures are injected: ``loading.load_tensorrt`` passes ``TensorRTGraphs`` the module that
``import_tensorrt()`` returns and the device ``CudaDevice(device)`` makes. The ``stand_in``
fixture makes those two return ``StandInTensorRT`` and ``HostDevice`` (test/tensorrt_stand_in.py):
a TensorRT whose engine is the requested ONNX graph run by onnxruntime on the buffers the backend
binds, and host memory for the GPU. Each failure replaces one named TensorRT call of that stand-in
(``fail={"set_input_shape": ...}``), so the failure happens where the backend calls TensorRT, in
its real build, load or warm-up path, and everything before it really ran. The onnxruntime
provider list reports a CUDA provider, as onnxruntime-gpu does on a GPU machine, so ``auto`` on
``cuda`` may fall back to onnxruntime (its sessions then run on the CPU provider).
"""
from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import onnxruntime
import pytest
import skimage.data
from support import tensorrt_stand_in
from support.paths import MODEL_DIR
from support.tensorrt_stand_in import StandInTensorRT

from mlnet_ros.inference.backends import BackendUnavailable, load_backend, tensorrt_backend
from mlnet_ros.inference.export_format import TEXT_GRAPH

pytestmark = pytest.mark.slow

TRANSCRIPTS = ["Eileen Collins flew on the space shuttle Columbia for NASA", "Obama met Merkel in Berlin"]


def raises(error: Exception):
    def call(*args):
        raise error

    return call


@pytest.fixture
def stand_in(exported, monkeypatch):
    """Installs a StandInTensorRT (set its ``fail`` / pass another) and host memory for the GPU;
    starts from an empty engine cache."""
    shutil.rmtree(exported.directory / "tensorrt", ignore_errors=True)
    installed = {"trt": StandInTensorRT()}
    monkeypatch.setattr(tensorrt_backend, "import_tensorrt", lambda: installed["trt"])
    monkeypatch.setattr(tensorrt_backend, "CudaDevice", tensorrt_stand_in.HostDevice)
    gpu_providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: gpu_providers)
    return installed


def entities(recognizer, image=None) -> list[list[tuple[str, str]]]:
    images = [image] * len(TRANSCRIPTS)
    return [[(e.text, e.type) for e in r.entities] for r in recognizer.recognize_batch(TRANSCRIPTS, images)]


@pytest.mark.parametrize("version", ["10.3.0.26", "11.4.0.106"])
@pytest.mark.parametrize("fp16", [True, False])
def test_engines_build_load_and_serve_on_the_requested_device(stand_in, exported, version, fp16):
    """TensorRT 10.3 and 11 (which has no BuilderFlag.FP16): strongly typed builds, every TensorRT
    call under cuda:1, results equal to onnxruntime's, the engine reused on the next load."""
    trt = stand_in["trt"] = StandInTensorRT(version)
    recognizer = load_backend(MODEL_DIR, "tensorrt", device="cuda:1", fp16=fp16)
    assert recognizer.backend == "tensorrt"
    assert trt.count("build_serialized_network") == 2 and trt.count("execute_async_v3") >= 3  # warm-up ran
    assert {device for _, device in trt.calls} == {1}
    precision = "fp16" if fp16 else "fp32"
    key = json.loads((exported.directory / "tensorrt" / f"text.{precision}.engine.json").read_text())["key"]
    assert key["network_flags"] == ["STRONGLY_TYPED"] and key["tensorrt_version"] == version
    assert key["precision"] == precision and bool(key["mixed_precision_recipe"]) == fp16
    assert key["multiprocessors"] == 16 and key["workspace_bytes"] == tensorrt_backend.WORKSPACE_BYTES
    plan = json.loads((exported.directory / "tensorrt" / f"text.{precision}.engine").read_text())
    assert plan["onnx"] == str(exported.directory / ("fp16/text.onnx" if fp16 else "text.onnx"))
    assert plan["flags"] == 1 << trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED
    reference = load_backend(MODEL_DIR, "onnxruntime")
    photo = skimage.data.astronaut()
    image, expected_image = recognizer.encode_image(photo), reference.encode_image(photo)
    assert np.abs(image.regions - expected_image.regions).max() <= (0.1 if fp16 else 1e-4)
    assert entities(recognizer) == entities(reference) and any(entities(reference))
    assert entities(recognizer, image) == entities(reference, expected_image)
    trt.calls.clear()
    load_backend(MODEL_DIR, "tensorrt", device="cuda:1", fp16=fp16)
    assert trt.count("build_serialized_network") == 0 and trt.count("deserialize_cuda_engine") == 2


def test_shape_outside_the_profile_names_tensor_shape_and_range(stand_in):
    recognizer = load_backend(MODEL_DIR, "tensorrt", device="cuda")
    feeds = {
        "input_ids": np.ones((33, 8), np.int64), "attention_mask": np.ones((33, 8), np.int64),
        "word_starts": np.zeros((33, 4), np.int64), "word_mask": np.ones((33, 4), bool),
        "char_ids": np.ones((33, 4, 5), np.int64), "regions": np.zeros((33, 1, 49, 384), np.float32),
        "image_present": np.zeros(33, bool),
    }
    with pytest.raises(RuntimeError, match=r"input input_ids of shape \(33, 8\) is outside the engine's profile "
                                           r"\(1, 1\)\.\.\(32, 128\)"):
        recognizer.runner.executor.run(TEXT_GRAPH, feeds)


FAILURES = {
    "AttributeError at build (no STRONGLY_TYPED flag)": (
        {"strongly_typed": False}, "engine build or load failed: AttributeError"),
    "RuntimeError from set_shape": (
        {"fail": {"set_shape": raises(RuntimeError("IOptimizationProfile::setDimensions: Error Code 3"))}},
        "engine build or load failed: RuntimeError: IOptimizationProfile::setDimensions: Error Code 3"),
    "no engine from build_serialized_network": (
        {"fail": {"build_serialized_network": lambda network, config: None}}, "failed (see the TensorRT log)"),
    "deserialize returns None": (
        {"fail": {"deserialize_cuda_engine": lambda data: None}}, "does not deserialize; use force_engine_rebuild"),
    "no execution context": (
        {"fail": {"create_execution_context": lambda: None}}, "no execution context"),
    "False from set_input_shape in warm-up": (
        {"fail": {"set_input_shape": lambda name, shape: False}},
        "warm-up inference failed: RuntimeError: tensorrt image.onnx: input crops of shape (1, 4, 3, 224, 224) is "
        "outside the engine's profile (1, 4, 3, 224, 224)..(4, 4, 3, 224, 224)"),
    "False from set_tensor_address in warm-up": (
        {"fail": {"set_tensor_address": lambda name, address: False}}, "warm-up inference failed: RuntimeError"),
    "failed execution in warm-up": (
        {"fail": {"execute_async_v3": lambda stream: False}},
        "warm-up inference failed: RuntimeError: tensorrt image.onnx: execution failed"),
    "CUDA error raised in execution": (
        {"fail": {"execute_async_v3": raises(RuntimeError("CUDA error: an illegal memory access\nwas encountered"))}},
        "warm-up inference failed: RuntimeError: CUDA error: an illegal memory access was encountered"),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_any_tensorrt_failure_falls_back_with_the_reason(stand_in, failure, caplog):
    options, reason = FAILURES[failure]
    stand_in["trt"] = StandInTensorRT(**options)
    with caplog.at_level(logging.INFO, logger="mlnet_ros.inference.backends"):
        recognizer = load_backend(MODEL_DIR, "auto", device="cuda")
    assert recognizer.backend == "onnxruntime"
    message = caplog.records[-1].getMessage()
    assert message.startswith("backend auto: using onnxruntime (tensorrt: ") and reason in message
    with pytest.raises(BackendUnavailable) as raised:
        load_backend(MODEL_DIR, "tensorrt", device="cuda")
    assert str(raised.value).startswith("tensorrt: ") and reason in str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_int8_bundle_is_refused_before_any_engine_build(stand_in, int8_bundle, caplog):
    """int8 bundles carry onnxruntime's MatMulNBits: TensorRT says so at once (no parse, no engine), auto
    falls back to onnxruntime, and the bundle stays as it was."""
    before = sorted(p.name for p in int8_bundle.iterdir())
    with pytest.raises(BackendUnavailable) as raised:
        load_backend(int8_bundle, "tensorrt", device="cuda")
    assert "is an int8 bundle" in str(raised.value) and "fp32 bundle (mlnet_export without --int8)" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert stand_in["trt"].calls == []  # no builder, parser or engine was touched
    with caplog.at_level(logging.INFO, logger="mlnet_ros.inference.backends"):
        recognizer = load_backend(int8_bundle, "auto", device="cuda")
    assert recognizer.backend == "onnxruntime"
    assert "is an int8 bundle" in caplog.records[-1].getMessage()
    assert sorted(p.name for p in int8_bundle.iterdir()) == before
