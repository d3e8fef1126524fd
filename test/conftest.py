"""Test-session isolation: private DDS discovery, UDP only, a per-run domain id and log directory.

Set at import, before any test imports rclpy, and inherited by every subprocess a test starts.
"""
import os
import random
import tempfile

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
# Fast DDS over UDP only: its shared-memory transport keeps state in /dev/shm across processes,
# and after a process dies uncleanly (a test's SIGKILL, an earlier run) messages between live
# processes can silently stop arriving (eProsima/Fast-DDS#5469, #5053). Tests test this package,
# not that transport.
os.environ.setdefault("FASTDDS_BUILTIN_TRANSPORTS", "UDPv4")
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault("ROS_LOG_DIR", tempfile.mkdtemp(prefix="mlnet_ros_test_logs_"))
