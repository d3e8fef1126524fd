"""The entity node in this process: real rclpy, real messages, the real model (loaded once).

The node and a client node share one private context and a MultiThreadedExecutor thread; every
exchange goes through DDS topics and services.
"""

import array
import re
import threading

import cv2
import numpy as np
import pytest
import rclpy
from rclpy.context import Context
from rclpy.exceptions import InvalidParameterValueException
from rclpy.executors import MultiThreadedExecutor
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import String
from support.crafted_images import png_bomb, png_bytes
from support.paths import MODEL_DIR
from support.ros_client import ASTRONAUT, SENTENCE, Client, best_effort_publisher, check_spans, entity_pairs, wait_for

from mlnet_ros.msg import EntityArray
from mlnet_ros.ros.entity_node import EntityNode, activate
from mlnet_ros.ros.image_msgs import rgb_to_image
from mlnet_ros.ros.spinning import spin
from mlnet_ros.srv import RecognizeEntities

pytestmark = pytest.mark.ros


@pytest.fixture(scope="module")
def ros():
    """A started entity node (max_image_age 5 s) and a connected client, torn down at the end."""
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
        thread = threading.Thread(target=spin, args=(executor,), daemon=True)
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
        ("Eileen Collins flew for NASA. " * 400)[:4096],
    ],
    ids=["emoji", "control_characters", "4096_characters"],
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
        ("region_proposer", "yolo", "region_proposer must be .* or one of saliency, fine-grained, saliency.people, got 'yolo'"),
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


# -- bad input corpus (issue 10): answered once or rejected with a counted reason, node alive ----


def test_rejected_raw_frame_makes_the_answer_say_image_rejected(ros):
    node, client = ros
    restart(node, client)
    before = client.diagnostic_value("rejected.bad_data_length")
    short = rgb_to_image(ASTRONAUT[:64, :64].copy(), node.get_clock().now().to_msg())
    short.data = array.array("B", bytes(len(short.data) - 1))
    client.send_raw_image(short)
    assert client.wait_diagnostic("rejected.bad_data_length", before + 1)
    answer = client.say("Nelson Mandela visited Cape Town after a rejected frame")
    assert answer.image_status == EntityArray.IMAGE_REJECTED and not answer.image_used
    status = {kv.key: kv.value for kv in client.latest_status().values}
    assert status["last_image_rejection"].startswith("bad_data_length: ")
    client.send_image()  # a good frame afterwards is used again
    answer = client.say("Nelson Mandela visited Cape Town after a good frame")
    assert answer.image_status in (EntityArray.IMAGE_USED, EntityArray.IMAGE_GATE_CLOSED)


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 2000, 3), (3000, 2, 3)], ids=str)
def test_tiny_and_extreme_aspect_frames_are_answered_once(ros, shape):
    node, client = ros
    restart(node, client)
    client.send_image(np.full(shape, 120, np.uint8), frame_id="odd_frame")
    text = f"Eileen Collins flew for NASA with a {shape[0]}x{shape[1]} frame"
    answer = client.say(text)
    assert answer.image_status in (EntityArray.IMAGE_USED, EntityArray.IMAGE_GATE_CLOSED)
    check_spans(answer)
    for entity in answer.entities:
        if entity.has_box:
            assert entity.box.x_offset + entity.box.width <= shape[1]
            assert entity.box.y_offset + entity.box.height <= shape[0]
    assert len(client.answers_for(text)) == 1


