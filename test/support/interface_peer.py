"""Second ROS process for the interface tests (run as a script by test_interfaces.py).

  interface_peer.py publish TOPIC   publishes sample EntityArray messages until terminated
  interface_peer.py serve SERVICE   serves RecognizeEntities with a fixed answer until terminated
"""
import contextlib
import sys

import rclpy
from rclpy.node import Node
from sensor_msgs.msg import RegionOfInterest

from mlnet_ros.msg import Entity, EntityArray
from mlnet_ros.srv import RecognizeEntities

TRANSCRIPT = "Bring the cup to Anna in Paris"


def sample_entity_array() -> EntityArray:
    """An EntityArray with every field set to a recognisable value."""
    msg = EntityArray(transcript=TRANSCRIPT, image_text_match=0.75, image_used=True,
                      image_status=EntityArray.IMAGE_USED, model="peer-model", backend="peer")
    msg.header.frame_id = "camera"
    msg.header.stamp.sec = 42
    msg.image_stamp.sec = 41
    msg.inference_time.nanosec = 5_000_000
    msg.entities = [
        Entity(text="Anna", type=Entity.TYPE_PER, start=17, end=21, confidence=0.9, has_box=True,
               box=RegionOfInterest(x_offset=10, y_offset=20, width=30, height=40)),
        Entity(text="Paris", type=Entity.TYPE_LOC, start=25, end=30, confidence=0.8),
    ]
    return msg


def serve(node: Node, service: str) -> None:
    def answer(request: RecognizeEntities.Request, response: RecognizeEntities.Response):
        response.success = bool(request.transcript)
        response.message = "" if response.success else "empty transcript"
        response.entities = sample_entity_array()
        response.entities.transcript = request.transcript
        response.entities.image_used = request.image.width > 0
        return response

    node.create_service(RecognizeEntities, service, answer)


def main() -> None:
    mode, name = sys.argv[1], sys.argv[2]
    rclpy.init()
    node = rclpy.create_node("interface_peer")
    if mode == "publish":
        publisher = node.create_publisher(EntityArray, name, 10)
        node.create_timer(0.1, lambda: publisher.publish(sample_entity_array()))
    else:
        serve(node, name)
    with contextlib.suppress(KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        rclpy.spin(node)


if __name__ == "__main__":
    main()
