"""Export-time rewrites of an ONNX graph that keep its outputs (imports onnx; not needed at run time).

``merge_shared_input_matmuls``: MatMuls that multiply the same input by different constant weights
(an attention layer's query, key and value projections; the fusion's key and value) become one MatMul
over the concatenated weights, one Add of the concatenated biases and a Split. Each output column is
the same dot product as before; onnxruntime runs one larger product instead of three small ones (and
an int8 graph quantizes its input once instead of three times).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx
from onnx import helper, numpy_helper


def _bias_add(node: onnx.NodeProto, consumers: dict, initializers: dict) -> tuple[onnx.NodeProto, np.ndarray] | None:
    """The Add of a 1-D constant that is the only consumer of ``node``'s output, with that constant."""
    users = consumers[node.output[0]]
    if len(users) != 1 or users[0].op_type != "Add":
        return None
    add = users[0]
    others = [name for name in add.input if name != node.output[0]]
    if len(others) != 1 or others[0] not in initializers:
        return None
    bias = numpy_helper.to_array(initializers[others[0]])
    return (add, bias) if bias.ndim == 1 else None


def merge_shared_input_matmuls(graph: onnx.GraphProto) -> int:
    """Merge every group of constant-weight MatMuls of one input in ``graph`` (in place); returns the
    number of groups merged. Their biases are merged too when every member has one."""
    initializers = {init.name: init for init in graph.initializer}
    consumers = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    graph_outputs = {output.name for output in graph.output}
    groups = defaultdict(list)
    for node in graph.node:
        weight = initializers.get(node.input[1]) if node.op_type == "MatMul" else None
        if weight is not None and len(weight.dims) == 2 and node.output[0] not in graph_outputs:
            groups[node.input[0]].append(node)
    merged = 0
    replaced_constants = set()
    for source, members in groups.items():
        if len(members) < 2 or len({initializers[m.input[1]].dims[0] for m in members}) != 1:
            continue
        weights = [numpy_helper.to_array(initializers[m.input[1]]) for m in members]
        biases = [_bias_add(m, consumers, initializers) for m in members]
        with_bias = all(b is not None for b in biases)
        prefix = f"merged_matmul_{merged}"
        graph.initializer.append(numpy_helper.from_array(np.concatenate(weights, axis=1), f"{prefix}_weight"))
        graph.initializer.append(
            numpy_helper.from_array(np.array([w.shape[1] for w in weights], dtype=np.int64), f"{prefix}_split")
        )
        new_nodes = [helper.make_node("MatMul", [source, f"{prefix}_weight"], [f"{prefix}_product"], name=prefix)]
        product = f"{prefix}_product"
        replaced = list(members)
        replaced_constants.update(m.input[1] for m in members)
        outputs = [m.output[0] for m in members]
        if with_bias:
            graph.initializer.append(
                numpy_helper.from_array(np.concatenate([bias for _, bias in biases]), f"{prefix}_bias")
            )
            new_nodes.append(helper.make_node("Add", [product, f"{prefix}_bias"], [f"{prefix}_sum"], name=f"{prefix}_add"))
            product = f"{prefix}_sum"
            replaced += [add for add, _ in biases]
            replaced_constants.update(name for add, _ in biases for name in add.input if name in initializers)
            outputs = [add.output[0] for add, _ in biases]
        new_nodes.append(
            helper.make_node("Split", [product, f"{prefix}_split"], outputs, name=f"{prefix}_split", axis=-1)
        )
        position = min(list(graph.node).index(m) for m in members)
        for node in replaced:
            graph.node.remove(node)
        for offset, node in enumerate(new_nodes):
            graph.node.insert(position + offset, node)
        merged += 1
    _drop_unless_used(graph, replaced_constants)
    return merged


def _drop_unless_used(graph: onnx.GraphProto, names: set[str]) -> None:
    """Remove the initializers ``names`` (the merged weights and biases) that no node or output uses any more."""
    used = {name for node in graph.node for name in node.input} | {output.name for output in graph.output}
    kept = [init for init in graph.initializer if init.name not in names or init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
