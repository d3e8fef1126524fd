"""Test-session isolation: private DDS discovery, a per-run domain id and log directory.

Set at import, before any test imports rclpy, and inherited by every subprocess a test starts.
"""
import os
import random
import tempfile

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault("ROS_LOG_DIR", tempfile.mkdtemp(prefix="mlnet_ros_test_logs_"))
