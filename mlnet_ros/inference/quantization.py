"""int8 text graph (export time): dynamic quantization with ``onnxruntime.quantization`` (it imports onnx).

Weights of the MatMul/Gemm layers become int8 (per channel); activations are quantized per call, so no
calibration set is needed. The image graph stays fp32 (its convolutions gain little from dynamic
quantization on CPU). The entity F1 against the fp32 graphs is checked in test/test_bundle_int8.py.
"""
from __future__ import annotations

import os
from pathlib import Path

OP_TYPES = ("MatMul", "Gemm")


def quantize_text_graph(path: Path) -> dict:
    """Quantize the graph at ``path`` in place; returns how (recorded in the bundle's export.json)."""
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = Path(path)
    temporary = path.with_name(f"{path.name}.int8.tmp{os.getpid()}")
    quantize_dynamic(
        str(path), str(temporary), op_types_to_quantize=list(OP_TYPES), per_channel=True, weight_type=QuantType.QInt8
    )
    os.replace(temporary, path)
    return {
        "method": "dynamic",
        "weight_type": "int8",
        "per_channel": True,
        "op_types": list(OP_TYPES),
        "onnxruntime": onnxruntime.__version__,
    }
