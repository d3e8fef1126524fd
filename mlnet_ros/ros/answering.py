"""The one path from a transcript to its EntityArray, for the transcript topic and the service.

check the transcript -> take the image (the paired camera frame, or the request's image) ->
decode and encode it -> recognise -> the answer. A rejected input raises ``Rejected`` with a
counter reason; a camera frame that cannot be used is counted and the answer is text-only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
from builtin_interfaces.msg import Time as TimeMsg
from rclpy.time import Time
from sensor_msgs.msg import CompressedImage, Image

from mlnet_ros.inference.encoded_image import MODEL_MAX_SIDE, EncodedImage, encode
from mlnet_ros.msg import EntityArray
from mlnet_ros.ros.debug_overlay import draw_entities
from mlnet_ros.ros.diagnostics import NodeCounters, Rejections
from mlnet_ros.ros.entity_msgs import entity_array
from mlnet_ros.ros.image_msgs import (
    ImageConversionError,
    check_compressed,
    compressed_to_rgb,
    image_to_rgb,
    rgb_to_image,
)
from mlnet_ros.ros.latest_frame import Frame, LatestFrame


class Rejected(Exception):
    """The input gets no answer; ``reason`` is its counter, the text says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Answer:
    """The EntityArray of one transcript and, when asked for, its debug overlay."""

    entities: EntityArray
    debug_image: Image | None


@dataclass(frozen=True)
class _Image:
    """The image an answer uses (frame and features both None: text-only with ``status``)."""

    frame: Frame | None
    encoded: EncodedImage | None
    status: int


class Answering:
    """Answers transcripts with one recognizer; not thread-safe (the node calls it under a lock)."""

    def __init__(
        self,
        recognizer,
        frames: LatestFrame,
        counters: NodeCounters,
        rejections: Rejections,
        max_transcript_chars: int,
        debug_image: bool,
    ) -> None:
        self._recognizer = recognizer
        self._frames = frames
        self._counters = counters
        self._rejections = rejections
        self._max_transcript_chars = max_transcript_chars
        self._debug_image = debug_image

    def to_transcript(
        self, transcript: str, stamp: Time, max_image_age: float, confidence_threshold: float
    ) -> Answer:
        """Answer a transcript of the topic with the camera frame paired with ``stamp``."""
        check_transcript(transcript, self._max_transcript_chars)
        started = time.perf_counter_ns()
        with _model_errors_rejected():
            image = self._paired_image(stamp, max_image_age)
            return self._answer(transcript, stamp, image, started, confidence_threshold)

    def to_request(
        self, transcript: str, stamp: Time, image: Image, confidence_threshold: float
    ) -> Answer:
        """Answer a service request with its own image (text-only when the image is empty);
        an unusable request image rejects the request."""
        check_transcript(transcript, self._max_transcript_chars)
        started = time.perf_counter_ns()
        if not (image.width or image.height or len(image.data)):
            used = _Image(None, None, EntityArray.IMAGE_NONE)
        else:
            try:
                rgb = image_to_rgb(image)
            except ImageConversionError as error:
                raise Rejected(error.reason, f"image rejected: {error}") from error
            frame = Frame(Time.from_msg(image.header.stamp), image.header.frame_id, image)
            with _model_errors_rejected():
                used = _Image(frame, encode(self._recognizer, rgb), EntityArray.IMAGE_USED)
        with _model_errors_rejected():
            return self._answer(transcript, stamp, used, started, confidence_threshold)

    def _paired_image(self, stamp: Time, max_image_age: float) -> _Image:
        pairing = self._frames.pair(stamp, max_image_age)
        if pairing.frame is None or pairing.encoded is not None:
            return _Image(pairing.frame, pairing.encoded, pairing.status)
        frame = pairing.frame
        try:
            rgb, source_size = decode_frame(frame.msg)
            encoded = in_source_pixels(encode(self._recognizer, rgb), source_size)
        except ImageConversionError as error:
            return self._rejected_frame(frame, error.reason, str(error))
        except Exception as error:  # the model failed on this image: still answer, text-only
            return self._rejected_frame(frame, "inference_error", f"{type(error).__name__}: {error}")
        self._frames.remember(frame, encoded)
        return _Image(frame, encoded, pairing.status)

    def _rejected_frame(self, frame: Frame, reason: str, detail: str) -> _Image:
        """Forget a frame that cannot be used, count why; the answer goes on text-only."""
        self._frames.discard(frame)
        self._rejections.reject_image(reason, detail, f"Image rejected: {detail}")
        return _Image(None, None, EntityArray.IMAGE_REJECTED)

    def _answer(
        self,
        transcript: str,
        stamp: Time,
        image: _Image,
        started_ns: int,
        confidence_threshold: float,
    ) -> Answer:
        encoded = image.encoded
        recognition = self._recognizer.recognize(transcript, encoded.features if encoded else None)
        status = image.status
        if encoded is not None:
            status = (
                EntityArray.IMAGE_USED if recognition.image_used else EntityArray.IMAGE_GATE_CLOSED
            )
        elapsed_ns = time.perf_counter_ns() - started_ns
        entities = entity_array(
            recognition,
            stamp=stamp.to_msg(),
            frame_id=image.frame.frame_id if encoded else "",
            image_status=status,
            image_stamp=image.frame.stamp.to_msg() if encoded else TimeMsg(),
            model=self._recognizer.model_name,
            backend=self._recognizer.backend,
            inference_ns=elapsed_ns,
            confidence_threshold=confidence_threshold,
            image=encoded,
        )
        self._counters.answered(elapsed_ns / 1e6, text_only=not entities.image_used)
        debug_image = None
        if self._debug_image and encoded is not None:
            overlay = draw_entities(encoded.rgb, recognition, confidence_threshold)
            debug_image = rgb_to_image(overlay, entities.image_stamp, entities.header.frame_id)
        return Answer(entities, debug_image)


