"""fp16 mixed-precision copies of the exported ONNX graphs, for strongly typed TensorRT engines.

An export-time step (it imports ``onnx``), run once per export before the first fp16 engine
build: TensorRT 11 has no fp16 builder flag any more (networks are always strongly typed), so
the precision of every tensor is decided here, in the graph, and TensorRT 10 (>= 10.3) builds the
same graph strongly typed. The recipe is an allow-list: the ops in ``FP16_OPS`` (matrix products,
convolutions, element-wise arithmetic and data movement) compute in fp16; every other op stays
fp32 — LayerNormalization, Softmax, the LSTMs, reductions, Exp/Log/Pow/Sqrt, the Sigmoid gate,
Cast, shape arithmetic and anything not listed. Casts are inserted where the two meet, fp32
initializers feeding fp16 ops are stored as fp16 (clamped to the fp16 range: the attention masks
use float32's minimum), and graph inputs and outputs keep their types.

The graphs are cached in ``<export dir>/fp16/`` with ``mixed_precision.json``: the sha256 of each
source graph, the recipe and the sha256 of each converted graph. ``ensure_mixed_precision`` hands
out a graph only when all three match, as ``verify_export`` does for the export.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

from mlnet_ros.inference.export_format import IMAGE_GRAPH, TEXT_GRAPH, Export, sha256_file

FP16_OPS = frozenset({
    "Add", "Clip", "Concat", "Conv", "Div", "Erf", "Expand", "Flatten", "Gather", "GatherElements", "GatherND",
    "Gemm", "Identity", "MatMul", "Mul", "Relu", "Reshape", "Slice", "Split", "Squeeze", "Sub", "Tanh",
    "Transpose", "Unsqueeze", "Where",
})
FP16_MAX = float(np.finfo(np.float16).max)
# Part of every fp16 engine's key: bump "version" whenever convert_to_mixed_precision changes.
RECIPE = {"version": 1, "low_precision": "float16", "fp16_ops": sorted(FP16_OPS), "keep_io_types": True,
          "initializer_clamp": FP16_MAX}
DIRECTORY = "fp16"
SIDECAR = "mixed_precision.json"
log = logging.getLogger(__name__)


def recipe_sha256() -> str:
    """Identity of the conversion recipe (part of every fp16 engine's cache key)."""
    return hashlib.sha256(json.dumps(RECIPE, sort_keys=True).encode()).hexdigest()


def _float_tensors(graph_model: onnx.ModelProto) -> set[str]:
    """Names of the graph's float32 tensors (inputs, initializers, node outputs), by type inference."""
    inferred = shape_inference.infer_shapes(graph_model, strict_mode=True).graph
    types = {v.name: v.type.tensor_type.elem_type for v in [*inferred.input, *inferred.output, *inferred.value_info]}
    types.update({i.name: i.data_type for i in inferred.initializer})
    untyped = [name for node in inferred.node for name in node.output if name and name not in types]
    if untyped:
        raise ValueError(f"type inference left {len(untyped)} tensors untyped, e.g. {untyped[0]}")
    return {name for name, elem_type in types.items() if elem_type == TensorProto.FLOAT}


def convert_to_mixed_precision(graph_model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``graph_model`` (fp32) whose FP16_OPS compute in fp16; inputs and outputs keep their types."""
    graph_model = onnx.ModelProto.FromString(graph_model.SerializeToString())
    graph = graph_model.graph
    if any(attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
           for node in graph.node for attribute in node.attribute):
        raise ValueError("graphs with subgraphs (If, Loop, Scan) are not supported")
    floats = _float_tensors(graph_model)
    initializers = {i.name: i for i in graph.initializer}
    half = set()  # tensors now stored in fp16
    renamed = {}  # tensor → its fp16 (or fp32) variant
    nodes, new_initializers = [], []

    def variant(name: str, to_half: bool) -> str:
        key = (name, to_half)
        if key not in renamed:
            suffix = "__fp16" if to_half else "__fp32"
            if to_half and name in initializers:
                values = numpy_helper.to_array(initializers[name])
                values = np.clip(values, -FP16_MAX, FP16_MAX).astype(np.float16)
                new_initializers.append(numpy_helper.from_array(values, name + suffix))
            else:
                target = TensorProto.FLOAT16 if to_half else TensorProto.FLOAT
                nodes.append(helper.make_node("Cast", [name], [name + suffix], name=name + suffix, to=target))
            renamed[key] = name + suffix
        return renamed[key]

    def computes_half(node: onnx.NodeProto) -> bool:
        return node.op_type in FP16_OPS and any(name in floats for name in node.input)

    # An fp16 graph output is computed as <name>__fp16 and cast back to fp32 as <name>.
    outputs = {output.name for output in graph.output}
    fp16_outputs = {name: name + "__fp16" for node in graph.node if computes_half(node) for name in node.output
                    if name in outputs}
    floats.update(fp16_outputs.values())
    for node in graph.node:
        node.output[:] = [fp16_outputs.get(name, name) for name in node.output]
        node.input[:] = [fp16_outputs.get(name, name) for name in node.input]

    for node in graph.node:
        half_node = computes_half(node)
        for i, name in enumerate(node.input):
            if name in floats and (name in half) != half_node:
                node.input[i] = variant(name, half_node)
        nodes.append(node)
        if half_node:
            half.update(name for name in node.output if name in floats)
            nodes.extend(
                helper.make_node("Cast", [half_name], [name], name=name + "__fp32", to=TensorProto.FLOAT)
                for name, half_name in fp16_outputs.items() if half_name in node.output
            )
    used = {name for node in nodes for name in node.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.node[:], graph.initializer[:], graph.value_info[:]
    graph.node.extend(nodes)
    graph.initializer.extend(kept + new_initializers)
    onnx.checker.check_model(graph_model, full_check=True)
    return graph_model


@dataclass(frozen=True)
class MixedPrecisionGraphs:
    """Verified fp16 mixed-precision graphs of an export."""

    directory: Path

    def graph(self, filename: str) -> Path:
        return self.directory / filename


def _sidecar_problem(directory: Path, export: Export) -> str | None:
    """Why the cached conversion cannot be used, or None when it is intact and current."""
    path = directory / SIDECAR
    try:
        sidecar = json.loads(path.read_text())
        sources, graphs = sidecar["source_sha256"], sidecar["sha256"]
    except FileNotFoundError:
        return f"{path}: missing"
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        return f"{path}: unreadable ({error})"
    if sidecar.get("recipe_sha256") != recipe_sha256():
        return f"{path}: made with another recipe"
    for filename in (IMAGE_GRAPH, TEXT_GRAPH):
        if sources.get(filename) != export.sidecar["graphs"][filename]["sha256"]:
            return f"{path}: made from another {filename}"
        graph_path = directory / filename
        if not graph_path.is_file() or sha256_file(graph_path) != graphs.get(filename):
            return f"{graph_path}: missing, or its sha256 differs from {SIDECAR}"
    return None


def ensure_mixed_precision(export: Export) -> MixedPrecisionGraphs:
    """The export's verified fp16 graphs, converted (again) when missing, stale or damaged."""
    directory = export.derived_dir(DIRECTORY)
    problem = _sidecar_problem(directory, export)
    if problem is None:
        return MixedPrecisionGraphs(directory)
    log.info("%s: converting the ONNX graphs to fp16 mixed precision", problem)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SIDECAR).unlink(missing_ok=True)  # written last: no sidecar, no conversion
    sidecar = {"recipe": RECIPE, "recipe_sha256": recipe_sha256(), "onnx": onnx.__version__,
               "source_sha256": {}, "sha256": {}}
    for filename in (IMAGE_GRAPH, TEXT_GRAPH):
        converted = convert_to_mixed_precision(onnx.load(str(export.graph(filename))))
        temporary = directory / f"{filename}.tmp{os.getpid()}"
        onnx.save(converted, str(temporary))
        os.replace(temporary, directory / filename)
        sidecar["source_sha256"][filename] = export.sidecar["graphs"][filename]["sha256"]
        sidecar["sha256"][filename] = sha256_file(directory / filename)
    (directory / SIDECAR).write_text(json.dumps(sidecar, indent=1) + "\n")
    problem = _sidecar_problem(directory, export)
    if problem is not None:
        raise RuntimeError(f"fp16 conversion did not verify: {problem}")
    return MixedPrecisionGraphs(directory)
