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

import sys
import threading

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.logging import get_logger
from rclpy.time import Time
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header, String

from mlnet_ros.msg import EntityArray
from mlnet_ros.paths import default_model_dir
from mlnet_ros.ros.answering import Answering, Rejected
from mlnet_ros.ros.diagnostics import NodeCounters, Rejections, node_status
from mlnet_ros.ros.image_msgs import ImageConversionError, check_compressed, check_image
from mlnet_ros.ros.latest_frame import LatestFrame
from mlnet_ros.ros.memory import limit_malloc_arenas, release_free_heap
from mlnet_ros.ros.parameters import declare_parameters
from mlnet_ros.ros.qos import (
    TRANSCRIPT_HINT,
    IncompatibleQosReport,
    image_hint,
    image_qos,
    transcript_qos,
)
from mlnet_ros.ros.spinning import spin
from mlnet_ros.srv import RecognizeEntities

NODE_NAME = "mlnet_entity_node"


class EntityNode(LifecycleNode):
    """MLNet entity recognition as a lifecycle node (see the module docstring)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(NODE_NAME, **kwargs)
        try:
            declare_parameters(self)
        except Exception:
            # A rejected parameter override: do not leave a half-built node in the ROS graph.
            self.destroy_node()
            raise
        self._frames = LatestFrame()
        self._counters = NodeCounters()
        self._rejections = Rejections(self._counters, self.get_logger())
        self._qos_report = IncompatibleQosReport(self)
        self._image_group = MutuallyExclusiveCallbackGroup()
        self._inference_group = MutuallyExclusiveCallbackGroup()
        # Held while a transcript or request is answered and during lifecycle transitions,
        # so the model and publishers are never released under a running answer.
        self._busy = threading.Lock()
        self._recognizer = None
        self._answering: Answering | None = None
        self._entities_pub = None
        self._debug_pub = None
        self._diagnostics_pub = None
        self._diagnostics_timer = None
        self._input_subs: list = []
        self._recognize_srv = None

    def destroy_node(self) -> None:
        """Destroy the node and its lifecycle state machine.

        rclpy's LifecycleNode leaves its state machine, which holds the node, to the garbage
        collector: until then the destroyed node stays in the ROS graph.
        """
        super().destroy_node()
        self._state_machine.destroy_when_not_in_use()

    def _param(self, name: str):
        return self.get_parameter(name).value

    # -- lifecycle -------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        # Imported here: a backend takes a while to load, the unconfigured node starts without it.
        # model_dir: a checkpoint, or a deploy bundle (onnxruntime/TensorRT without torch).
        from mlnet_ros.core.checkpoint_files import ModelLoadError
        from mlnet_ros.inference.backends import load_backend
        from mlnet_ros.inference.region_proposals import proposer_for

        model_dir = self._param("model_dir") or str(default_model_dir())
        try:
            recognizer = load_backend(
                model_dir,
                backend=self._param("backend"),
                device=self._param("device"),
                fp16=self._param("tensorrt_fp16"),
                force_engine_rebuild=self._param("force_engine_rebuild"),
            )
            if self._param("region_proposer"):
                recognizer.proposer = proposer_for(self._param("region_proposer"))
            recognizer.warm_up()  # allocations and kernel choice here, not in the first answer
        except ModelLoadError as error:
            self.get_logger().error(f"Cannot load the model: {error}")
            return TransitionCallbackReturn.FAILURE
        except Exception as error:  # any other load or warm-up failure: one clear line, configure fails
            self.get_logger().error(
                f"Cannot load the model from {model_dir}: {type(error).__name__}: {error}"
            )
            return TransitionCallbackReturn.FAILURE
        with self._busy:
            self._recognizer = recognizer
            self._answering = Answering(
                recognizer,
                self._frames,
                self._counters,
                self._rejections,
                max_transcript_chars=self._param("max_transcript_chars"),
                debug_image=self._param("publish_debug_image"),
            )
            self._entities_pub = self.create_lifecycle_publisher(EntityArray, "entities", 10)
            if self._param("publish_debug_image"):
                self._debug_pub = self.create_lifecycle_publisher(Image, "entities/debug_image", 1)
            self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
            self._diagnostics_timer = self.create_timer(1.0, self._publish_diagnostics)
        self.get_logger().info(
            f"Loaded model {recognizer.model_name} from {model_dir} "
            f"(backend {recognizer.backend}, device {self._param('device')}, region proposer "
            f"{self._param('region_proposer') or recognizer.runner.config.proposer})"
        )
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        reliability = self._param("image_qos_reliability")
        if self._param("use_compressed_image"):
            image_topic, image_type, on_image = (
                "image/compressed",
                CompressedImage,
                self._on_compressed_image,
            )
        else:
            image_topic, image_type, on_image = "image", Image, self._on_image
        self._frames.clear()
        self._input_subs = [
            self.create_subscription(
                image_type,
                image_topic,
                on_image,
                image_qos(reliability, self._param("image_qos_depth")),
                callback_group=self._image_group,
                event_callbacks=self._qos_report.events(image_topic, image_hint(reliability)),
            ),
            self.create_subscription(
                String,
                "transcript",
                self._on_transcript,
                transcript_qos(),
                callback_group=self._inference_group,
                event_callbacks=self._qos_report.events("transcript", TRANSCRIPT_HINT),
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
        self._recognizer = self._answering = None

    # -- inputs ----------------------------------------------------------------------------

    def _on_image(self, msg: Image) -> None:
        self._counters.count("images_received")
        try:
            check_image(msg)
        except ImageConversionError as error:
            self._reject_frame(error)
            return
        self._frames.put(msg, self._stamp_of(msg.header), msg.header.frame_id)

    def _on_compressed_image(self, msg: CompressedImage) -> None:
        self._counters.count("images_received")
        try:
            check_compressed(msg)
        except ImageConversionError as error:
            self._reject_frame(error)
            return
        self._frames.put(msg, self._stamp_of(msg.header), msg.header.frame_id)

    def _reject_frame(self, error: ImageConversionError) -> None:
        self._frames.reject()
        self._rejections.reject_image(error.reason, str(error), f"Image rejected: {error}")

    def _stamp_of(self, header: Header) -> Time:
        """The header stamp, or the arrival time when the publisher left it zero."""
        if header.stamp.sec == 0 and header.stamp.nanosec == 0:
            return self.get_clock().now()
        return Time.from_msg(header.stamp, clock_type=self.get_clock().clock_type)

    def _on_transcript(self, msg: String) -> None:
        stamp = self.get_clock().now()
        self._counters.count("transcripts_received")
        with self._busy:
            if self._answering is None:
                self._rejections.reject(
                    "not_active", "Transcript received after cleanup: not answered"
                )
                return
            try:
                answer = self._answering.to_transcript(
                    msg.data,
                    stamp,
                    self._param("max_image_age"),
                    self._param("confidence_threshold"),
                )
            except Rejected as rejected:
                self._rejections.reject(
                    rejected.reason, f"Transcript not answered ({rejected.reason}): {rejected}"
                )
                return
            self._entities_pub.publish(answer.entities)
            if self._debug_pub is not None and answer.debug_image is not None:
                self._debug_pub.publish(answer.debug_image)

    def _on_recognize(
        self, request: RecognizeEntities.Request, response: RecognizeEntities.Response
    ) -> RecognizeEntities.Response:
        stamp = self.get_clock().now()
        with self._busy:
            if self._answering is None:
                response.success, response.message = False, "node is shutting down"
                return response
            try:
                answer = self._answering.to_request(
                    request.transcript,
                    stamp,
                    request.image,
                    self._param("confidence_threshold"),
                )
            except Rejected as rejected:
                self._rejections.reject(
                    rejected.reason, f"Request rejected ({rejected.reason}): {rejected}"
                )
                response.success, response.message = False, str(rejected)
                return response
            if self._debug_pub is not None and answer.debug_image is not None:
                self._debug_pub.publish(answer.debug_image)
        response.success, response.message, response.entities = True, "", answer.entities
        return response

    # -- reporting -------------------------------------------------------------------------

    def _publish_diagnostics(self) -> None:
        """Once a second: the diagnostics, and the freed heap back to the OS."""
        release_free_heap()
        recognizer = self._recognizer
        if recognizer is None or self._diagnostics_pub is None:
            return
        status = node_status(
            f"{self.get_fully_qualified_name()}: entity recognition",
            self._counters,
            recognizer.model_name,
            recognizer.backend,
            self._qos_report.warning,
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
    limit_malloc_arenas()
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
            spin(executor)
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
