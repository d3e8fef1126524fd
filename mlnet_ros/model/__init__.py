"""The MLNet model in PyTorch (no ROS): configuration-driven modules, base weights, checkpoints."""
