"""The entity node in this process: real rclpy, real messages, the real model (loaded once).

The node and a client node share one private context and a MultiThreadedExecutor thread; every
exchange goes through DDS topics and services.
"""

import array
import threading

import numpy as np
import pytest
import rclpy
from mlnet_ros.msg import EntityArray
from mlnet_ros.srv import RecognizeEntities
from rclpy.context import Context
from rclpy.exceptions import InvalidParameterValueException
from rclpy.executors import MultiThreadedExecutor
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.serialization import serialize_message
from sensor_msgs.msg import Image
from std_msgs.msg import String
from test_entity_node_harness import (
    ASTRONAUT,
    MODEL_DIR,
    SENTENCE,
    Client,
    best_effort_publisher,
    check_spans,
    entity_pairs,
    require_model,
    wait_for,
)

from mlnet_ros.ros.entity_node import EntityNode, activate
from mlnet_ros.ros.image_msgs import rgb_to_image


@pytest.fixture(scope="module")
def ros():
    """A started entity node (max_image_age 5 s) and a connected client, torn down at the end."""
    require_model()
    context = Context()
    rclpy.init(context=context)
    executor = MultiThreadedExecutor(num_threads=4, context=context)
    node = client_node = thread = None
    try:
        node = EntityNode(
            context=context,
            parameter_overrides=[
                Parameter("model_dir", value=str(MODEL_DIR)),
                Parameter("max_image_age", value=5.0),
            ],
        )
        client_node = rclpy.create_node("entity_node_test_client", context=context)
        executor.add_node(node)
        executor.add_node(client_node)
        assert activate(node)
        thread = threading.Thread(target=executor.spin, daemon=True)
        thread.start()
        client = Client(client_node)
        client.wait_connected()
        assert wait_for(lambda: client.latest_status() is not None, 10.0), "no diagnostics"
        yield node, client
    finally:
        executor.shutdown()
        if thread is not None:
            thread.join(10.0)
        for each in (node, client_node):
            if each is not None:
                each.destroy_node()
        rclpy.try_shutdown(context=context)


def restart(node: EntityNode, client: Client) -> None:
    """Deactivate and reactivate (forgets the latest frame and its features); return once the
    client's publishers are connected to the new subscriptions."""
    assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
    assert wait_for(
        lambda: (
            client.image_pub.get_subscription_count() == 0
            and client.transcript_pub.get_subscription_count() == 0
        )
    )
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    client.wait_connected()


# -- answers -------------------------------------------------------------------------------


def test_known_sentence_with_image(ros):
    node, client = ros
    image = client.send_image(frame_id="camera_optical")
    answer = client.say(SENTENCE)
    check_spans(answer)
    assert ("Eileen Collins", "PER") in entity_pairs(answer)
    assert answer.image_status in (EntityArray.IMAGE_USED, EntityArray.IMAGE_GATE_CLOSED)
    assert answer.header.frame_id == "camera_optical"
    assert answer.image_stamp == image.header.stamp
    stamp_ns = answer.header.stamp.sec * 10**9 + answer.header.stamp.nanosec
    assert abs(node.get_clock().now().nanoseconds - stamp_ns) < 30 * 10**9
    assert 0.0 <= answer.image_text_match <= 1.0
    assert answer.model and answer.backend
    assert answer.inference_time.sec > 0 or answer.inference_time.nanosec > 0
    height, width = ASTRONAUT.shape[:2]
    for entity in answer.entities:
        if entity.has_box:
            assert entity.box.x_offset + entity.box.width <= width
            assert entity.box.y_offset + entity.box.height <= height
            assert entity.box.width > 0 and entity.box.height > 0


def test_stale_image_gives_text_only(ros):
    node, client = ros
    restart(node, client)  # forget the features of the fresh frame of the previous test
    client.send_image(age_s=60.0)
    answer = client.say("Eileen Collins visited Houston in Texas")
    assert answer.image_status == EntityArray.IMAGE_STALE
    assert not answer.image_used and answer.header.frame_id == ""
    assert answer.image_stamp.sec == 0 and answer.image_text_match == 0.0
    check_spans(answer)


def test_no_image_then_image_after_its_transcript(ros):
    node, client = ros
    restart(node, client)
    first = "Barack Obama spoke in Chicago"
    answer = client.say(first)
    assert answer.image_status == EntityArray.IMAGE_NONE and not answer.image_used
    client.send_image()  # arrives after its transcript: used by the next one, never re-answers
    second = client.say("Barack Obama spoke in Chicago today")
    assert second.image_status in (EntityArray.IMAGE_USED, EntityArray.IMAGE_GATE_CLOSED)
    assert len(client.answers_for(first)) == 1


