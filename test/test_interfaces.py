"""The generated interfaces between two real ROS processes, and the core package without ROS."""
import subprocess
import sys
import time

import pytest
import rclpy
from rclpy.qos import QoSProfile
from support.interface_peer import TRANSCRIPT, sample_entity_array
from support.paths import SUPPORT

from mlnet_ros.msg import Entity, EntityArray
from mlnet_ros.srv import RecognizeEntities

pytestmark = pytest.mark.ros


@pytest.fixture
def ros_node():
    """A real rclpy node in the test process, destroyed even when the test fails."""
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node("interface_test", context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    yield node, executor
    executor.shutdown()
    node.destroy_node()
    rclpy.shutdown(context=context)


@pytest.fixture
def start_peer():
    """Starts interface_peer.py in a second process; always terminates it."""
    processes = []

    def start(mode: str, name: str) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, str(SUPPORT / "interface_peer.py"), mode, name])
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def spin_until(executor, done, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.1)


def test_entity_array_crosses_processes(ros_node, start_peer):
    node, executor = ros_node
    received = []
    node.create_subscription(EntityArray, "peer_entities", received.append, QoSProfile(depth=10))
    start_peer("publish", "peer_entities")

    spin_until(executor, lambda: received)

    assert received, "no EntityArray arrived from the publisher process"
    expected, got = sample_entity_array(), received[0]
    # float32 fields come back rounded to float32: compare them approximately, the rest exactly
    assert got.image_text_match == pytest.approx(expected.image_text_match)
    assert [e.confidence for e in got.entities] == pytest.approx(
        [e.confidence for e in expected.entities])
    for msg in (got, expected):
        msg.image_text_match = 0.0
        for entity in msg.entities:
            entity.confidence = 0.0
    assert got == expected
    assert [e.text for e in got.entities] == ["Anna", "Paris"]
    assert all(got.transcript[e.start:e.end] == e.text for e in got.entities)
    assert got.entities[0].box.width == 30 and got.entities[0].type == Entity.TYPE_PER
    assert (got.header.frame_id, got.header.stamp.sec, got.image_stamp.sec) == ("camera", 42, 41)


def test_recognize_entities_service_across_processes(ros_node, start_peer):
    node, executor = ros_node
    client = node.create_client(RecognizeEntities, "peer_recognize")
    start_peer("serve", "peer_recognize")
    spin_until(executor, client.service_is_ready)
    assert client.service_is_ready(), "the service process did not come up"

    request = RecognizeEntities.Request(transcript=TRANSCRIPT)
    request.image.width, request.image.height, request.image.encoding = 2, 1, "rgb8"
    request.image.step, request.image.data = 6, bytes(range(6))
    for _ in range(3):  # a request sent right after discovery can be lost (DDS matching): retry
        future = client.call_async(request)
        spin_until(executor, future.done, timeout_s=10.0)
        if future.done():
            break
    assert future.done(), "the service process did not answer 3 requests"

    response = future.result()
    assert response.success and response.message == ""
    assert response.entities.transcript == TRANSCRIPT
    assert response.entities.image_used is True
    assert [e.type for e in response.entities.entities] == ["PER", "LOC"]

    future = client.call_async(RecognizeEntities.Request(transcript=""))
    spin_until(executor, future.done)
    assert future.result().success is False and future.result().message == "empty transcript"


def test_message_constants_and_defaults():
    assert (Entity.TYPE_PER, Entity.TYPE_LOC, Entity.TYPE_ORG, Entity.TYPE_MISC) == (
        "PER", "LOC", "ORG", "MISC")
    statuses = {EntityArray.IMAGE_USED, EntityArray.IMAGE_NONE, EntityArray.IMAGE_STALE,
                EntityArray.IMAGE_GATE_CLOSED}
    assert len(statuses) == 4
    empty = EntityArray()
    assert empty.entities == [] and empty.image_used is False and empty.header.frame_id == ""
    assert Entity().has_box is False and Entity().box.width == 0


# Modules that are the ROS side of the package (they import rclpy / ROS messages).
ROS_MODULES = {"mlnet_ros.ros.entity_node", "mlnet_ros.cli.demo", "mlnet_ros.ros.image_msgs",
               "mlnet_ros.ros.entity_msgs", "mlnet_ros.ros.latest_frame", "mlnet_ros.ros.diagnostics",
               "mlnet_ros.ros.parameters", "mlnet_ros.ros.qos", "mlnet_ros.ros.answering", "mlnet_ros.ros.spinning",
               "mlnet_ros.msg", "mlnet_ros.srv"}

BLOCK_ROS = """
import importlib, pkgutil, sys
ROS_NAMES = ("rclpy", "std_msgs", "sensor_msgs", "builtin_interfaces", "diagnostic_msgs",
             "lifecycle_msgs", "rosidl_runtime_py", "rosidl_parser")

class BlockRos:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ROS_NAMES:
            raise ImportError("ROS is not on the path: " + name)

sys.meta_path.insert(0, BlockRos())
import mlnet_ros, training
ros_modules = set(sys.argv[1:])
names = [m.name for pkg in (mlnet_ros, training)
         for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")
         if m.name not in ros_modules and not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print(len(names), "modules")
"""


def test_core_package_imports_without_ros():
    result = subprocess.run([sys.executable, "-c", BLOCK_ROS, *sorted(ROS_MODULES)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "modules" in result.stdout
