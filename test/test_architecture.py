"""The layer rules of docs/ARCHITECTURE.md: importing all of a layer's modules (in a fresh process) loads
nothing the layer must not use."""
from __future__ import annotations

import subprocess
import sys

import pytest

ROS = ["rclpy", "std_msgs", "sensor_msgs", "builtin_interfaces", "diagnostic_msgs", "lifecycle_msgs",
       "rcl_interfaces", "mlnet_ros.msg", "mlnet_ros.srv"]
TORCH = ["torch", "torchvision", "transformers", "onnx", "onnxscript"]
LAYERS = {
    # layer: (forbidden imports, modules of the layer allowed to use them)
    "mlnet_ros.core": (TORCH + ROS + ["cv2", "onnxruntime", "mlnet_ros.model", "mlnet_ros.inference",
                                      "mlnet_ros.ros", "mlnet_ros.cli"], []),
    "mlnet_ros.model": (ROS + ["onnxruntime", "mlnet_ros.inference", "mlnet_ros.ros", "mlnet_ros.cli"], []),
    "mlnet_ros.inference": (
        TORCH + ROS + ["mlnet_ros.model", "mlnet_ros.ros", "mlnet_ros.cli"],
        # the torch runner, the TensorRT runner (CUDA buffers through torch) and the export-time steps
        ["mlnet_ros.inference.backends.torch_runner", "mlnet_ros.inference.backends.tensorrt_backend",
         "mlnet_ros.inference.onnx_export", "mlnet_ros.inference.mixed_precision",
         "mlnet_ros.inference.bundle_export", "mlnet_ros.inference.quantization",
         "mlnet_ros.inference.graph_rewrites"],
    ),
    "mlnet_ros.ros": (TORCH + ["mlnet_ros.model", "mlnet_ros.cli"], []),
}

IMPORT_LAYER = """
import importlib, pkgutil, sys
layer, forbidden, allowed = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
package = importlib.import_module(layer)
names = [m.name for m in pkgutil.walk_packages(package.__path__, layer + ".") if m.name not in allowed]
for name in names:
    importlib.import_module(name)
loaded = sorted(n for n in sys.modules if any(n == f or n.startswith(f + ".") for f in forbidden))
if loaded:
    sys.exit(f"layer {layer} imported what it must not use: {', '.join(loaded[:10])}")
print(len(names), "modules")
"""


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layer_imports_only_what_it_may(layer):
    forbidden, allowed = LAYERS[layer]
    result = subprocess.run([sys.executable, "-c", IMPORT_LAYER, layer, ",".join(forbidden), ",".join(allowed)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[0]) >= 3


def test_the_rule_catches_a_forbidden_import():
    """The check itself: the model layer imports torch, so forbidding torch there must fail."""
    result = subprocess.run([sys.executable, "-c", IMPORT_LAYER, "mlnet_ros.model", "torch", ""],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "layer mlnet_ros.model imported what it must not use: torch" in result.stderr
