"""Turn a Recognition into an mlnet_ros/EntityArray message."""

from __future__ import annotations

from builtin_interfaces.msg import Duration, Time
from sensor_msgs.msg import RegionOfInterest

from mlnet_ros.core.results import Box, Recognition
from mlnet_ros.inference.encoded_image import EncodedImage
from mlnet_ros.msg import Entity, EntityArray


def box_to_roi(box: Box) -> RegionOfInterest:
    return RegionOfInterest(x_offset=box.x, y_offset=box.y, width=box.width, height=box.height)


def entity_array(
    recognition: Recognition,
    *,
    stamp: Time,
    frame_id: str,
    image_status: int,
    image_stamp: Time,
    model: str,
    backend: str,
    inference_ns: int,
    confidence_threshold: float,
    image: EncodedImage | None = None,
) -> EntityArray:
    """Build the EntityArray of one answer.

    Entities whose confidence is below ``confidence_threshold`` are left out. Boxes are kept only
    when the image was used, in pixels of the source of ``image``. ``text`` is always
    ``transcript[start:end]``.
    """
    msg = EntityArray()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.transcript = recognition.transcript
    msg.image_text_match = float(recognition.image_text_match)
    msg.image_used = image_status == EntityArray.IMAGE_USED
    msg.image_status = image_status
    msg.image_stamp = image_stamp
    msg.model = model
    msg.backend = backend
    msg.inference_time = Duration(
        sec=inference_ns // 1_000_000_000, nanosec=inference_ns % 1_000_000_000
    )
    kept = [e for e in recognition.entities if e.confidence >= confidence_threshold]
    for found in sorted(kept, key=lambda e: e.start):
        entity = Entity()
        entity.text = recognition.transcript[found.start : found.end]
        entity.type = found.type
        entity.start = found.start
        entity.end = found.end
        entity.confidence = float(found.confidence)
        if msg.image_used and image is not None and found.box is not None:
            entity.has_box = True
            entity.box = box_to_roi(image.to_source(found.box))
        msg.entities.append(entity)
    return msg