@contextmanager
def _model_errors_rejected() -> Iterator[None]:
    """Turn any failure of the model (or of building the answer) into an inference_error
    rejection: one input fails, the node keeps answering."""
    try:
        yield
    except Rejected:
        raise
    except Exception as error:
        raise Rejected(
            "inference_error", f"recognition failed: {type(error).__name__}: {error}"
        ) from error


def check_transcript(transcript: str, max_chars: int) -> None:
    """Raise Rejected for a transcript that gets no answer: empty, whitespace-only, or longer
    than ``max_chars`` characters."""
    if len(transcript) > max_chars:
        raise Rejected(
            "transcript_too_long",
            f"transcript of {len(transcript)} characters is longer than max_transcript_chars "
            f"({max_chars})",
        )
    if not transcript.strip():
        raise Rejected("empty_transcript", "empty transcript")


def decode_frame(msg: Image | CompressedImage) -> tuple[np.ndarray, tuple[int, int]]:
    """RGB pixels of a camera frame and the frame's (width, height): a large compressed frame
    is decoded at a reduced size that still gives the model its full resolution. Raises
    ImageConversionError."""
    if isinstance(msg, CompressedImage):
        header = check_compressed(msg)
        rgb = compressed_to_rgb(msg, min_side=MODEL_MAX_SIDE)
        size = (header.width, header.height)
        if (rgb.shape[1] >= rgb.shape[0]) != (size[0] >= size[1]):  # rotated by EXIF orientation
            size = size[::-1]
        return rgb, size
    return image_to_rgb(msg), (msg.width, msg.height)


def in_source_pixels(encoded: EncodedImage, source_size: tuple[int, int]) -> EncodedImage:
    """``encoded`` with its boxes mapped to a source of ``source_size`` (the image it was
    computed from may have been decoded at a reduced size)."""
    width, height = source_size
    if (width, height) == (encoded.width, encoded.height):
        return encoded
    return replace(encoded, scale=encoded.scale * width / encoded.width, width=width, height=height)
