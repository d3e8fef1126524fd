"""``mlnet_bench``: latency, throughput, load time, warm-up and memory of each inference backend.

Every backend is measured in a fresh subprocess (honest load times and peak RSS), one after the
other in one run, on Twitter-2017 test tweets. Prints a table, appends it as a dated run to the
"Inference backends (issue 5)" section of docs/BENCHMARKS.md, and writes JSON with ``--json``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mlnet_ros.inference.backends import BACKENDS, BackendUnavailable
from mlnet_ros.core.checkpoint_files import ModelLoadError, read_config
from mlnet_ros.inference.onnx_export import checkpoint_hash, ensure_export
from mlnet_ros.paths import default_model_dir
from training.data import DEFAULT_DATA_DIR, DataError, read_conll

BENCHMARKS_MD = Path(__file__).resolve().parents[2] / "docs" / "BENCHMARKS.md"
SECTION = "## Inference backends (issue 5)"
BATCH = 32
BATCH_REPEATS = 3
DEVICES = {"torch": "cpu", "onnxruntime": "cpu", "tensorrt": "cuda"}
COLUMNS = (
    ("text_only_p50_ms", "text p50 ms"),
    ("text_only_p95_ms", "text p95 ms"),
    ("with_image_p50_ms", "image+text p50 ms"),
    ("with_image_p95_ms", "image+text p95 ms"),
    ("batch32_utterances_per_s", "batch 32 utt/s"),
    ("load_s", "load s"),
    ("first_inference_ms", "first inference ms"),
    ("peak_rss_mb", "peak RSS MB"),
    ("text_only_gflop_per_s", "text GFLOP/s"),
    ("with_image_gflop_per_s", "image+text GFLOP/s"),
)


def transcripts(data: Path) -> list[str]:
    """The tweets of a CoNLL file as transcripts (tokens joined by spaces), in file order."""
    return [" ".join(sentence.tokens) for sentence in read_conll(data)]


def sample_images() -> list[np.ndarray]:
    """Photos shipped with scikit-image (RGB uint8), cycled so every iteration encodes a fresh image."""
    from skimage import data

    return [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]


def percentiles_ms(seconds: list[float]) -> tuple[float, float]:
    return float(np.percentile(seconds, 50) * 1000), float(np.percentile(seconds, 95) * 1000)


def peak_rss_mb() -> float:
    """High-water resident set of this process image (VmHWM; ``ru_maxrss`` would include the parent's
    memory at fork time)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmHWM line")


def measure(backend: str, model_dir: Path, data: Path, iterations: int) -> dict:
    """All figures of one backend, measured in this process (run it in a fresh one)."""
    from mlnet_ros.inference.backends import load_backend

    texts = transcripts(data)
    images = sample_images()
    started = time.perf_counter()
    recognizer = load_backend(model_dir, backend, DEVICES[backend])
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    recognizer.recognize(texts[0])
    first_inference_ms = (time.perf_counter() - started) * 1000

    text_only = []
    for i in range(iterations):
        started = time.perf_counter()
        recognizer.recognize(texts[i % len(texts)])
        text_only.append(time.perf_counter() - started)
    with_image = []
    for i in range(iterations):
        started = time.perf_counter()
        recognizer.recognize(texts[i % len(texts)], recognizer.encode_image(images[i % len(images)]))
        with_image.append(time.perf_counter() - started)
    started = time.perf_counter()
    for repeat in range(BATCH_REPEATS):
        recognizer.recognize_batch(texts[repeat * BATCH : (repeat + 1) * BATCH])
    batch_s = time.perf_counter() - started

    text_p50, text_p95 = percentiles_ms(text_only)
    image_p50, image_p95 = percentiles_ms(with_image)
    return {
        "text_only_p50_ms": text_p50,
        "text_only_p95_ms": text_p95,
        "with_image_p50_ms": image_p50,
        "with_image_p95_ms": image_p95,
        "batch32_utterances_per_s": BATCH * BATCH_REPEATS / batch_s,
        "load_s": load_s,
        "first_inference_ms": first_inference_ms,
        "peak_rss_mb": peak_rss_mb(),
        "iterations": iterations,
    }


