"""Inference: one recognition pipeline (tokenise → windows → graph → decode → entities) with a
runner per backend. Only the torch backend and the ONNX exporter import torch."""
