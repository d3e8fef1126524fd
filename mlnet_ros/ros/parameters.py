"""The entity node's parameters, declared once: names, defaults, descriptions, ranges, validation.

Read-only parameters are set at start (-p, --params-file, launch); the dynamic ones can change at
any time. Values outside a range or a vocabulary are rejected with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.node import Node
from rclpy.parameter import Parameter

from mlnet_ros.core.config import PROPOSERS
from mlnet_ros.inference.backends import BACKENDS as INFERENCE_BACKENDS
from mlnet_ros.ros.qos import RELIABILITIES

BACKENDS = ("auto", *INFERENCE_BACKENDS)
DEVICE_PATTERN = re.compile(r"cpu|cuda(:\d+)?")


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter: its name, default and what ``ros2 param describe`` shows."""

    name: str
    default: bool | int | float | str
    description: str
    dynamic: bool = False
    constraints: str = ""
    float_range: tuple[float, float] | None = None
    int_range: tuple[int, int] | None = None

    def descriptor(self) -> ParameterDescriptor:
        descriptor = ParameterDescriptor(
            description=self.description,
            read_only=not self.dynamic,
            additional_constraints=self.constraints,
        )
        if self.float_range is not None:
            low, high = self.float_range
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=low, to_value=high, step=0.0)
            ]
        if self.int_range is not None:
            low, high = self.int_range
            descriptor.integer_range = [IntegerRange(from_value=low, to_value=high, step=1)]
        return descriptor


PARAMETERS = (
    ParameterSpec(
        "autostart",
        True,
        "Configure and activate at start; false waits for a lifecycle manager.",
    ),
    ParameterSpec(
        "model_dir",
        "",
        "Model directory (config.json, labels.json, model.safetensors); "
        "empty: the embedded default, models/embedded.",
    ),
    ParameterSpec(
        "backend", "auto", "Inference backend.", constraints="one of: " + ", ".join(BACKENDS)
    ),
    ParameterSpec("device", "cpu", "Inference device.", constraints="cpu, cuda or cuda:N"),
    ParameterSpec(
        "tensorrt_fp16", True, "TensorRT backend: build fp16 engines (false: fp32)."
    ),
    ParameterSpec(
        "force_engine_rebuild", False, "TensorRT backend: rebuild the cached engines at configure."
    ),
    ParameterSpec(
        "image_qos_reliability",
        "reliable",
        "Reliability of the image subscription: reliable (default; needs a reliable "
        "camera publisher) or best_effort (accepts any publisher, but Fast DDS drops "
        "best-effort frames above ~0.5 MB from other processes).",
        constraints="best_effort or reliable",
    ),
    ParameterSpec(
        "image_qos_depth",
        1,
        "Queue depth of the image subscription (only the newest frame is used).",
        int_range=(1, 100),
    ),
    ParameterSpec(
        "use_compressed_image",
        False,
        "Subscribe to image/compressed (sensor_msgs/CompressedImage) instead of image.",
    ),
    ParameterSpec(
        "region_proposer",
        "",
        "Region proposer of the image crops; empty: the one the model was trained with "
        "(config.json 'proposer'). fine-grained: OpenCV's fine-grained static saliency on the frame "
        "reduced to 160 px; saliency+people runs OpenCV's HOG people detector first "
        "(about 5-40 ms more per frame on a CPU).",
        constraints="'' (the model's), " + " or ".join(PROPOSERS),
    ),
    ParameterSpec(
        "publish_debug_image",
        False,
        "Publish entities/debug_image: the image with entity boxes and labels.",
    ),
    ParameterSpec(
        "max_transcript_chars",
        4096,
        "Longest transcript answered, in characters (Python code points); a longer one is "
        "rejected at once. Bounds the answer time, so a burst cannot overflow the transcript "
        "queue.",
        int_range=(1, 1_000_000),
    ),
    ParameterSpec(
        "max_image_age",
        1.0,
        "Seconds between a transcript and an image beyond which the image is stale "
        "(text-only answer); an encoded image is reused while within this age.",
        dynamic=True,
        float_range=(0.0, 3600.0),
    ),
    ParameterSpec(
        "confidence_threshold",
        0.0,
        "Entities with a lower confidence are left out of the EntityArray.",
        dynamic=True,
        float_range=(0.0, 1.0),
    ),
)


def declare_parameters(node: Node) -> None:
    """Declare every parameter of PARAMETERS on ``node``, with the vocabulary check installed
    first so that an invalid override is rejected at declaration."""
    node.add_on_set_parameters_callback(validate_parameters)
    for spec in PARAMETERS:
        node.declare_parameter(spec.name, spec.default, spec.descriptor())


def validate_parameters(parameters: list[Parameter]) -> SetParametersResult:
    """Reject the first value outside its vocabulary, with the reason (ranges are rclpy's)."""
    for parameter in parameters:
        error = parameter_error(parameter)
        if error:
            return SetParametersResult(successful=False, reason=error)
    return SetParametersResult(successful=True)


def parameter_error(parameter: Parameter) -> str:
    """Why a value of a string parameter with a fixed vocabulary is invalid ('' if valid)."""
    name, value = parameter.name, parameter.value
    if name == "backend" and value not in BACKENDS:
        return f"backend must be one of {', '.join(BACKENDS)}, got {value!r}"
    if name == "device" and not (isinstance(value, str) and DEVICE_PATTERN.fullmatch(value)):
        return f"device must be cpu, cuda or cuda:N, got {value!r}"
    if name == "region_proposer" and value not in ("", *PROPOSERS):
        return f"region_proposer must be '' (the model's) or one of {', '.join(PROPOSERS)}, got {value!r}"
    if name == "image_qos_reliability" and value not in RELIABILITIES:
        return f"image_qos_reliability must be best_effort or reliable, got {value!r}"
    return ""