def count_gflops(model_dir: Path, data: Path, iterations: int) -> dict[str, float]:
    """Mean GFLOPs per utterance of the benchmark's inputs, counted on the torch model: torch's FLOP
    counter (matmuls, convolutions, attention) plus 8·H·(I+H) FLOPs per LSTM step and direction,
    which the counter does not see."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from mlnet_ros.inference.backends import load_backend

    torch.set_num_threads(1)  # nothing is timed here; one thread cannot stall on busy cores
    recognizer = load_backend(model_dir, "torch")
    lstm_flops = []

    def count_lstm(module, inputs, output):
        sequence = inputs[0]  # a PackedSequence (char encoder) or a (batch, steps, features) tensor
        steps = sequence.data.shape[0] if hasattr(sequence, "batch_sizes") else sequence.shape[0] * sequence.shape[1]
        directions = 2 if module.bidirectional else 1
        lstm_flops.append(8 * module.hidden_size * (module.input_size + module.hidden_size) * steps * directions)

    hooks = [m.register_forward_hook(count_lstm) for m in recognizer.runner.model.modules() if isinstance(m, torch.nn.LSTM)]
    texts, images = transcripts(data), sample_images()

    def gflops(run) -> float:
        lstm_flops.clear()
        with FlopCounterMode(display=False) as counter:
            run()
        return (counter.get_total_flops() + sum(lstm_flops)) / 1e9

    count = min(iterations, len(texts))
    text_only = np.mean([gflops(lambda: recognizer.recognize(texts[i])) for i in range(count)])
    with_image = np.mean(
        [
            gflops(lambda: recognizer.recognize(texts[i], recognizer.encode_image(images[i % len(images)])))
            for i in range(min(count, len(images)))
        ]
    )
    for hook in hooks:
        hook.remove()
    return {"text_only_gflop": float(text_only), "with_image_gflop": float(with_image)}


def machine() -> dict:
    """CPU model, usable cores, OS and the versions of the inference packages present."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), platform.machine())
    versions = {"python": platform.python_version()}
    for package in ("torch", "onnxruntime", "tensorrt"):
        try:
            versions[package] = __import__(package).__version__
        except ImportError:
            pass
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "os": platform.platform(), "versions": versions}


def available_backends(requested: list[str]) -> tuple[list[str], dict[str, str]]:
    """The requested backends that can run here, and why the others cannot."""
    from mlnet_ros.inference.backends.tensorrt_backend import import_tensorrt

    skipped = {}
    if "tensorrt" in requested:
        try:
            import_tensorrt()
        except BackendUnavailable as error:
            skipped["tensorrt"] = str(error)
    return [b for b in requested if b not in skipped], skipped