def test_encoded_frame_is_reused_while_within_max_image_age(ros):
    node, client = ros
    restart(node, client)
    first = client.send_image(frame_id="first")
    assert client.say("Eileen Collins at NASA one").image_stamp == first.header.stamp
    client.send_image(frame_id="second")  # newer, but the encoded first frame is still fresh
    assert client.say("Eileen Collins at NASA two").header.frame_id == "first"
    # 2 s: the first frame ages out during the wait, while the third stays fresh even though
    # send_image returns only once the node's 1 Hz diagnostics have counted it (up to ~1 s).
    assert node.set_parameters([Parameter("max_image_age", value=2.0)])[0].successful
    try:
        wait_for(lambda: False, 2.1)
        third = client.send_image(frame_id="third")
        answer = client.say("Eileen Collins at NASA three")
        assert (answer.header.frame_id, answer.image_stamp) == ("third", third.header.stamp)
    finally:
        node.set_parameters([Parameter("max_image_age", value=5.0)])


def test_every_transcript_is_answered_exactly_once(ros):
    node, client = ros
    transcripts = [f"Angela Merkel met Emmanuel Macron in Paris number {i}" for i in range(6)]
    for text in transcripts:
        client.transcript_pub.publish(String(data=text))
    assert wait_for(lambda: all(client.answers_for(t) for t in transcripts), 60.0)
    wait_for(lambda: False, 1.0)  # a late duplicate would show up here
    assert [len(client.answers_for(t)) for t in transcripts] == [1] * 6


def test_confidence_threshold_drops_entities(ros):
    node, client = ros
    assert node.set_parameters([Parameter("confidence_threshold", value=1.0)])[0].successful
    try:
        answer = client.say("Eileen Collins works for NASA in Houston")
        assert all(e.confidence >= 1.0 for e in answer.entities)
    finally:
        node.set_parameters([Parameter("confidence_threshold", value=0.0)])


# -- bad input -----------------------------------------------------------------------------


def bad_images():
    good = rgb_to_image(ASTRONAUT[:64, :64].copy())
    short = rgb_to_image(ASTRONAUT[:64, :64].copy())
    short.data = array.array("B", bytes(len(good.data) - 7))
    zero = Image(width=0, height=10, encoding="rgb8", step=0)
    yuv = rgb_to_image(ASTRONAUT[:64, :64].copy())
    yuv.encoding = "yuv422"
    huge = Image(width=7681, height=4320, encoding="mono8", step=7681)  # pixel limit checked first
    return [
        ("bad_data_length", short),
        ("empty_image", zero),
        ("unsupported_encoding", yuv),
        ("image_too_large", huge),
    ]


@pytest.mark.parametrize("reason, msg", bad_images(), ids=lambda v: v if isinstance(v, str) else "")
def test_bad_image_is_rejected_and_node_keeps_answering(ros, reason, msg):
    node, client = ros
    before = client.diagnostic_value(f"rejected.{reason}")
    client.send_raw_image(msg)
    assert client.wait_diagnostic(f"rejected.{reason}", before + 1)
    answer = client.say(f"Nelson Mandela lived in Johannesburg ({reason})")
    check_spans(answer)


def test_8k_frame_is_used_with_boxes_in_source_pixels(ros):
    node, client = ros
    restart(node, client)  # no cached features: the 8K frame itself is encoded
    frame = np.zeros((4320, 7680, 3), np.uint8)
    frame[:] = 90
    frame[1000:3500, 2000:5000] = (200, 120, 40)
    msg = rgb_to_image(frame, node.get_clock().now().to_msg(), "camera_8k")
    client.send_raw_image(msg)
    answer = client.say("Eileen Collins waved from the 8K camera", timeout=60.0)
    assert answer.header.frame_id == "camera_8k"
    check_spans(answer)
    for entity in answer.entities:
        if entity.has_box:
            assert entity.box.x_offset + entity.box.width <= 7680
            assert entity.box.y_offset + entity.box.height <= 4320


@pytest.mark.parametrize("text", ["", "   \t\n "])
def test_empty_transcript_is_counted_not_answered(ros, text):
    node, client = ros
    before = client.diagnostic_value("rejected.empty_transcript")
    client.transcript_pub.publish(String(data=text))
    assert client.wait_diagnostic("rejected.empty_transcript", before + 1)
    assert client.answers_for(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Eileen Collins 🚀 flew with NASA 👩‍🚀 to the ISS",
        "Eileen\u0000 Collins\u0007 met\x1b[31m Barack Obama\r\n in Paris",
        ("Eileen Collins flew for NASA. " * 400)[:10_000],
    ],
    ids=["emoji", "control_characters", "10000_characters"],
)
def test_unusual_transcripts_get_one_answer_with_exact_spans(ros, text):
    node, client = ros
    client.transcript_pub.publish(String(data=text))
    # A NUL ends a ROS string: the node receives (and echoes) the text before it.
    received = text.split("\0")[0]
    assert wait_for(lambda: client.answers_for(received), 60.0)
    answer = client.answers_for(received)[0]
    check_spans(answer)
    assert len(client.answers_for(received)) == 1


