"""Export a checkpoint to two ONNX graphs (image path, text path) with a JSON sidecar, into a cache dir.

The files and their names are described in ``mlnet_ros.inference.export_format`` (torch-free, what
runtimes read); this module writes them with torch.onnx.

Command line: ``mlnet_export --model DIR [--out DIR]`` (``mlnet_ros.cli.export``).
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import onnx
import torch
from torch import nn

from mlnet_ros.core.text_inputs import WordPieceTokenizer, make_windows
from mlnet_ros.inference.export_format import (
    DYNAMIC_AXES,
    IMAGE_GRAPH,
    IMAGE_INPUTS,
    IMAGE_OUTPUTS,
    SIDECAR,
    TEXT_GRAPH,
    TEXT_INPUTS,
    TEXT_OUTPUTS,
    Export,
    ExportError,
    checkpoint_hash,
    default_export_dir,
    sha256_file,
    verify_export,
)
from mlnet_ros.inference.graph_rewrites import merge_shared_input_matmuls
from mlnet_ros.model.checkpoint import load_checkpoint
from mlnet_ros.model.modeling import CharEncoder, MLNetModel, TextBatch

OPSET = 18
log = logging.getLogger(__name__)


class PaddedCharEncoder(nn.Module):
    """The model's CharEncoder computed on padded sequences (no packing, so torch.export can trace it).

    Same weights, same result: the forward LSTM's state at each word's last character, and the
    backward LSTM run over the word's characters reversed in place.
    """

    def __init__(self, encoder: CharEncoder):
        super().__init__()
        self.embedding = encoder.embedding
        lstm = encoder.lstm
        self.hidden = lstm.hidden_size
        self.forward_lstm = nn.LSTM(lstm.input_size, lstm.hidden_size, batch_first=True)
        self.backward_lstm = nn.LSTM(lstm.input_size, lstm.hidden_size, batch_first=True)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(self.forward_lstm, f"{name}_l0").copy_(getattr(lstm, f"{name}_l0"))
                getattr(self.backward_lstm, f"{name}_l0").copy_(getattr(lstm, f"{name}_l0_reverse"))

    def forward(self, char_ids: torch.Tensor, word_mask: torch.Tensor) -> torch.Tensor:
        batch, words, chars = char_ids.shape
        flat = char_ids.reshape(batch * words, chars)
        last = ((flat > 0).sum(dim=1).clamp(min=1) - 1).unsqueeze(1)  # (N, 1)
        embedded = self.embedding(flat)
        reverse = (last - torch.arange(chars, device=flat.device).unsqueeze(0)).clamp(min=0)
        reversed_embedded = embedded.gather(1, reverse.unsqueeze(-1).expand_as(embedded))
        forward_out, _ = self.forward_lstm(embedded)
        backward_out, _ = self.backward_lstm(reversed_embedded)
        pick = last.unsqueeze(-1).expand(-1, 1, self.hidden)
        vectors = torch.cat([forward_out.gather(1, pick), backward_out.gather(1, pick)], dim=-1)
        return vectors.view(batch, words, -1) * word_mask.unsqueeze(-1).to(vectors.dtype)


class ImageGraph(nn.Module):
    """Part (a) of the model: crops → regions."""

    def __init__(self, model: MLNetModel):
        super().__init__()
        self.model = model

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(crops)


class TextGraph(nn.Module):
    """Part (b) of the model with flat tensor inputs and outputs."""

    def __init__(self, model: MLNetModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, word_starts, word_mask, char_ids, regions, image_present):
        text = TextBatch(input_ids, attention_mask, word_starts, word_mask, char_ids)
        out = self.model(text, regions, image_present)
        return out.emissions, out.match_score, out.gate, out.attention


def example_inputs(model: MLNetModel, tokenizer: WordPieceTokenizer) -> dict[str, tuple[torch.Tensor, ...]]:
    """Tracing inputs of each graph; every dynamic axis is > 1 (torch.export specialises sizes 0 and 1)."""
    config = model.config
    words = ["Angela", "Merkel", "met", "Barack", "Obama", "in", "Berlin", "yesterday"]
    windows = []
    for count in (len(words), 3):
        windows += make_windows(
            tokenizer, words[:count], config.max_length, config.window_stride, config.max_word_chars, config.char_vocab
        )[0]
    text = TextBatch.collate(windows)
    crops = config.num_crops + 1
    regions = torch.randn(2, crops, config.cells_per_crop, config.text_hidden)
    side = config.crop_size
    return {
        IMAGE_GRAPH: (torch.rand(2, crops, 3, side, side) * 255,),
        TEXT_GRAPH: (
            text.input_ids, text.attention_mask, text.word_starts, text.word_mask, text.char_ids,
            regions, torch.tensor([True, False]),
        ),
    }


def value_info(values) -> list[dict]:
    """Name, element type and shape (ints or axis names) of graph inputs or outputs."""
    return [
        {
            "name": v.name,
            "type": onnx.helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type).name,
            "shape": [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim],
        }
        for v in values
    ]


def finish_graph(path: Path, axes: dict[str, dict[int, str]]) -> onnx.ModelProto:
    """Name the declared dynamic axes of the graph's inputs and outputs and drop the intermediate shape
    annotations (the exporter fixes the BiLSTM's sequence axis at its example size there, which
    onnxruntime then warns about on every run); merge the MatMuls of shared inputs
    (``graph_rewrites``). Check the graph and save it."""
    graph_model = onnx.load(str(path))
    for value in list(graph_model.graph.input) + list(graph_model.graph.output):
        for axis, name in axes.get(value.name, {}).items():
            dim = value.type.tensor_type.shape.dim[axis]
            dim.Clear()
            dim.dim_param = name
    del graph_model.graph.value_info[:]
    merge_shared_input_matmuls(graph_model.graph)
    onnx.checker.check_model(graph_model, full_check=True)
    onnx.save(graph_model, str(path))
    return graph_model


def export_onnx(model_dir: Path, out_dir: Path | None = None) -> Path:
    """Export ``model_dir`` into ``out_dir`` (default: ``default_export_dir``); returns the directory."""
    model_dir = Path(model_dir)
    out_dir = Path(out_dir) if out_dir else default_export_dir(model_dir)
    source_hash = checkpoint_hash(model_dir)
    model, tokenizer = load_checkpoint(model_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SIDECAR).unlink(missing_ok=True)  # written last: no sidecar, no export
    if model.char_encoder is not None:
        model.char_encoder = PaddedCharEncoder(model.char_encoder)
    # Eager attention exports as MatMul + Softmax over an additive mask; the SDPA decomposition adds
    # NaN guards (IsNaN/Where) to every layer: 72 nodes more, the same outputs, 3-4 % slower text calls.
    model.text_encoder.set_attn_implementation("eager")
    model.eval()
    for noisy in ("onnxscript", "onnx_ir"):  # hundreds of INFO lines per export
        logging.getLogger(noisy).setLevel(logging.WARNING)
    wrappers = {IMAGE_GRAPH: ImageGraph(model).eval(), TEXT_GRAPH: TextGraph(model).eval()}
    names = {IMAGE_GRAPH: (IMAGE_INPUTS, IMAGE_OUTPUTS), TEXT_GRAPH: (TEXT_INPUTS, TEXT_OUTPUTS)}
    graphs = {}
    for filename, inputs in example_inputs(model, tokenizer).items():
        path = out_dir / filename
        log.info("exporting %s", path)
        with torch.no_grad():
            torch.onnx.export(
                wrappers[filename], inputs, str(path), input_names=list(names[filename][0]),
                output_names=list(names[filename][1]), dynamic_axes=DYNAMIC_AXES[filename],
                opset_version=OPSET, dynamo=True, external_data=False, verbose=False,  # no progress on stdout
            )
        graph_model = finish_graph(path, DYNAMIC_AXES[filename])
        graphs[filename] = {
            "sha256": sha256_file(path),
            "inputs": value_info(graph_model.graph.input),
            "outputs": value_info(graph_model.graph.output),
        }
    sidecar = {
        "opset": OPSET,
        "checkpoint": str(model_dir.resolve()),
        "checkpoint_sha256": source_hash,
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "config": json.loads(model.config.to_json()),
        "crf": {name: values.tolist() for name, values in model.crf.parameters_numpy().items()},
        "graphs": graphs,
    }
    (out_dir / SIDECAR).write_text(json.dumps(sidecar, indent=1) + "\n")
    return out_dir


def ensure_export(model_dir: Path, out_dir: Path | None = None) -> Export:
    """The verified export of ``model_dir``, exporting (again) when it is missing, stale or damaged."""
    out_dir = Path(out_dir) if out_dir else default_export_dir(model_dir)
    source_hash = checkpoint_hash(model_dir)
    try:
        return verify_export(out_dir, source_hash)
    except ExportError as error:
        log.warning("%s: exporting %s to ONNX (about a minute on 2 cores)", error, model_dir)
    export_onnx(model_dir, out_dir)
    return verify_export(out_dir, source_hash)


if __name__ == "__main__":
    from mlnet_ros.cli.export import main

    sys.exit(main())
