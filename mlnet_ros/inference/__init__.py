"""Inference: one recognition pipeline (tokenise → windows → graph → decode → entities) with a
runner per backend. Only the torch and TensorRT runners and the ONNX exporter import torch."""
