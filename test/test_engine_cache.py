"""The TensorRT engine cache (every build input in the key) and the optimization profiles; no
TensorRT needed."""
from __future__ import annotations

import json
import logging
from dataclasses import fields, replace

import pytest

from mlnet_ros.core.config import embedded_config
from mlnet_ros.inference.backends.engine_cache import EngineCache, EngineKey, cached_engine
from mlnet_ros.inference.backends.tensorrt_backend import profile_shapes
from mlnet_ros.inference.export_format import IMAGE_GRAPH, TEXT_GRAPH

KEY = EngineKey(
    onnx_sha256="ab" * 32,
    precision="fp16",
    mixed_precision_recipe="12" * 32,
    network_flags=("STRONGLY_TYPED",),
    profile=profile_shapes(embedded_config())[TEXT_GRAPH],
    workspace_bytes=1 << 30,
    tensorrt_version="10.3.0.26",
    gpu_name="Orin",
    compute_capability="8.7",
    multiprocessors=16,
)
# One different value for every field of the key: each must force a rebuild.
CHANGES = {
    "onnx_sha256": "cd" * 32,
    "precision": "fp32",
    "mixed_precision_recipe": "34" * 32,
    "network_flags": (),
    "profile": {**KEY.profile, "input_ids": ((1, 1), (1, 48), (32, 64))},
    "workspace_bytes": 1 << 28,
    "tensorrt_version": "11.4.0.106",
    "gpu_name": "GeForce RTX 4090",
    "compute_capability": "8.9",
    "multiprocessors": 8,  # Orin NX / Nano 8 GB: also "Orin", 8.7
}


class Builder:
    def __init__(self):
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return f"engine {self.calls}".encode()


def test_every_key_field_has_a_change_under_test():
    assert set(CHANGES) == {field.name for field in fields(EngineKey)}


def test_engine_is_built_once_then_reused(tmp_path):
    cache, build = EngineCache(tmp_path), Builder()
    assert cached_engine(cache, "text.fp16", KEY, build, force_rebuild=False) == b"engine 1"
    assert cached_engine(cache, "text.fp16", KEY, build, force_rebuild=False) == b"engine 1"
    assert build.calls == 1
    record = json.loads(cache.key_path("text.fp16").read_text())
    assert record["key"]["gpu_name"] == "Orin" and len(record["engine_sha256"]) == 64
    assert record["key"]["profile"]["input_ids"] == [[1, 1], [1, 48], [32, 128]]


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_engine_for_another_key_is_rebuilt(tmp_path, field, caplog):
    cache, build = EngineCache(tmp_path), Builder()
    cached_engine(cache, "text", KEY, build, force_rebuild=False)
    with caplog.at_level(logging.WARNING):
        changed = replace(KEY, **{field: CHANGES[field]})
        assert cached_engine(cache, "text", changed, build, force_rebuild=False) == b"engine 2"
    assert f"built for another {field}" in caplog.text


def test_key_file_of_the_older_format_causes_a_rebuild(tmp_path, caplog):
    cache, build = EngineCache(tmp_path), Builder()
    cached_engine(cache, "text", KEY, build, force_rebuild=False)
    record = json.loads(cache.key_path("text").read_text())
    old_fields = ("onnx_sha256", "tensorrt_version", "gpu_name", "compute_capability", "precision")
    old = {name: record["key"][name] for name in old_fields}
    cache.key_path("text").write_text(json.dumps({"key": old, "engine_sha256": record["engine_sha256"]}))
    with caplog.at_level(logging.WARNING):
        assert cache.load("text", KEY) is None
    new_fields = "mixed_precision_recipe, multiprocessors, network_flags, profile, workspace_bytes"
    assert f"built for another {new_fields}" in caplog.text


def test_damaged_engine_or_key_file_is_rebuilt_never_loaded(tmp_path, caplog):
    cache, build = EngineCache(tmp_path), Builder()
    cached_engine(cache, "text", KEY, build, force_rebuild=False)
    cache.engine_path("text").write_bytes(b"engine")  # truncated
    with caplog.at_level(logging.WARNING):
        assert cache.load("text", KEY) is None
    assert "truncated or corrupt" in caplog.text
    cache.key_path("text").write_text("{")
    assert cache.load("text", KEY) is None
    cache.key_path("text").write_text('{"key": [1], "engine_sha256": "00"}')
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
