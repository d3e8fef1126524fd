"""launch/mlnet.launch.py and config/mlnet.yaml.

`launch` / `launch_ros` are not installable from PyPI: where they exist (a ROS 2 install) the
launch file is imported and its description built; everywhere its structure is checked from the
source, against the node's interface names and the parameter file.
"""

import ast
import importlib.util
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.ros

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILE = ROOT / "launch" / "mlnet.launch.py"
PARAMS_FILE = ROOT / "config" / "mlnet.yaml"
ARGUMENTS = {
    "namespace",
    "image_topic",
    "transcript_topic",
    "params_file",
    "model_dir",
    "backend",
    "publish_debug_image",
    "autostart",
}


def calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == name
    ]


def keyword(call: ast.Call, name: str) -> ast.AST:
    return next(k.value for k in call.keywords if k.arg == name)


def params() -> dict:
    return yaml.safe_load(PARAMS_FILE.read_text())["/**"]["ros__parameters"]


def test_launch_file_structure():
    tree = ast.parse(LAUNCH_FILE.read_text())
    declared = {ast.literal_eval(c.args[0]) for c in calls(tree, "DeclareLaunchArgument")}
    assert declared == ARGUMENTS
    backend = next(
        c for c in calls(tree, "DeclareLaunchArgument") if ast.literal_eval(c.args[0]) == "backend"
    )
    assert ast.literal_eval(keyword(backend, "choices")) == [
        "auto",
        "tensorrt",
        "onnxruntime",
        "torch",
    ]

    (node,) = calls(tree, "LifecycleNode")
    assert ast.literal_eval(keyword(node, "package")) == "mlnet_ros"
    assert ast.literal_eval(keyword(node, "executable")) == "mlnet_entity_node"
    assert ast.literal_eval(keyword(node, "name")) == "mlnet_entity_node"
    remapped = {ast.literal_eval(pair.elts[0]) for pair in keyword(node, "remappings").elts}
    assert remapped == {"image", "image/compressed", "transcript"}
    overrides = keyword(node, "parameters").elts[1]
    assert {ast.literal_eval(k) for k in overrides.keys} <= set(params())
    assert (ROOT / "bin" / "mlnet_entity_node").is_file()


def test_params_file_holds_every_parameter_with_its_default():
    import rclpy
    from rclpy.context import Context

    from mlnet_ros.ros.entity_node import EntityNode

    context = Context()
    rclpy.init(context=context)
    try:
        node = EntityNode(context=context)
        try:
            parameters = node.get_parameters_by_prefix("")
            declared = {
                name: p.value
                for name, p in parameters.items()
                if name not in ("use_sim_time", "start_type_description_service")
            }
        finally:
            node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)
    assert params() == declared


def test_launch_description_builds_where_launch_ros_exists():
    if importlib.util.find_spec("launch_ros") is None:
        pytest.skip("launch_ros is not installed (not on PyPI); the structure test covers the file")
    spec = importlib.util.spec_from_file_location("mlnet_launch", LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    names = {a.name for a in description.get_launch_arguments()}
    assert names == ARGUMENTS