def test_invalid_surrogates_cannot_be_sent_and_invalid_utf8_is_answered(ros):
    node, client = ros
    with pytest.raises(UnicodeEncodeError):
        client.transcript_pub.publish(String(data="Eileen \udc80 Collins"))
    # Invalid UTF-8 published by a non-Python node: reaches the node with replacement characters.
    raw = bytearray(serialize_message(String(data="Eileen XX Collins")))
    index = raw.index(b"XX")
    raw[index : index + 2] = b"\xff\xfe"
    client.transcript_pub.publish(bytes(raw))
    assert wait_for(
        lambda: any(
            "Collins" in a.transcript and "Eileen \ufffd" in a.transcript for a in client.answers
        ),
        30.0,
    )
    check_spans(client.answers[-1])


# -- service -------------------------------------------------------------------------------


def test_service_with_image_text_only_and_rejections(ros):
    node, client = ros
    request = RecognizeEntities.Request(
        transcript=SENTENCE, image=rgb_to_image(ASTRONAUT, frame_id="cam")
    )
    response = client.call(request)
    assert response.success, response.message
    assert ("Eileen Collins", "PER") in entity_pairs(response.entities)
    assert response.entities.header.frame_id == "cam"
    assert response.entities.image_status in (EntityArray.IMAGE_USED, EntityArray.IMAGE_GATE_CLOSED)
    check_spans(response.entities)

    text_only = client.call(RecognizeEntities.Request(transcript=SENTENCE))
    assert text_only.success and text_only.entities.image_status == EntityArray.IMAGE_NONE

    empty = client.call(RecognizeEntities.Request(transcript="  "))
    assert not empty.success and "empty" in empty.message

    broken = rgb_to_image(ASTRONAUT)
    broken.step = 5
    rejected = client.call(RecognizeEntities.Request(transcript=SENTENCE, image=broken))
    assert not rejected.success and "step" in rejected.message


# -- parameters, QoS, diagnostics ----------------------------------------------------------


@pytest.mark.parametrize(
    "name, value, reason",
    [
        ("max_image_age", -1.0, "range"),
        ("confidence_threshold", 1.5, "range"),
        ("backend", "torch", "read-only"),
        ("image_qos_depth", 5, "read-only"),
    ],
)
def test_invalid_parameter_changes_are_rejected_with_a_reason(ros, name, value, reason):
    node, client = ros
    result = node.set_parameters([Parameter(name, value=value)])[0]
    assert not result.successful
    assert reason in result.reason.lower()


def test_valid_dynamic_parameter_change_is_accepted(ros):
    node, client = ros
    assert node.set_parameters([Parameter("max_image_age", value=4.0)])[0].successful
    assert node.set_parameters([Parameter("max_image_age", value=5.0)])[0].successful


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("backend", "cuda", "backend must be one of"),
        ("device", "gpu0", "device must be cpu, cuda or cuda:N"),
        ("image_qos_reliability", "sometimes", "best_effort or reliable"),
        ("image_qos_depth", 0, "range"),
    ],
)
def test_invalid_start_parameters_are_rejected(ros, name, value, words):
    node, client = ros
    graph_before = sorted(node.get_node_names_and_namespaces())
    with pytest.raises(InvalidParameterValueException, match=words):
        EntityNode(context=node.context, parameter_overrides=[Parameter(name, value=value)])
    # The rejected node is destroyed, not left half-built in the ROS graph.
    assert sorted(node.get_node_names_and_namespaces()) == graph_before


@pytest.mark.parametrize("contents", [None, "{not json"], ids=["missing", "corrupt"])
def test_configure_fails_for_missing_or_corrupt_model(ros, tmp_path, contents):
    node, client = ros
    if contents is not None:
        (tmp_path / "config.json").write_text(contents)
        (tmp_path / "model.safetensors").write_bytes(b"garbage")
    model_dir = tmp_path if contents is not None else tmp_path / "absent"
    broken = EntityNode(
        context=node.context, parameter_overrides=[Parameter("model_dir", value=str(model_dir))]
    )
    try:
        assert broken.trigger_configure() == TransitionCallbackReturn.FAILURE
    finally:
        broken.destroy_node()


@pytest.mark.parametrize("msg_type, topic", [(String, "transcript"), (Image, "image")])
def test_incompatible_qos_is_reported_in_diagnostics(ros, msg_type, topic):
    node, client = ros
    publisher = best_effort_publisher(client.node, msg_type, topic)
    try:
        assert wait_for(
            lambda: (
                f"/{topic} offers an incompatible QoS (RELIABILITY)"
                in getattr(client.latest_status(), "message", "")
            ),
            15.0,
        )
        assert client.latest_status().level == b"\x01"  # WARN
    finally:
        client.node.destroy_publisher(publisher)


def test_diagnostics_count_inputs_and_answers(ros):
    node, client = ros
    status = client.latest_status()
    values = {kv.key: kv.value for kv in status.values}
    for key in (
        "images_received",
        "transcripts_received",
        "answered",
        "text_only",
        "rejected",
        "last_latency_ms",
        "backend",
        "model",
    ):
        assert key in values
    assert int(values["answered"]) >= 1 and float(values["last_latency_ms"]) > 0