@pytest.mark.parametrize("length", [4097, 1_000_000])
def test_transcript_over_max_transcript_chars_is_rejected_at_once(ros, length):
    node, client = ros
    before = client.diagnostic_value("rejected.transcript_too_long")
    text = ("Eileen Collins flew for NASA. " * (length // 30 + 1))[:length]
    client.transcript_pub.publish(String(data=text))
    after = [f"Eileen Collins flew for NASA behind {length} characters {i}" for i in range(20)]
    for each in after:
        client.transcript_pub.publish(String(data=each))
    assert wait_for(lambda: all(client.answers_for(t) for t in after), 60.0)
    assert client.wait_diagnostic("rejected.transcript_too_long", before + 1)
    assert client.answers_for(text) == []
    response = client.call(RecognizeEntities.Request(transcript=text))
    assert not response.success and "max_transcript_chars (4096)" in response.message


@pytest.mark.parametrize(
    "text",
    [
        "‏مرحبا Eileen Collins في ناسا‏ " * 40,
        ("👩‍🚀" * 1400)[:4096],
        "e\u0301" * 2000,
        "\u200b" * 3000 + " NASA",
        "\ufeffEileen Collins\u2028in\u2029Houston\U000e0001",
    ],
    ids=["rtl", "emoji_flood", "combining", "zero_width", "format_characters"],
)
def test_odd_transcripts_are_answered_once(ros, text):
    node, client = ros
    answer = client.say(text, timeout=90.0)
    check_spans(answer)
    wait_for(lambda: False, 0.5)
    assert len(client.answers_for(text)) == 1


def test_burst_of_a_full_queue_is_answered_once_each(ros):
    node, client = ros
    publisher = client.node.create_publisher(String, "transcript", 100)
    try:
        assert wait_for(lambda: publisher.get_subscription_count() > 0)
        burst = [f"Angela Merkel met Emmanuel Macron in burst {i}" for i in range(100)]
        for text in burst:
            publisher.publish(String(data=text))
        assert wait_for(lambda: all(client.answers_for(t) for t in burst), 120.0)
        wait_for(lambda: False, 1.0)
        assert [len(client.answers_for(t)) for t in burst] == [1] * 100
    finally:
        client.node.destroy_publisher(publisher)


def test_lifecycle_cycles_under_load_leave_the_node_answering(ros):
    node, client = ros
    stop = threading.Event()
    sent: list[str] = []

    def load() -> None:
        frame = rgb_to_image(ASTRONAUT[:128, :128].copy())
        for i in range(10_000):
            if stop.is_set():
                return
            frame.header.stamp = client.node.get_clock().now().to_msg()
            client.image_pub.publish(frame)
            text = f"Barack Obama spoke in Chicago under load {i}"
            sent.append(text)
            client.transcript_pub.publish(String(data=text))
            stop.wait(0.05)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        for _ in range(3):
            wait_for(lambda: False, 0.5)
            assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
            wait_for(lambda: False, 0.3)
            assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    finally:
        stop.set()
        loader.join(10.0)
    client.wait_connected()
    assert client.say("Barack Obama spoke in Chicago after the cycles").transcript
    assert all(len(client.answers_for(t)) <= 1 for t in sent)
    assert any(client.answers_for(t) for t in sent)


ROS_LOG_LINE = re.compile(r"\[(DEBUG|INFO|WARN|ERROR|FATAL)\]")

# -- compressed frames ---------------------------------------------------------------------


def astronaut_jpeg() -> bytes:
    return cv2.imencode(".jpg", cv2.cvtColor(ASTRONAUT, cv2.COLOR_RGB2BGR))[1].tobytes()


def corrupt_jpeg() -> bytes:
    data = bytearray(astronaut_jpeg())
    for index in range(len(data) // 3, len(data) - 2, 997):
        data[index] ^= 0x5A
    return bytes(data)


COMPRESSED_CORPUS = [
    ("impossible_png_header", png_bytes(100_000, 100_000), "image_too_large"),
    ("png_bomb_20000x20000", png_bomb(20_000, 20_000), "image_too_large"),
    ("truncated_jpeg", astronaut_jpeg()[:20_000], "undecodable_image"),
    ("corrupt_jpeg", corrupt_jpeg(), "corrupt_image"),
    ("empty", b"", "empty_image"),
    ("random_bytes", np.random.default_rng(3).bytes(3000), "unsupported_format"),
    ("png_header_only", png_bytes(640, 480), "undecodable_image"),
    ("jpeg2000", b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(64), "unsupported_format"),
]


@pytest.fixture(scope="module")
def compressed_ros(ros):
    """A second entity node, on image/compressed under /compressed, in the same context."""
    node, client = ros
    compressed_node = EntityNode(
        context=node.context,
        namespace="/compressed",
        parameter_overrides=[
            Parameter("model_dir", value=str(MODEL_DIR)),
            Parameter("use_compressed_image", value=True),
            Parameter("max_image_age", value=5.0),
        ],
    )
    executor = node.executor
    executor.add_node(compressed_node)
    assert activate(compressed_node)
    compressed_client = Client(client.node, "/compressed")
    publisher = client.node.create_publisher(CompressedImage, "/compressed/image/compressed", 1)
    assert wait_for(lambda: publisher.get_subscription_count() > 0, 30.0)
    assert wait_for(lambda: compressed_client.latest_status() is not None, 10.0)
    try:
        yield compressed_node, compressed_client, publisher
    finally:
        client.node.destroy_publisher(publisher)
        executor.remove_node(compressed_node)
        compressed_node.destroy_node()


def restart_compressed(node: EntityNode, client: Client, publisher) -> None:
    """restart() for the compressed node: wait for its image/compressed subscription."""
    assert node.trigger_deactivate() == TransitionCallbackReturn.SUCCESS
    assert wait_for(lambda: publisher.get_subscription_count() == 0)
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    assert wait_for(
        lambda: (
            publisher.get_subscription_count() > 0
            and client.transcript_pub.get_subscription_count() > 0
        )
    )


def send_compressed(client: Client, publisher, data: bytes, fmt: str) -> None:
    """Publish until the node has counted the frame."""
    msg = CompressedImage(format=fmt)
    msg.header.stamp = client.node.get_clock().now().to_msg()
    msg.header.frame_id = "camera_compressed"
    msg.data = array.array("B", data)
    received = client.diagnostic_value("images_received")
    for _ in range(10):
        publisher.publish(msg)
        if wait_for(lambda: client.diagnostic_value("images_received") > received, 1.5):
            return
    raise AssertionError("the entity node did not receive the compressed frame")


@pytest.mark.parametrize(
    "name, data, reason", COMPRESSED_CORPUS, ids=[name for name, _, _ in COMPRESSED_CORPUS]
)
def test_bad_compressed_frame_gives_a_text_only_answer_and_a_counted_reason(
    compressed_ros, capfd, name, data, reason
):
    node, client, publisher = compressed_ros
    restart_compressed(node, client, publisher)  # no frame, no cached features: the bad frame is the newest
    before = client.diagnostic_value(f"rejected.{reason}")
    send_compressed(client, publisher, data, "png")
    texts = [f"Eileen Collins flew for NASA after {name} {i}" for i in range(3)]
    answers = [client.say(text) for text in texts]
    assert [a.image_status for a in answers] == [EntityArray.IMAGE_REJECTED] * 3
    assert all(len(client.answers_for(text)) == 1 for text in texts)
    assert client.wait_diagnostic(f"rejected.{reason}", before + 1)
    assert client.diagnostic_value("rejected.inference_error") == 0
    status = {kv.key: kv.value for kv in client.latest_status().values}
    assert status["last_image_rejection"].startswith(f"{reason}: ")
    # Only ROS log lines (the node's own warning quotes the decoder): no third-party output.
    lines = capfd.readouterr().err.splitlines()
    assert [line for line in lines if line.strip() and not ROS_LOG_LINE.match(line)] == []


def test_jpeg_labelled_png_is_used_and_a_bad_frame_keeps_the_good_one(compressed_ros):
    node, client, publisher = compressed_ros
    restart_compressed(node, client, publisher)
    send_compressed(client, publisher, astronaut_jpeg(), "png")
    send_compressed(client, publisher, png_bytes(100_000, 100_000), "png")  # after the good one
    answer = client.say(SENTENCE + " (compressed)")
    assert answer.image_status in (EntityArray.IMAGE_USED, EntityArray.IMAGE_GATE_CLOSED)
    assert answer.header.frame_id == "camera_compressed"
    for entity in answer.entities:
        if entity.has_box:
            assert entity.box.x_offset + entity.box.width <= ASTRONAUT.shape[1]


def test_large_compressed_frame_is_decoded_reduced_with_boxes_in_source_pixels(compressed_ros):
    node, client, publisher = compressed_ros
    restart_compressed(node, client, publisher)
    frame = np.full((4320, 7680, 3), 90, np.uint8)
    frame[1000:3500, 2000:5000] = (200, 120, 40)
    send_compressed(client, publisher, cv2.imencode(".jpg", frame)[1].tobytes(), "jpeg")
    answer = client.say("Eileen Collins waved from the compressed 8K camera", timeout=60.0)
    assert answer.image_status in (EntityArray.IMAGE_USED, EntityArray.IMAGE_GATE_CLOSED)
    for entity in answer.entities:
        if entity.has_box:
            assert entity.box.x_offset + entity.box.width <= 7680
            assert entity.box.y_offset + entity.box.height <= 4320
