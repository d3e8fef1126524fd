"""Test-session isolation (private DDS discovery, UDP only, a per-run domain id and log directory: set at
import, before any test imports rclpy, and inherited by every subprocess a test starts), the check
that the model under test exists, and the shared fixtures."""
import os
import random
import tempfile
from pathlib import Path

import pytest

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
# Fast DDS over UDP only: its shared-memory transport keeps state in /dev/shm across processes,
# and after a process dies uncleanly (a test's SIGKILL, an earlier run) messages between live
# processes can silently stop arriving (eProsima/Fast-DDS#5469, #5053). Tests test this package,
# not that transport.
os.environ.setdefault("FASTDDS_BUILTIN_TRANSPORTS", "UDPv4")
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault("ROS_LOG_DIR", tempfile.mkdtemp(prefix="mlnet_ros_test_logs_"))


from support.paths import MODEL_DIR  # noqa: E402 (after the environment above)


def pytest_sessionstart(session) -> None:
    """The model under test is part of the repository: a missing one fails the run at once, everywhere."""
    if not (MODEL_DIR / "model.safetensors").is_file():
        raise pytest.UsageError(f"no trained model in {MODEL_DIR} (set MLNET_TEST_MODEL_DIR to a model directory)")


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory) -> Path:
    """An XDG cache directory holding the export of MODEL_DIR (about a minute the first time)."""
    from mlnet_ros.inference.onnx_export import ensure_export

    cache = tmp_path_factory.getbasetemp() / "xdg_cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        ensure_export(MODEL_DIR)
    return cache


@pytest.fixture
def exported(onnx_cache, monkeypatch):
    """The verified export, with XDG_CACHE_HOME pointing at its cache for this test (and its subprocesses)."""
    from mlnet_ros.inference.onnx_export import ensure_export

    monkeypatch.setenv("XDG_CACHE_HOME", str(onnx_cache))
    return ensure_export(MODEL_DIR)


@pytest.fixture
def start_node(request):
    """Start ``mlnet_entity_node`` processes (support.node_process); every one is stopped when the test ends."""
    from support.node_process import NodeProcess

    def start(*ros_args: str):
        node = NodeProcess(*ros_args)
        request.addfinalizer(node.stop)
        return node

    return start


@pytest.fixture(scope="module")
def client():
    """A client node of the node processes' namespace in its own context, spun in a thread."""
    import threading

    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from support.node_process import NAMESPACE
    from support.ros_client import Client

    context = Context()
    rclpy.init(context=context)
    executor = SingleThreadedExecutor(context=context)
    node = rclpy.create_node("entity_process_test_client", context=context)
    executor.add_node(node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        yield Client(node, NAMESPACE)
    finally:
        executor.shutdown()
        thread.join(10.0)
        node.destroy_node()
        rclpy.try_shutdown(context=context)


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    """The fp32 deploy bundle of MODEL_DIR, written by the mlnet_export executable."""
    from support.bundles import export_bundle

    return export_bundle(tmp_path_factory.mktemp("bundle") / "embedded")


@pytest.fixture(scope="session")
def int8_bundle(tmp_path_factory) -> Path:
    """The deploy bundle of MODEL_DIR with an int8 text graph."""
    from support.bundles import export_bundle

    return export_bundle(tmp_path_factory.mktemp("bundle") / "embedded_int8", "--int8")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A saved checkpoint of a tiny random MLNet (support.tiny_models): exports in seconds."""
    from support.tiny_models import tiny_model, tiny_text_encoder

    from mlnet_ros.model.checkpoint import save_checkpoint

    directory = tmp_path_factory.mktemp("tiny")
    save_checkpoint(tiny_model(tiny_text_encoder(directory / "bert")), directory / "model")
    return directory / "model"
