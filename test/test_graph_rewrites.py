"""Export-time graph rewrites keep a graph's outputs (real onnxruntime sessions)."""
from __future__ import annotations

import collections

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

from mlnet_ros.inference.graph_rewrites import merge_shared_input_matmuls

RNG = np.random.default_rng(0)


def _constant(name: str, *shape: int) -> onnx.TensorProto:
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(np.float32), name)


def attention_like_graph() -> onnx.ModelProto:
    """x → three biased projections (q, k, v) added up; y → two unbiased projections of different widths;
    a projection of x that is also a graph output stays as it is."""
    nodes, inits = [], []
    for name in ("q", "k", "v"):
        inits += [_constant(f"{name}_w", 8, 6), _constant(f"{name}_b", 6)]
        nodes += [helper.make_node("MatMul", ["x", f"{name}_w"], [f"{name}_mm"]),
                  helper.make_node("Add", [f"{name}_b", f"{name}_mm"], [name])]  # bias first: either order
    nodes += [helper.make_node("Add", ["q", "k"], ["qk"]), helper.make_node("Add", ["qk", "v"], ["qkv"])]
    inits += [_constant("a_w", 8, 3), _constant("b_w", 8, 5), _constant("out_w", 8, 4)]
    nodes += [helper.make_node("MatMul", ["y", "a_w"], ["a"]), helper.make_node("MatMul", ["y", "b_w"], ["b"]),
              helper.make_node("Concat", ["a", "b"], ["ab"], axis=-1),
              helper.make_node("MatMul", ["x", "out_w"], ["x_out"])]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", "rows", 8]) for n in ("x", "y")],
        [helper.make_tensor_value_info("qkv", TensorProto.FLOAT, ["batch", "rows", None]),
         helper.make_tensor_value_info("ab", TensorProto.FLOAT, ["batch", "rows", None]),
         helper.make_tensor_value_info("x_out", TensorProto.FLOAT, ["batch", "rows", None])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def run(model: onnx.ModelProto, feeds: dict) -> list[np.ndarray]:
    return onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)


def test_shared_input_matmuls_are_merged_with_the_same_outputs():
    model = attention_like_graph()
    feeds = {"x": RNG.standard_normal((2, 5, 8)).astype(np.float32),
             "y": RNG.standard_normal((2, 5, 8)).astype(np.float32)}
    expected = run(model, feeds)

    assert merge_shared_input_matmuls(model.graph) == 2
    onnx.checker.check_model(model, full_check=True)
    ops = collections.Counter(node.op_type for node in model.graph.node)
    # x: q, k, v → one MatMul + one Add + Split; x_out (a graph output) kept; y: a, b → one MatMul + Split
    assert ops["MatMul"] == 3 and ops["Split"] == 2 and ops["Add"] == 3
    names = {init.name for init in model.graph.initializer}
    assert not names & {"q_w", "k_w", "v_w", "q_b", "k_b", "v_b", "a_w", "b_w"}, "the old weights are dropped"
    assert "out_w" in names
    for got, want in zip(run(model, feeds), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_graph_without_shared_inputs_is_left_alone():
    model = attention_like_graph()
    graph = model.graph
    keep = [n for n in graph.node if n.output[0] in {"q_mm", "q", "x_out"}]
    del graph.node[:]
    graph.node.extend(keep)
    del graph.output[:]
    graph.output.extend([helper.make_tensor_value_info("q", TensorProto.FLOAT, ["batch", "rows", None]),
                         helper.make_tensor_value_info("x_out", TensorProto.FLOAT, ["batch", "rows", None])])
    nodes_before = [node.SerializeToString() for node in graph.node]
    assert merge_shared_input_matmuls(graph) == 0  # x's other MatMul is a graph output: no group
    assert [node.SerializeToString() for node in graph.node] == nodes_before
    assert {"q_w", "q_b", "out_w"} <= {init.name for init in graph.initializer}
