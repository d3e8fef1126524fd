"""The installed `mlnet_entity_node` executable in a second process, under a namespace.

Each process is stopped by a finalizer, also when a test fails: SIGINT, then SIGABRT, which
makes Python's faulthandler print every thread's stack, so a hang shows where it hangs.
"""

import array
from pathlib import Path

import cv2
import numpy as np
import pytest
from lifecycle_msgs.srv import GetState
from sensor_msgs.msg import CompressedImage
from std_msgs.msg import String
from support.node_process import NAMESPACE
from support.paths import MODEL_DIR
from support.ros_client import ASTRONAUT, SENTENCE, best_effort_publisher, check_spans, entity_pairs, wait_for

from mlnet_ros.ros.image_msgs import image_to_rgb

pytestmark = [pytest.mark.ros, pytest.mark.slow]

PARAMS_FILE = Path(__file__).resolve().parents[1] / "config" / "mlnet.yaml"


def compressed_astronaut(stamp) -> CompressedImage:
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(ASTRONAUT, cv2.COLOR_RGB2BGR))
    assert ok
    msg = CompressedImage(format="jpeg")
    msg.header.stamp, msg.header.frame_id = stamp, "camera_optical"
    msg.data = array.array("B", jpeg.tobytes())
    return msg


def test_node_process_answers_under_a_namespace(start_node, client):
    """Namespace, params file, compressed images, debug image, QoS warning, clean exit."""
    node = start_node(
        "--params-file",
        str(PARAMS_FILE),
        "-p",
        f"model_dir:={MODEL_DIR}",
        "-p",
        "publish_debug_image:=true",
        "-p",
        "region_proposer:=saliency+people",
        "-p",
        "use_compressed_image:=true",
        "-p",
        "max_image_age:=5.0",
        "-p",
        "max_transcript_chars:=200",
    )
    compressed_pub = client.node.create_publisher(
        CompressedImage, f"{NAMESPACE}/image/compressed", 1
    )
    try:
        assert wait_for(
            lambda: (
                compressed_pub.get_subscription_count() > 0
                and client.transcript_pub.get_subscription_count() > 0
            ),
            90.0,
        ), node.output()
        assert "Loaded model" in node.output() and "region proposer saliency+people" in node.output()
        frame = compressed_astronaut(client.node.get_clock().now().to_msg())
        compressed_pub.publish(frame)
        assert client.wait_diagnostic("images_received", 1), node.output()
        answer = client.say(SENTENCE, timeout=60.0)
        # A frame whose header claims 100000 x 100000 and a transcript over the limit: both
        # rejected with a counted reason; the next transcript is answered.
        impossible = CompressedImage(format="png")
        impossible.data = array.array("B", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(
            [0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 8, 2, 0, 0, 0]))
        compressed_pub.publish(impossible)
        client.transcript_pub.publish(String(data="Eileen Collins " * 20))
        after = client.say(SENTENCE + " again", timeout=60.0)
        assert client.wait_diagnostic("rejected.image_too_large", 1), node.output()
        assert client.wait_diagnostic("rejected.transcript_too_long", 1), node.output()
        assert client.answers_for("Eileen Collins " * 20) == []
    finally:
        client.node.destroy_publisher(compressed_pub)
    check_spans(after)
    check_spans(answer)
    assert ("Eileen Collins", "PER") in entity_pairs(answer)
    assert answer.header.frame_id == "camera_optical", (answer.image_status, node.output())
    assert wait_for(lambda: client.debug_images, 10.0), "no entities/debug_image"
    debug = client.debug_images[-1]
    assert (debug.width, debug.height, debug.encoding) == (512, 512, "rgb8")
    assert debug.header.frame_id == frame.header.frame_id and debug.header.stamp == frame.header.stamp
    overlay = image_to_rgb(debug)
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(bytes(frame.data), np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert overlay.shape == decoded.shape == (512, 512, 3)
    corner = overlay[:10, :100].astype(int)  # the gate line: light text on a black background
    assert (corner.sum(axis=2) == 0).mean() > 0.3 and corner.max() > 150, "no gate score in the corner"

    # A transcript publisher with an incompatible QoS: warned once, clearly, with the fix.
    for _ in range(2):
        publisher = best_effort_publisher(client.node, String, f"{NAMESPACE}/transcript")
        wait_for(lambda: "incompatible QoS" in node.output(), 15.0)
        client.node.destroy_publisher(publisher)
    warnings = [line for line in node.output().splitlines() if "incompatible QoS" in line]
    assert len(warnings) == 1, node.output()
    assert f"{NAMESPACE}/transcript" in warnings[0] and "RELIABILITY" in warnings[0]
    node.stop()
    assert node.process.returncode == 0, node.output()
    assert "Traceback" not in node.output()


def test_managed_start_waits_unconfigured(start_node, client):
    node = start_node("-p", "autostart:=false", "-p", f"model_dir:={MODEL_DIR}")
    get_state = client.node.create_client(GetState, f"{NAMESPACE}/mlnet_entity_node/get_state")
    try:
        assert wait_for(lambda: "waiting for a lifecycle manager" in node.output(), 60.0), (
            node.output()
        )
        assert get_state.wait_for_service(timeout_sec=60.0), node.output()
        # A request sent right after discovery can be lost while the response path is still
        # being matched (DDS); a real client retries, and so does this one.
        for _ in range(3):
            future = get_state.call_async(GetState.Request())
            if wait_for(future.done, 10.0):
                break
        assert future.done(), node.output()
        assert future.result().current_state.label == "unconfigured"
    finally:
        client.node.destroy_client(get_state)


def test_missing_model_fails_configure_with_one_line(start_node, tmp_path):
    node = start_node("-p", f"model_dir:={tmp_path / 'absent'}")
    assert node.wait_exit() == 1
    errors = [line for line in node.lines if line.startswith("[ERROR]")]
    assert len(errors) == 1 and "Cannot load the model" in errors[0], node.output()
    assert "Traceback" not in node.output()


def test_invalid_parameter_exits_with_reason(start_node):
    node = start_node("-p", "backend:=tensorflow")
    assert node.wait_exit() == 2
    assert "backend must be one of auto, tensorrt, onnxruntime, torch" in node.output()
    assert "Traceback" not in node.output()
