"""On-disk cache of serialized TensorRT engines, keyed by what makes an engine valid.

An engine only runs on the GPU model and TensorRT version that built it, and it is only the
engine asked for when every other build input matches too: the ONNX graph, the mixed-precision
recipe, the network flags, the optimization profile and the workspace. Each engine file has a key
file beside it recording that key and the engine's own sha256; an engine is handed to the runtime
only when both match, so a stale, foreign, truncated or corrupt file is rebuilt instead of
deserialized (a key file of an older format lacks fields, so its engine is rebuilt too).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineKey:
    """Every input of an engine build; an engine is reused only for an equal key."""

    onnx_sha256: str  # the exported fp32 graph
    precision: str  # "fp16" (built from the mixed-precision graph) or "fp32" (from the export itself)
    mixed_precision_recipe: str  # sha256 of the fp16 conversion recipe; "" for fp32
    network_flags: tuple[str, ...]  # NetworkDefinitionCreationFlag names, e.g. ("STRONGLY_TYPED",)
    profile: dict  # input name → (min, opt, max) shapes
    workspace_bytes: int
    tensorrt_version: str
    gpu_name: str
    compute_capability: str
    multiprocessors: int


def key_record(key: EngineKey) -> dict:
    """``key`` as its key file stores it (JSON types: tuples become lists)."""
    return json.loads(json.dumps(asdict(key)))


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + f".tmp{os.getpid()}")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class EngineCache:
    """``<directory>/<name>.engine`` + ``<name>.engine.json`` (the key and the engine's sha256)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def engine_path(self, name: str) -> Path:
        return self.directory / f"{name}.engine"

    def key_path(self, name: str) -> Path:
        return self.directory / f"{name}.engine.json"

    def load(self, name: str, key: EngineKey) -> bytes | None:
        """The cached engine bytes if they were built for ``key`` and are intact; else None (reason logged)."""
        engine_path, key_path = self.engine_path(name), self.key_path(name)
        if not engine_path.is_file() or not key_path.is_file():
            log.info("no cached TensorRT engine at %s", engine_path)
            return None
        try:
            record = json.loads(key_path.read_text())
            recorded_key, engine_sha256 = dict(record["key"]), record["engine_sha256"]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            log.warning("%s: unreadable key file (%s): rebuilding", key_path, error)
            return None
        expected = key_record(key)
        if recorded_key != expected:
            changed = sorted(field for field, value in expected.items() if recorded_key.get(field) != value)
            log.warning("%s: built for another %s: rebuilding", engine_path, ", ".join(changed))
            return None
        data = engine_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != engine_sha256:
            log.warning("%s: sha256 differs from its key file (truncated or corrupt): rebuilding", engine_path)
            return None
        return data

    def store(self, name: str, key: EngineKey, engine: bytes) -> None:
        """Write the engine, then its key file (a crash in between leaves no valid-looking pair)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.key_path(name).unlink(missing_ok=True)
        _write_atomically(self.engine_path(name), engine)
        record = {"key": key_record(key), "engine_sha256": hashlib.sha256(engine).hexdigest()}
        _write_atomically(self.key_path(name), (json.dumps(record, indent=1) + "\n").encode())


def cached_engine(
    cache: EngineCache, name: str, key: EngineKey, build: Callable[[], bytes], force_rebuild: bool
) -> bytes:
    """The engine for ``key``: from the cache, or built with ``build()`` and stored (always when forced)."""
    engine = None if force_rebuild else cache.load(name, key)
    if engine is None:
        log.info("building TensorRT engine %s (%s): minutes on a Jetson", cache.engine_path(name), key.precision)
        engine = build()
        cache.store(name, key, engine)
    return engine
