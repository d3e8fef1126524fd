"""int8 text graph (export time): blockwise int8 weights with ``onnxruntime.quantization`` (it imports onnx).

Every MatMul with a constant weight (26 in the embedded preset: MiniLM's 24, whose query, key and value
projections the exporter merges into one per layer; the fusion's merged key and value projection; the
emission layer) becomes an onnxruntime ``MatMulNBits`` node: 8-bit symmetric weights in blocks of 128
input rows, each block with its own scale, computed with int8 activations (``accuracy_level`` 4). No
calibration set is needed. On the current default's combined valid (Twitter-2015 + 2017 valid + the
generated command valid, text only) this keeps 99.8 % of the fp32 tags (valid F1 81.36 / 81.29 on two
CPUs, fp32 81.45) and makes ``text.onnx`` 70 MB instead of 103; blocks of 32 gave 81.32 / 81.35 with a
text graph about 10 % slower, the earlier per-channel dynamic int8 of the six feed-forward expansions
81.30 at 93 MB. The image graph stays fp32 (post-training int8 of its convolutions costs the visual check;
docs/DEPLOYMENT.md). The entity F1 against the fp32 graphs is checked in test/test_bundle_int8.py.
"""
from __future__ import annotations

import os
from pathlib import Path

BITS = 8
BLOCK_SIZE = 128  # input rows sharing one scale (3 per column of a 384-row weight); blocks of 32: ~10 % slower
ACCURACY_LEVEL = 4  # int8 activations: the int8 kernels (level 0 dequantizes to fp32 and is 3x slower)
QUANTIZED_OP = "MatMulNBits"


def quantize_text_graph(path: Path) -> dict:
    """Quantize the graph at ``path`` in place; returns how (recorded in the bundle's export.json)."""
    import onnx
    import onnxruntime
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    path = Path(path)
    quantizer = MatMulNBitsQuantizer(onnx.load(str(path)), bits=BITS, block_size=BLOCK_SIZE, is_symmetric=True,
                                     accuracy_level=ACCURACY_LEVEL)
    quantizer.process()
    model = quantizer.model.model
    quantized = sum(node.op_type == QUANTIZED_OP for node in model.graph.node)
    if not quantized:
        raise ValueError(f"{path}: no MatMul with a constant weight to quantize")
    temporary = path.with_name(f"{path.name}.int8.tmp{os.getpid()}")
    onnx.save(model, str(temporary))
    os.replace(temporary, path)
    return {
        "method": "weight-only blockwise",
        "weight_type": "int8",
        "symmetric": True,
        "block_size": BLOCK_SIZE,
        "accuracy_level": ACCURACY_LEVEL,
        "op_type": QUANTIZED_OP,
        "nodes": "every MatMul with a constant weight",
        "quantized_nodes": quantized,
        "onnxruntime": onnxruntime.__version__,
    }
