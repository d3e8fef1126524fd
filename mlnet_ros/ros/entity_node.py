"""ROS 2 lifecycle node: speech transcripts plus the latest camera frame in, typed entities out.

Interfaces (relative names, so a namespace or remap moves them all):
  sub  image (sensor_msgs/Image) or image/compressed (sensor_msgs/CompressedImage)
  sub  transcript (std_msgs/String), stamped on arrival
  pub  entities (mlnet_ros/EntityArray), entities/debug_image (sensor_msgs/Image, optional)
  pub  /diagnostics (diagnostic_msgs/DiagnosticArray, 1 Hz)
  srv  recognize_entities (mlnet_ros/RecognizeEntities)
See docs/NODE.md for parameters, QoS and the behaviour on bad input.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from functools import partial

import rclpy
from builtin_interfaces.msg import Time as TimeMsg
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.logging import get_logger
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSPolicyKind, QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header, String

from mlnet_ros.inference.backends import BACKENDS as INFERENCE_BACKENDS
from mlnet_ros.ros.debug_overlay import draw_entities
from mlnet_ros.inference.encoded_image import EncodedImage, encode
from mlnet_ros.ros.entity_msgs import entity_array
from mlnet_ros.ros.image_msgs import (
    ImageConversionError,
    check_image,
    compressed_to_rgb,
    image_to_rgb,
    rgb_to_image,
)
from mlnet_ros.ros.latest_frame import Frame, LatestFrame
from mlnet_ros.msg import EntityArray
from mlnet_ros.ros.diagnostics import NodeCounters, node_status
from mlnet_ros.paths import default_model_dir
from mlnet_ros.srv import RecognizeEntities

NODE_NAME = "mlnet_entity_node"
BACKENDS = ("auto", *INFERENCE_BACKENDS)
RELIABILITIES = {
    "best_effort": ReliabilityPolicy.BEST_EFFORT,
    "reliable": ReliabilityPolicy.RELIABLE,
}
DEVICE_PATTERN = re.compile(r"cpu|cuda(:\d+)?")
# Transcripts waiting while the model is busy (reliable, so none is lost below this backlog).
TRANSCRIPT_QUEUE_DEPTH = 100
WARNING_PERIOD_S = 5.0


def _descriptor(
    description: str,
    *,
    read_only: bool = True,
    constraints: str = "",
    float_range: tuple[float, float] | None = None,
    int_range: tuple[int, int] | None = None,
) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(
        description=description, read_only=read_only, additional_constraints=constraints
    )
    if float_range is not None:
        descriptor.floating_point_range = [
            FloatingPointRange(from_value=float_range[0], to_value=float_range[1], step=0.0)
        ]
    if int_range is not None:
        descriptor.integer_range = [
            IntegerRange(from_value=int_range[0], to_value=int_range[1], step=1)
        ]
    return descriptor


def _parameter_error(parameter: Parameter) -> str:
    """Why a value of a string parameter with a fixed vocabulary is invalid ('' if valid)."""
    name, value = parameter.name, parameter.value
    if name == "backend" and value not in BACKENDS:
        return f"backend must be one of {', '.join(BACKENDS)}, got {value!r}"
    if name == "device" and not (isinstance(value, str) and DEVICE_PATTERN.fullmatch(value)):
        return f"device must be cpu, cuda or cuda:N, got {value!r}"
    if name == "image_qos_reliability" and value not in RELIABILITIES:
        return f"image_qos_reliability must be best_effort or reliable, got {value!r}"
    return ""


class EntityNode(LifecycleNode):
    """MLNet entity recognition as a lifecycle node (see the module docstring)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        self.add_on_set_parameters_callback(self._validate_parameters)
        try:
            self._declare_parameters()
        except Exception:
            # A rejected parameter override: do not leave a half-built node in the ROS graph.
            self.destroy_node()
            raise
        self._frames = LatestFrame()
        self._counters = NodeCounters()
        self._image_group = MutuallyExclusiveCallbackGroup()
        self._inference_group = MutuallyExclusiveCallbackGroup()
        # Held while a transcript or request is answered and during lifecycle transitions,
        # so the model and publishers are never released under a running answer.
        self._busy = threading.Lock()
        self._recognizer = None
        self._entities_pub = None
        self._debug_pub = None
        self._diagnostics_pub = None
        self._diagnostics_timer = None
        self._input_subs: list = []
        self._recognize_srv = None
        self._qos_warning = ""  # the latest incompatibility, shown in diagnostics
        self._qos_warned_topics: set[str] = set()
        self._last_warned: dict[str, float] = {}

    def destroy_node(self) -> None:
        """Destroy the node and its lifecycle state machine.

        rclpy's LifecycleNode leaves its state machine, which holds the node, to the garbage
        collector: until then the destroyed node stays in the ROS graph.
        """
        super().destroy_node()
        self._state_machine.destroy_when_not_in_use()

    # -- parameters ------------------------------------------------------------------------

    def _declare_parameters(self) -> None:
        self.declare_parameter(
            "autostart",
            True,
            _descriptor("Configure and activate at start; false waits for a lifecycle manager."),
        )
        self.declare_parameter(
            "model_dir",
            "",
            _descriptor(
                "Model directory (config.json, labels.json, model.safetensors); "
                "empty: the embedded default, models/embedded."
            ),
        )
        self.declare_parameter(
            "backend",
            "auto",
            _descriptor("Inference backend.", constraints="one of: " + ", ".join(BACKENDS)),
        )
        self.declare_parameter(
            "device",
            "cpu",
            _descriptor("Inference device.", constraints="cpu, cuda or cuda:N"),
        )
        self.declare_parameter(
            "tensorrt_fp16",
            True,
            _descriptor("TensorRT backend: build fp16 engines (false: fp32)."),
        )
        self.declare_parameter(
            "force_engine_rebuild",
            False,
            _descriptor("TensorRT backend: rebuild the cached engines at configure."),
        )
        self.declare_parameter(
            "image_qos_reliability",
            "reliable",
            _descriptor(
                "Reliability of the image subscription: reliable (default; needs a reliable "
                "camera publisher) or best_effort (accepts any publisher, but Fast DDS drops "
                "best-effort frames above ~0.5 MB from other processes).",
                constraints="best_effort or reliable",
            ),
        )
        self.declare_parameter(
            "image_qos_depth",
            1,
            _descriptor(
                "Queue depth of the image subscription (only the newest frame is used).",
                int_range=(1, 100),
            ),
        )
        self.declare_parameter(
            "use_compressed_image",
            False,
            _descriptor(
                "Subscribe to image/compressed (sensor_msgs/CompressedImage) instead of image."
            ),
        )
        self.declare_parameter(
            "publish_debug_image",
            False,
            _descriptor("Publish entities/debug_image: the image with entity boxes and labels."),
        )
        self.declare_parameter(
            "max_image_age",
            1.0,
            _descriptor(
                "Seconds between a transcript and an image beyond which the image is stale "
                "(text-only answer); an encoded image is reused while within this age.",
                read_only=False,
                float_range=(0.0, 3600.0),
            ),
        )
        self.declare_parameter(
            "confidence_threshold",
            0.0,
            _descriptor(
                "Entities with a lower confidence are left out of the EntityArray.",
                read_only=False,
                float_range=(0.0, 1.0),
            ),
        )

    def _validate_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        for parameter in parameters:
            error = _parameter_error(parameter)
            if error:
                return SetParametersResult(successful=False, reason=error)
        return SetParametersResult(successful=True)

    def _param(self, name: str):
        return self.get_parameter(name).value

    # -- lifecycle -------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        # Imported here: torch takes seconds to load, the unconfigured node starts without it.
        from mlnet_ros.core.checkpoint_files import ModelLoadError
        from mlnet_ros.inference.backends import load_backend

        model_dir = self._param("model_dir") or str(default_model_dir())
        try:
            recognizer = load_backend(
                model_dir,
                backend=self._param("backend"),
                device=self._param("device"),
                fp16=self._param("tensorrt_fp16"),
                force_engine_rebuild=self._param("force_engine_rebuild"),
            )
        except ModelLoadError as error:
            self.get_logger().error(f"Cannot load the model: {error}")
            return TransitionCallbackReturn.FAILURE
        except Exception as error:  # any other load failure: one clear line, configure fails
            self.get_logger().error(
                f"Cannot load the model from {model_dir}: {type(error).__name__}: {error}"
            )
            return TransitionCallbackReturn.FAILURE
        with self._busy:
            self._recognizer = recognizer
            self._entities_pub = self.create_lifecycle_publisher(EntityArray, "entities", 10)
            if self._param("publish_debug_image"):
                self._debug_pub = self.create_lifecycle_publisher(Image, "entities/debug_image", 1)
            self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
            self._diagnostics_timer = self.create_timer(1.0, self._publish_diagnostics)
        self.get_logger().info(
            f"Loaded model {recognizer.model_name} from {model_dir} "
            f"(backend {recognizer.backend}, device {self._param('device')})"
        )
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        reliability = self._param("image_qos_reliability")
        depth = self._param("image_qos_depth")
        image_qos = QoSProfile(
            history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=RELIABILITIES[reliability]
        )
        image_hint = (
            f"This node subscribes with reliability {reliability}: make the camera publish "
            "reliable, or set this node's parameter image_qos_reliability to best_effort."
        )
        if self._param("use_compressed_image"):
            image_topic, image_type, on_image = (
                "image/compressed",
                CompressedImage,
                self._on_compressed_image,
            )
        else:
            image_topic, image_type, on_image = "image", Image, self._on_image
        transcript_qos = QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=TRANSCRIPT_QUEUE_DEPTH,
            reliability=ReliabilityPolicy.RELIABLE,
        )
        transcript_hint = (
            "This node subscribes with reliability reliable: publish transcripts reliable."
        )
        self._frames.clear()
        self._input_subs = [
            self.create_subscription(
                image_type,
                image_topic,
                on_image,
                image_qos,
                callback_group=self._image_group,
                event_callbacks=self._qos_events(image_topic, image_hint),
            ),
            self.create_subscription(
                String,
                "transcript",
                self._on_transcript,
                transcript_qos,
                callback_group=self._inference_group,
                event_callbacks=self._qos_events("transcript", transcript_hint),
            ),
        ]
        self._recognize_srv = self.create_service(
            RecognizeEntities,
            "recognize_entities",
            self._on_recognize,
            callback_group=self._inference_group,
        )
        self.get_logger().info(
            f"Active: {self.resolve_topic_name(image_topic)} + "
            f"{self.resolve_topic_name('transcript')}"
            f" -> {self.resolve_topic_name('entities')}"
        )
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        with self._busy:
            self._stop_inputs()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        with self._busy:
            self._release_outputs()
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        with self._busy:
            self._stop_inputs()
            self._release_outputs()
        return super().on_shutdown(state)

    def _stop_inputs(self) -> None:
        for subscription in self._input_subs:
            self.destroy_subscription(subscription)
        self._input_subs = []
        if self._recognize_srv is not None:
            self.destroy_service(self._recognize_srv)
            self._recognize_srv = None
        self._frames.clear()

    def _release_outputs(self) -> None:
        for publisher in (self._entities_pub, self._debug_pub):
            if publisher is not None:
                self.destroy_lifecycle_publisher(publisher)
        if self._diagnostics_timer is not None:
            self.destroy_timer(self._diagnostics_timer)
        if self._diagnostics_pub is not None:
            self.destroy_publisher(self._diagnostics_pub)
        self._entities_pub = self._debug_pub = None
        self._diagnostics_pub = self._diagnostics_timer = None
        self._recognizer = None

    # -- inputs ----------------------------------------------------------------------------

    def _qos_events(self, topic: str, hint: str) -> SubscriptionEventCallbacks:
        return SubscriptionEventCallbacks(
            incompatible_qos=partial(self._on_incompatible_qos, topic, hint)
        )

    def _on_incompatible_qos(self, topic: str, hint: str, info) -> None:
        policy = QoSPolicyKind(info.last_policy_kind).name
        message = (
            f"A publisher on {self.resolve_topic_name(topic)} offers an incompatible QoS "
            f"({policy}): none of its messages will arrive. {hint}"
        )
        self._qos_warning = message
        if topic not in self._qos_warned_topics:
            self._qos_warned_topics.add(topic)
            self.get_logger().warning(message)

    def _on_image(self, msg: Image) -> None:
        self._counters.count("images_received")
        try:
            check_image(msg)
        except ImageConversionError as error:
            self._reject(error.reason, f"Image rejected: {error}")
            return
        self._frames.put(msg, self._stamp_of(msg.header), msg.header.frame_id)

    def _on_compressed_image(self, msg: CompressedImage) -> None:
        self._counters.count("images_received")
        self._frames.put(msg, self._stamp_of(msg.header), msg.header.frame_id)

    def _stamp_of(self, header: Header) -> Time:
        """The header stamp, or the arrival time when the publisher left it zero."""
        if header.stamp.sec == 0 and header.stamp.nanosec == 0:
            return self.get_clock().now()
        return Time.from_msg(header.stamp, clock_type=self.get_clock().clock_type)

    def _on_transcript(self, msg: String) -> None:
        stamp = self.get_clock().now()
        self._counters.count("transcripts_received")
        if not msg.data.strip():
            self._reject(
                "empty_transcript", "Empty transcript ignored: no EntityArray is published for it"
            )
            return
        with self._busy:
            if self._entities_pub is None:
                self._reject("not_active", "Transcript received after cleanup: not answered")
                return
            started = time.perf_counter_ns()
            try:
                pairing = self._frames.pair(stamp, self._param("max_image_age"))
                frame, encoded, status = pairing.frame, pairing.encoded, pairing.status
                if frame is not None and encoded is None:
                    encoded = self._encode_frame(frame)
                if frame is not None and encoded is None:
                    frame, status = None, EntityArray.IMAGE_NONE
                answer = self._recognize(msg.data, stamp.to_msg(), frame, encoded, status, started)
            except Exception as error:  # the node keeps answering: count, log, go on
                self._reject(
                    "inference_error", f"Recognition failed: {type(error).__name__}: {error}"
                )
                return
            self._entities_pub.publish(answer)

    def _encode_frame(self, frame: Frame) -> EncodedImage | None:
        """Decode and encode ``frame`` and cache its features; None if it cannot be decoded."""
        try:
            if isinstance(frame.msg, CompressedImage):
                rgb = compressed_to_rgb(frame.msg)
            else:
                rgb = image_to_rgb(frame.msg)
        except ImageConversionError as error:
            self._frames.discard(frame)
            self._reject(error.reason, f"Image rejected: {error}")
            return None
        encoded = encode(self._recognizer, rgb)
        self._frames.remember(frame, encoded)
        return encoded

    def _on_recognize(
        self, request: RecognizeEntities.Request, response: RecognizeEntities.Response
    ) -> RecognizeEntities.Response:
        stamp = self.get_clock().now()
        if not request.transcript.strip():
            self._reject("empty_transcript", "Request with an empty transcript rejected")
            response.success, response.message = False, "empty transcript"
            return response
        image = request.image
        frame = None
        with self._busy:
            if self._recognizer is None:
                response.success, response.message = False, "node is shutting down"
                return response
            started = time.perf_counter_ns()
            try:
                encoded = None
                if image.width or image.height or len(image.data):
                    rgb = image_to_rgb(image)
                    frame = Frame(Time.from_msg(image.header.stamp), image.header.frame_id, image)
                    encoded = encode(self._recognizer, rgb)
                status = EntityArray.IMAGE_USED if encoded is not None else EntityArray.IMAGE_NONE
                response.entities = self._recognize(
                    request.transcript, stamp.to_msg(), frame, encoded, status, started
                )
            except ImageConversionError as error:
                self._reject(error.reason, f"Request image rejected: {error}")
                response.success, response.message = False, f"image rejected: {error}"
                return response
            except Exception as error:  # the node keeps serving: count, log, answer failure
                self._reject(
                    "inference_error", f"Recognition failed: {type(error).__name__}: {error}"
                )
                response.success, response.message = False, f"recognition failed: {error}"
                return response
        response.success, response.message = True, ""
        return response

    # -- answers ---------------------------------------------------------------------------

    def _recognize(
        self,
        transcript: str,
        stamp: TimeMsg,
        frame: Frame | None,
        encoded: EncodedImage | None,
        status: int,
        started_ns: int,
    ) -> EntityArray:
        """Run the model; ``status`` is IMAGE_NONE or IMAGE_STALE when no image is given."""
        recognition = self._recognizer.recognize(transcript, encoded.features if encoded else None)
        if encoded is not None:
            status = (
                EntityArray.IMAGE_USED if recognition.image_used else EntityArray.IMAGE_GATE_CLOSED
            )
        elapsed_ns = time.perf_counter_ns() - started_ns
        threshold = self._param("confidence_threshold")
        answer = entity_array(
            recognition,
            stamp=stamp,
            frame_id=frame.frame_id if encoded else "",
            image_status=status,
            image_stamp=frame.stamp.to_msg() if encoded else TimeMsg(),
            model=self._recognizer.model_name,
            backend=self._recognizer.backend,
            inference_ns=elapsed_ns,
            confidence_threshold=threshold,
            image=encoded,
        )
        self._counters.answered(elapsed_ns / 1e6, text_only=not answer.image_used)
        if self._debug_pub is not None and encoded is not None:
            overlay = draw_entities(encoded.rgb, recognition, threshold)
            self._debug_pub.publish(
                rgb_to_image(overlay, answer.image_stamp, answer.header.frame_id)
            )
        return answer

    # -- reporting -------------------------------------------------------------------------

    def _reject(self, reason: str, message: str) -> None:
        """Count a rejected input and warn (at most once per WARNING_PERIOD_S per reason)."""
        self._counters.reject(reason)
        now = time.monotonic()
        if now - self._last_warned.get(reason, -WARNING_PERIOD_S) >= WARNING_PERIOD_S:
            self._last_warned[reason] = now
            self.get_logger().warning(message)

    def _publish_diagnostics(self) -> None:
        recognizer = self._recognizer
        if recognizer is None or self._diagnostics_pub is None:
            return
        status = node_status(
            f"{self.get_fully_qualified_name()}: entity recognition",
            self._counters,
            recognizer.model_name,
            recognizer.backend,
            self._qos_warning,
        )
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics_pub.publish(array)


def activate(node: EntityNode) -> bool:
    """Drive ``node`` from unconfigured to active; False (the reason is logged) if it fails."""
    return (
        node.trigger_configure() == TransitionCallbackReturn.SUCCESS
        and node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    )


def main(args: list[str] | None = None) -> int:
    """Run the node until interrupted; straight to active unless autostart is false."""
    rclpy.init(args=args)
    try:
        try:
            node = EntityNode()
        except (InvalidParameterValueException, InvalidParameterTypeException) as error:
            get_logger(NODE_NAME).error(f"Invalid parameter: {error}")
            return 2
        executor = MultiThreadedExecutor(num_threads=3)
        executor.add_node(node)
        try:
            if node.get_parameter("autostart").value:
                if not activate(node):
                    return 1
            else:
                node.get_logger().info(
                    "Unconfigured: waiting for a lifecycle manager (autostart is false)"
                )
            executor.spin()
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        except rclpy_implementation.RCLError:
            # Ctrl-C can invalidate the context while spin() builds its wait set: that is a
            # shutdown, not an error. Anything else still surfaces.
            if rclpy.ok():
                raise
        finally:
            executor.shutdown()
            node.destroy_node()
    finally:
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
