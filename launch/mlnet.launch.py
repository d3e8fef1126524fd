"""Start the MLNet entity node, straight to active.

    ros2 launch mlnet_ros mlnet.launch.py namespace:=robot1 image_topic:=/camera/color/image_raw \
        transcript_topic:=/whisper/text backend:=onnxruntime

The node drives its own lifecycle (parameter autostart, true here) so this file works the same on
Humble, Jazzy and Kilted; with autostart:=false it waits unconfigured for a lifecycle manager.
Launch arguments override the values of params_file.
"""

from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import LifecycleNode
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription


def generate_launch_description() -> LaunchDescription:
    arguments = [
        DeclareLaunchArgument(
            "namespace", default_value="", description="Namespace of the node and its topics"
        ),
        DeclareLaunchArgument(
            "image_topic",
            default_value="image",
            description="Camera image topic (sensor_msgs/Image)",
        ),
        DeclareLaunchArgument(
            "transcript_topic",
            default_value="transcript",
            description="Speech transcript topic (std_msgs/String)",
        ),
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution(
                [FindPackageShare("mlnet_ros"), "config", "mlnet.yaml"]
            ),
            description="ROS parameters file",
        ),
        DeclareLaunchArgument(
            "model_dir",
            default_value="",
            description="Model directory; empty: the embedded default",
        ),
        DeclareLaunchArgument(
            "backend",
            default_value="auto",
            choices=["auto", "tensorrt", "onnxruntime", "torch"],
            description="Inference backend",
        ),
        DeclareLaunchArgument(
            "publish_debug_image",
            default_value="false",
            choices=["true", "false"],
            description="Publish entities/debug_image",
        ),
        DeclareLaunchArgument(
            "autostart",
            default_value="true",
            choices=["true", "false"],
            description="Configure and activate at start (false: wait for a lifecycle manager)",
        ),
    ]
    image_topic = LaunchConfiguration("image_topic")
    node = LifecycleNode(
        package="mlnet_ros",
        executable="mlnet_entity_node",
        name="mlnet_entity_node",
        namespace=LaunchConfiguration("namespace"),
        parameters=[
            LaunchConfiguration("params_file"),
            {
                "model_dir": ParameterValue(LaunchConfiguration("model_dir"), value_type=str),
                "backend": ParameterValue(LaunchConfiguration("backend"), value_type=str),
                "publish_debug_image": ParameterValue(
                    LaunchConfiguration("publish_debug_image"), value_type=bool
                ),
                "autostart": ParameterValue(LaunchConfiguration("autostart"), value_type=bool),
            },
        ],
        remappings=[
            ("image", image_topic),
            ("image/compressed", [image_topic, "/compressed"]),
            ("transcript", LaunchConfiguration("transcript_topic")),
        ],
        output="screen",
    )
    return LaunchDescription([*arguments, node])