def run_worker(backend: str, model_dir: Path, data: Path, iterations: int) -> dict:
    """``measure`` in a fresh Python process."""
    command = [sys.executable, "-m", "mlnet_ros.cli.bench", "--worker", backend, "--model", str(model_dir),
               "--data", str(data), "--iterations", str(iterations)]
    result = subprocess.run(command, stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def format_table(results: dict) -> str:
    lines = ["| backend | " + " | ".join(title for _, title in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for backend, figures in results.items():
        cells = [f"{figures[key]:.1f}" if key in figures else "–" for key, _ in COLUMNS]
        lines.append(f"| {backend} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report_markdown(
    results: dict, info: dict, skipped: dict, gflops: dict, command: str, model: str, iterations: int
) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    lines = [
        f"### mlnet_bench run, {when}",
        "",
        f"Machine: {info['cpu']}, {info['cores']} usable cores, {info['os']}; {versions}.",
        f"Model: {model}. Command: `{command}`",
        "",
        format_table(results),
        "",
        f"Latency percentiles over {iterations} utterances each; batch throughput over {BATCH_REPEATS} batches "
        f"of {BATCH}. Per utterance: {gflops['text_only_gflop']:.2f} GFLOPs text only, "
        f"{gflops['with_image_gflop']:.2f} GFLOPs with a fresh image (encode_image + recognize), "
        "counted on the torch model.",
    ]
    if "torch" in results and "onnxruntime" in results:
        torch_run, onnx_run = results["torch"], results["onnxruntime"]
        lines.append(
            f"onnxruntime vs torch: {torch_run['text_only_p50_ms'] / onnx_run['text_only_p50_ms']:.1f}x (text p50), "
            f"{torch_run['with_image_p50_ms'] / onnx_run['with_image_p50_ms']:.1f}x (image+text p50)."
        )
    lines += [f"Not run: {backend} ({reason})." for backend, reason in skipped.items()]
    return "\n".join(lines) + "\n"


def append_report(report: str, path: Path = BENCHMARKS_MD) -> None:
    """Insert ``report`` at the end of the SECTION of ``path`` (the section is added if missing)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n"
    start = text.index(SECTION) + len(SECTION)
    following = text.find("\n## ", start)
    end = len(text) if following < 0 else following + 1
    text = text[:end].rstrip("\n") + "\n\n" + report + ("\n" + text[end:] if end < len(text) else "")
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlnet_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS), help=f"comma-separated, of {', '.join(BACKENDS)}")
    parser.add_argument("--iterations", type=int, default=20, help="utterances timed per latency figure")
    parser.add_argument("--model", type=Path, default=default_model_dir(), help="checkpoint (default: embedded model)")
    parser.add_argument("--data", type=Path, help="CoNLL file of utterances (default: Twitter-2017 test)")
    parser.add_argument("--json", type=Path, help="also write the figures here, keyed by backend")
    parser.add_argument("--no-append", action="store_true", help=f"do not append the run to {BENCHMARKS_MD.name}")
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data = args.data or DEFAULT_DATA_DIR / "twitter2017" / "test.txt"
    if args.worker:
        print(json.dumps(measure(args.worker, args.model, data, args.iterations)))
        return 0

    requested = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(requested) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backends {unknown}; choose from {', '.join(BACKENDS)}")
    try:
        read_config(args.model)
        transcripts(data)
    except (ModelLoadError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    backends, skipped = available_backends(requested)
    if set(backends) & {"onnxruntime", "tensorrt"}:
        ensure_export(args.model)  # export once, outside the timed loads
    results = {}
    for backend in backends:
        print(f"measuring {backend} ...", file=sys.stderr, flush=True)
        results[backend] = run_worker(backend, args.model, data, args.iterations)
    gflops = count_gflops(args.model, data, args.iterations)
    for figures in results.values():
        figures["text_only_gflop"] = gflops["text_only_gflop"]
        figures["with_image_gflop"] = gflops["with_image_gflop"]
        figures["text_only_gflop_per_s"] = gflops["text_only_gflop"] / (figures["text_only_p50_ms"] / 1000)
        figures["with_image_gflop_per_s"] = gflops["with_image_gflop"] / (figures["with_image_p50_ms"] / 1000)
    info = machine()
    threads = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} " if "OMP_NUM_THREADS" in os.environ else ""
    command = threads + "mlnet_bench " + " ".join(sys.argv[1:] if argv is None else argv)
    model = f"{args.model} (model.safetensors sha256 {checkpoint_hash(args.model)[:12]})"
    report = report_markdown(results, info, skipped, gflops, command, model, args.iterations)
    print(report)
    if args.json:
        machine_info = {**info, "backends_not_run": skipped}
        args.json.write_text(json.dumps({**results, "machine": machine_info}, indent=2) + "\n")
    if not args.no_append:
        if BENCHMARKS_MD.parent.is_dir():
            append_report(report)
        else:
            print(f"{BENCHMARKS_MD.parent}: no docs directory beside the sources; report not appended", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
