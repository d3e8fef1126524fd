"""Writing deploy bundles (export time: torch, onnx and ``onnxruntime.quantization``); the format is
described in ``mlnet_ros.inference.bundle``, which reads bundles without any of these."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from mlnet_ros.core.base_weights import text_encoder_dir
from mlnet_ros.core.checkpoint_files import CONFIG_FILE, LABELS_FILE, check_checkpoint
from mlnet_ros.inference.bundle import TOKENIZER_FILE, verify_bundle
from mlnet_ros.inference.export_format import SIDECAR, TEXT_GRAPH, Export, sha256_file
from mlnet_ros.inference.onnx_export import export_onnx, value_info
from mlnet_ros.inference.quantization import quantize_text_graph


def export_bundle(model_dir: Path, out_dir: Path, int8: bool = False) -> Export:
    """Write the deploy bundle of checkpoint ``model_dir`` into ``out_dir`` (``text.onnx`` int8 with
    ``int8``) and return it verified. ``export.json`` is written last: no sidecar, no bundle."""
    import onnx

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    config = check_checkpoint(model_dir)
    export_onnx(model_dir, out_dir)
    sidecar_path = out_dir / SIDECAR
    sidecar = json.loads(sidecar_path.read_text())
    sidecar_path.unlink()
    sidecar["quantization"] = None
    if int8:
        sidecar["quantization"] = {TEXT_GRAPH: quantize_text_graph(out_dir / TEXT_GRAPH)}
        graph = onnx.load(str(out_dir / TEXT_GRAPH), load_external_data=False)
        sidecar["graphs"][TEXT_GRAPH] = {
            "sha256": sha256_file(out_dir / TEXT_GRAPH),
            "inputs": value_info(graph.graph.input),
            "outputs": value_info(graph.graph.output),
        }
    shutil.copyfile(model_dir / CONFIG_FILE, out_dir / CONFIG_FILE)
    shutil.copyfile(model_dir / LABELS_FILE, out_dir / LABELS_FILE)
    shutil.copyfile(text_encoder_dir(config) / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)
    sidecar["files"] = {name: sha256_file(out_dir / name) for name in (CONFIG_FILE, LABELS_FILE, TOKENIZER_FILE)}
    sidecar_path.write_text(json.dumps(sidecar, indent=1) + "\n")
    return verify_bundle(out_dir)
