"""The newest camera frame, and the image features of the last frame that was encoded.

Only one raw frame is kept: a new frame replaces the previous one, so a fast camera never builds
a queue. Features are computed on demand, when a transcript needs them, and cached with their
frame. A transcript is paired with the cached frame while that frame is within the age limit, and
with the newest frame otherwise, so the image encoder (the costly part) runs at most about once
per age limit, however fast the camera and the speaker are. A rejected frame never replaces a
usable one; when the newest frame received was rejected and no usable frame is fresh, the
pairing says IMAGE_REJECTED. Thread-safe.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from rclpy.time import Time
from sensor_msgs.msg import CompressedImage, Image

from mlnet_ros.inference.encoded_image import EncodedImage
from mlnet_ros.msg import EntityArray


@dataclass(frozen=True)
class Frame:
    """A received camera frame; ``stamp``: its header stamp, or its arrival time if that is 0."""

    stamp: Time
    frame_id: str
    msg: Image | CompressedImage


@dataclass(frozen=True)
class Pairing:
    """The frame paired with a transcript (None: text-only), its features if already computed,
    and the image status: IMAGE_USED as a placeholder when paired, else IMAGE_NONE,
    IMAGE_STALE or IMAGE_REJECTED."""

    frame: Frame | None
    encoded: EncodedImage | None
    status: int


class LatestFrame:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._encoded: tuple[Frame, EncodedImage] | None = None
        self._newest_rejected = False  # the newest frame received was rejected

    def put(self, msg: Image | CompressedImage, stamp: Time, frame_id: str) -> None:
        """Replace the newest frame."""
        with self._lock:
            self._frame = Frame(stamp, frame_id, msg)
            self._newest_rejected = False

    def reject(self) -> None:
        """Note that the newest frame received was rejected (the previous frame is kept)."""
        with self._lock:
            self._newest_rejected = True

    def pair(self, when: Time, max_age_s: float) -> Pairing:
        """Pair a transcript stamped ``when`` with the encoded frame if its stamp is within
        ``max_age_s`` of ``when`` (either side), else with the newest frame if it is."""
        with self._lock:
            frame, encoded, rejected = self._frame, self._encoded, self._newest_rejected

        def fresh(candidate: Frame) -> bool:
            return abs((when - candidate.stamp).nanoseconds) <= max_age_s * 1e9

        if encoded is not None and fresh(encoded[0]):
            return Pairing(encoded[0], encoded[1], EntityArray.IMAGE_USED)
        if frame is not None and fresh(frame):
            return Pairing(frame, None, EntityArray.IMAGE_USED)
        if rejected:
            return Pairing(None, None, EntityArray.IMAGE_REJECTED)
        if frame is None:
            return Pairing(None, None, EntityArray.IMAGE_NONE)
        return Pairing(None, None, EntityArray.IMAGE_STALE)

    def remember(self, frame: Frame, encoded: EncodedImage) -> None:
        """Cache the features of ``frame`` (replacing those of an older frame)."""
        with self._lock:
            self._encoded = (frame, encoded)

    def discard(self, frame: Frame) -> None:
        """Forget ``frame``, which could not be decoded, and note its rejection if it is still
        the newest."""
        with self._lock:
            if self._frame is frame:
                self._frame = None
                self._newest_rejected = True

    def clear(self) -> None:
        with self._lock:
            self._frame = None
            self._encoded = None
            self._newest_rejected = False
