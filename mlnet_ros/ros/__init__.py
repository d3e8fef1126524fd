"""The ROS 2 layer: the entity lifecycle node and its parts (parameters, frame pairing, answers,
diagnostics, debug overlay, image conversions)."""
