"""Helpers of the test suite (no tests here): tiny models, the ROS test client, second-process peers,
a TensorRT stand-in, training files and runners. Fixtures live in ``test/conftest.py``."""
