"""TensorRT: the engine cache and optimization profiles (everywhere), engine parity with torch (where
TensorRT and a CUDA GPU exist; skipped with the reason elsewhere)."""
from __future__ import annotations

import json
import logging
from dataclasses import replace

import numpy as np
import pytest
import skimage.data
from onnx_support import MODEL_DIR, exported, needs_model, onnx_cache  # noqa: F401 (fixtures)

from mlnet_ros.inference.backends import BackendUnavailable, load_backend
from mlnet_ros.inference.backends.engine_cache import EngineCache, EngineKey, cached_engine
from mlnet_ros.inference.backends.tensorrt_backend import import_tensorrt, profile_shapes
from mlnet_ros.core.config import embedded_config
from mlnet_ros.inference.export_format import IMAGE_GRAPH, TEXT_GRAPH

KEY = EngineKey("ab" * 32, "10.3.0", "Orin", "8.7", "fp16")


class Builder:
    def __init__(self):
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return f"engine {self.calls}".encode()


def test_engine_is_built_once_then_reused(tmp_path):
    cache, build = EngineCache(tmp_path), Builder()
    assert cached_engine(cache, "text.fp16", KEY, build, force_rebuild=False) == b"engine 1"
    assert cached_engine(cache, "text.fp16", KEY, build, force_rebuild=False) == b"engine 1"
    assert build.calls == 1
    record = json.loads(cache.key_path("text.fp16").read_text())
    assert record["key"]["gpu_name"] == "Orin" and len(record["engine_sha256"]) == 64


@pytest.mark.parametrize(
    "changed",
    [
        {"gpu_name": "GeForce RTX 4090"},
        {"tensorrt_version": "10.4.0"},
        {"onnx_sha256": "cd" * 32},
        {"precision": "fp32"},
    ],
)
def test_engine_for_another_key_is_rebuilt(tmp_path, changed, caplog):
    cache, build = EngineCache(tmp_path), Builder()
    cached_engine(cache, "text", KEY, build, force_rebuild=False)
    with caplog.at_level(logging.WARNING):
        assert cached_engine(cache, "text", replace(KEY, **changed), build, force_rebuild=False) == b"engine 2"
    assert f"built for another {next(iter(changed))}" in caplog.text


def test_damaged_engine_or_key_file_is_rebuilt_never_loaded(tmp_path, caplog):
    cache, build = EngineCache(tmp_path), Builder()
    cached_engine(cache, "text", KEY, build, force_rebuild=False)
    cache.engine_path("text").write_bytes(b"engine")  # truncated
    with caplog.at_level(logging.WARNING):
        assert cache.load("text", KEY) is None
    assert "truncated or corrupt" in caplog.text
    cache.key_path("text").write_text("{")
    assert cache.load("text", KEY) is None
    cache.key_path("text").unlink()  # an engine copied without its key file
    assert cache.load("text", KEY) is None
    assert cached_engine(cache, "text", KEY, build, force_rebuild=False) == b"engine 2"


def test_forced_rebuild(tmp_path):
    cache, build = EngineCache(tmp_path), Builder()
    cached_engine(cache, "text", KEY, build, force_rebuild=False)
    assert cached_engine(cache, "text", KEY, build, force_rebuild=True) == b"engine 2"
    assert cache.load("text", KEY) == b"engine 2"


def test_profiles_cover_every_input_size_the_recognizer_sends():
    config = embedded_config()
    shapes = profile_shapes(config)
    low, _, high = shapes[TEXT_GRAPH]["input_ids"]
    assert low == (1, 1) and high == (32, config.max_length)
    assert shapes[TEXT_GRAPH]["regions"][0][1] == 1 and shapes[TEXT_GRAPH]["regions"][2][1] == config.num_crops + 1
    assert shapes[TEXT_GRAPH]["char_ids"][2][2] == config.max_word_chars
    assert shapes[IMAGE_GRAPH]["crops"][0] == (1, config.num_crops + 1, 3, 224, 224)
    for graph in shapes.values():
        for low, optimum, high in graph.values():
            assert all(a <= b <= c for a, b, c in zip(low, optimum, high))


@pytest.fixture(scope="session")
def tensorrt_available():
    try:
        import_tensorrt()
    except BackendUnavailable as error:
        print(f"TensorRT parity skipped: {error}")
        pytest.skip(f"tensorrt: {error}")


@needs_model
def test_tensorrt_matches_torch(tensorrt_available, exported):
    torch_recognizer = load_backend(MODEL_DIR, "torch")
    engine_recognizer = load_backend(MODEL_DIR, "tensorrt", device="cuda", fp16=False)
    photo = skimage.data.astronaut()
    expected_image, actual_image = torch_recognizer.encode_image(photo), engine_recognizer.encode_image(photo)
    assert np.abs(actual_image.regions - expected_image.regions).max() <= 1e-2
    transcripts = ["Eileen Collins flew on the space shuttle Columbia for NASA", "Obama met Merkel in Berlin"]
    for images in ([None, None], [expected_image, expected_image]):
        expected = torch_recognizer.recognize_batch(transcripts, images)
        actual = engine_recognizer.recognize_batch(transcripts, images)
        for e, a in zip(expected, actual):
            assert [(x.text, x.type) for x in a.entities] == [(x.text, x.type) for x in e.entities]


@needs_model
def test_tensorrt_engine_is_cached_and_rebuilt_on_request(tensorrt_available, exported):
    load_backend(MODEL_DIR, "tensorrt", device="cuda")
    engine = exported.directory / "tensorrt" / "text.fp16.engine"
    built = engine.stat().st_mtime_ns
    load_backend(MODEL_DIR, "tensorrt", device="cuda")
    assert engine.stat().st_mtime_ns == built
    load_backend(MODEL_DIR, "tensorrt", device="cuda", force_engine_rebuild=True)
    assert engine.stat().st_mtime_ns != built
