"""``mlnet_bench``: latency, throughput, load time, warm-up and memory of each inference backend.

Every backend is measured in a fresh subprocess (honest load times and peak RSS), one after the
other in one run, on Twitter-2017 test tweets (``../shared/data`` beside the source tree), or on
``--data FILE``, or, when neither is there (a colcon install), on built-in robot-style sentences.
Prints a table on stdout and writes JSON with ``--json``; ``--append-docs`` appends the run to the
"Inference backends (issue 5)" section of the source tree's docs/BENCHMARKS.md.

``--model`` takes a checkpoint or a deploy bundle (``mlnet_export --out``; the torch row is then not
run and no FLOPs are counted); each ``--bundle DIR`` adds an onnxruntime row for that bundle
("onnxruntime (fp32 bundle)", "onnxruntime (int8 bundle)") to the same run. Every row records
``start_to_first_answer_s``: from the measuring process's start (a fresh Python) to its first answer.

User mistakes (missing model or data, bad --backends or --iterations, unwritable --json path,
--append-docs outside a source tree) print one line on stderr and exit with status 2; a run in
which no requested backend can run, or a measuring subprocess fails, exits with status 1.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mlnet_ros.cli.tag import UsageError
from mlnet_ros.core.checkpoint_files import ModelLoadError, read_config
from mlnet_ros.core.conll import DataError, read_conll
from mlnet_ros.inference.backends import BACKENDS, BackendUnavailable
from mlnet_ros.inference.bundle import is_bundle, verify_bundle
from mlnet_ros.inference.export_format import SIDECAR, checkpoint_hash
from mlnet_ros.paths import default_model_dir

SOURCE_TREE = Path(__file__).resolve().parents[2]  # the repository, when this runs from a checkout
BENCHMARKS_MD = SOURCE_TREE / "docs" / "BENCHMARKS.md"
RUNTIME_LOCK = SOURCE_TREE / "requirements-runtime.lock"
DEFAULT_DATA = SOURCE_TREE.parent / "shared" / "data" / "twitter2017" / "test.txt"
SECTION = "## Inference backends (issue 5)"
# Spoken-style requests to a service robot, with people, places, organisations and products.
BUILTIN_UTTERANCES = (
    "please bring this cup to Maria in the kitchen",
    "take me to the Louvre",
    "tell John Smith that the meeting with Siemens moved to Friday",
    "is this the way to Heathrow airport",
    "go to the charging station next to room 204",
    "call Anna and say I am at the Hilton in Berlin",
    "what time does the Apple store on Fifth Avenue open",
    "follow Dr. Chen to the radiology department",
    "put the Coca-Cola cans on the second shelf",
    "show me the route to Central Park",
    "remind Peter to send the report to Bosch tomorrow",
    "this is Eileen Collins she flew for NASA",
    "where is the Starbucks near Alexanderplatz",
    "hand the iPhone to the man in the blue jacket",
    "the delivery from Amazon goes to the front desk",
    "drive to gate B12 and wait for Professor Okafor",
    "play the new Taylor Swift album in the lobby",
    "is Lisa still in the Toyota showroom",
    "find the nearest pharmacy in Shibuya",
    "bring the Lego set to the children's ward",
    "ask Mohammed whether the Microsoft visitors have arrived",
    "we are going to Lake Geneva on Saturday",
    "Carlos left his Nike bag in the cafeteria",
    "guide the visitors from Toyota to meeting room Everest",
    "tell the nurse that Mr. Dubois needs water",
    "what is the weather like in Barcelona today",
    "pick up the package for Sophie from the DHL van",
    "take this letter to the United Nations office on floor three",
    "is the Tesla parked outside the Marriott",
    "Kenji wants to watch the Real Madrid game",
    "open the door for the Red Cross volunteers",
    "say hello to Grandma Rosa from Naples",
)
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
    ("start_to_first_answer_s", "start → first answer s"),
    ("peak_rss_mb", "peak RSS MB"),
    ("text_only_gflop_per_s", "text GFLOP/s"),
    ("with_image_gflop_per_s", "image+text GFLOP/s"),
)


class BenchFailed(RuntimeError):
    """The run measured nothing, or a measuring subprocess failed (exit status 1)."""


def utterances(data: Path | None) -> tuple[list[str], str]:
    """The transcripts to time (a CoNLL file's sentences, tokens joined by spaces, in file order) and
    where they come from: ``data``, else Twitter-2017 test if present, else BUILTIN_UTTERANCES."""
    if data is None and not DEFAULT_DATA.is_file():
        return list(BUILTIN_UTTERANCES), (
            f"{len(BUILTIN_UTTERANCES)} built-in robot-style sentences "
            f"(no Twitter-2017 test at {DEFAULT_DATA}; pass --data FILE for a CoNLL file)"
        )
    path = data or DEFAULT_DATA
    try:
        texts = [" ".join(sentence.tokens) for sentence in read_conll(path)]
    except DataError as error:
        raise UsageError(f"--data: {error}") from None
    return texts, f"{len(texts)} sentences of {path}"


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


def measure(backend: str, model_dir: Path, texts: list[str], iterations: int, process_started: float) -> dict:
    """All figures of one backend, measured in this process (run it in a fresh one, started at
    ``process_started``, a ``time.time()``)."""
    from mlnet_ros.inference.backends import load_backend

    started = time.perf_counter()
    recognizer = load_backend(model_dir, backend, DEVICES[backend])
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    recognizer.recognize(texts[0])
    first_inference_ms = (time.perf_counter() - started) * 1000
    start_to_first_answer_s = time.time() - process_started
    images = sample_images()

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
    batches = [[texts[(r * BATCH + i) % len(texts)] for i in range(BATCH)] for r in range(BATCH_REPEATS)]
    started = time.perf_counter()
    for batch in batches:
        recognizer.recognize_batch(batch)
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
        "start_to_first_answer_s": start_to_first_answer_s,
        "peak_rss_mb": peak_rss_mb(),
        "iterations": iterations,
    }


def torch_pipeline(model_dir: Path):
    """The torch recognizer and the nn.Module it runs: what ``count_gflops`` counts on (the one
    place that names the torch pipeline's class)."""
    from mlnet_ros.inference.backends import load_backend

    recognizer = load_backend(model_dir, "torch")
    return recognizer, recognizer.runner.model


def count_gflops(model_dir: Path, texts: list[str], iterations: int) -> dict[str, float]:
    """Mean GFLOPs per utterance of the benchmark's inputs, counted on the torch model: torch's FLOP
    counter (matmuls, convolutions, attention) plus 8·H·(I+H) FLOPs per LSTM step and direction,
    which the counter does not see."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    torch.set_num_threads(1)  # nothing is timed here; one thread cannot stall on busy cores
    recognizer, model = torch_pipeline(model_dir)
    lstm_flops = []

    def count_lstm(module, inputs, output):
        sequence = inputs[0]  # a PackedSequence (char encoder) or a (batch, steps, features) tensor
        steps = sequence.data.shape[0] if hasattr(sequence, "batch_sizes") else sequence.shape[0] * sequence.shape[1]
        directions = 2 if module.bidirectional else 1
        lstm_flops.append(8 * module.hidden_size * (module.input_size + module.hidden_size) * steps * directions)

    hooks = [m.register_forward_hook(count_lstm) for m in model.modules() if isinstance(m, torch.nn.LSTM)]
    images = sample_images()

    def gflops(run) -> float:
        lstm_flops.clear()
        with FlopCounterMode(display=False) as counter:
            run()
        return (counter.get_total_flops() + sum(lstm_flops)) / 1e9

    count = min(iterations, len(texts))
    text_only = np.mean([gflops(lambda i=i: recognizer.recognize(texts[i])) for i in range(count)])
    with_image = np.mean(
        [
            gflops(lambda i=i: recognizer.recognize(texts[i], recognizer.encode_image(images[i % len(images)])))
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
        with contextlib.suppress(ImportError):
            versions[package] = __import__(package).__version__
    info = {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "os": platform.platform(), "versions": versions}
    runtime_mb = runtime_install_mb()
    if runtime_mb is not None:
        info["runtime_install_mb"] = runtime_mb
    return info


def runtime_install_mb() -> float | None:
    """Installed size of the packages of requirements-runtime.lock (the lean runtime, without Python and
    ROS), summed over their files in this environment; None outside a source tree or if one is absent."""
    import importlib.metadata

    if not RUNTIME_LOCK.is_file():
        return None
    total = 0
    for line in RUNTIME_LOCK.read_text().splitlines():
        name = line.split("==")[0].strip()
        if not name or name.startswith("#"):
            continue
        try:
            files = importlib.metadata.distribution(name).files or []
        except importlib.metadata.PackageNotFoundError:
            return None
        total += sum(file.locate().stat().st_size for file in files if file.locate().is_file())
    return total / 2**20


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


def nothing_to_measure(skipped: dict[str, str]) -> BenchFailed:
    """The error of a run in which none of the requested backends can run, saying why for each."""
    return BenchFailed("no backend could run here: " + "; ".join(f"{b} ({r})" for b, r in skipped.items()))


def run_worker(backend: str, model_dir: Path, texts: list[str], iterations: int) -> dict:
    """``measure`` in a fresh Python process (the texts go on its stdin): the figures, or
    ``{"not_run": reason}`` when the backend turns out unavailable there."""
    command = [sys.executable, "-m", "mlnet_ros.cli.bench", "--worker", backend, "--model", str(model_dir),
               "--iterations", str(iterations), "--started-at", repr(time.time())]
    result = subprocess.run(command, input=json.dumps(texts), stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise BenchFailed(f"measuring {backend} failed (exit status {result.returncode}; its messages are above)")
    return json.loads(result.stdout.strip().splitlines()[-1])


def worker(backend: str, model_dir: Path, iterations: int, process_started: float) -> int:
    """The subprocess side of ``run_worker``: one JSON line on stdout."""
    try:
        figures = measure(backend, model_dir, json.loads(sys.stdin.read()), iterations, process_started)
    except BackendUnavailable as error:
        figures = {"not_run": str(error)}
    print(json.dumps(figures))
    return 0


def format_table(results: dict) -> str:
    lines = ["| backend | " + " | ".join(title for _, title in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for backend, figures in results.items():
        cells = [f"{figures[key]:.1f}" if key in figures else "–" for key, _ in COLUMNS]
        lines.append(f"| {backend} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report_markdown(
    results: dict, info: dict, skipped: dict, gflops: dict | None, command: str, model: str, source: str,
    iterations: int,
) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    counted = "" if gflops is None else (
        f" Per utterance: {gflops['text_only_gflop']:.2f} GFLOPs text only, "
        f"{gflops['with_image_gflop']:.2f} GFLOPs with a fresh image (encode_image + recognize), "
        "counted on the torch model."
    )
    lines = [
        f"### mlnet_bench run, {when}",
        "",
        f"Machine: {info['cpu']}, {info['cores']} usable cores, {info['os']}; {versions}.",
        f"Model: {model}. Utterances: {source}. Command: `{command}`",
        "",
        format_table(results),
        "",
        f"Latency percentiles over {iterations} utterances each; batch throughput over {BATCH_REPEATS} batches "
        f"of {BATCH}; start → first answer from a fresh Python process.{counted}",
    ]
    if "runtime_install_mb" in info:
        lines.append(f"Runtime packages (requirements-runtime.lock) installed here: {info['runtime_install_mb']:.0f} MB.")
    if "torch" in results:
        torch_run = results["torch"]
        lines += [
            f"{name} vs torch: {torch_run['text_only_p50_ms'] / run['text_only_p50_ms']:.1f}x (text p50), "
            f"{torch_run['with_image_p50_ms'] / run['with_image_p50_ms']:.1f}x (image+text p50)."
            for name, run in results.items() if name != "torch"
        ]
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


def requested_backends(text: str) -> list[str]:
    """The comma-separated ``--backends`` value as a list, in order, each once."""
    requested = list(dict.fromkeys(b.strip() for b in text.split(",") if b.strip()))
    unknown = [b for b in requested if b not in BACKENDS]
    if unknown or not requested:
        raise UsageError(f"--backends {text!r}: choose one or more of {', '.join(BACKENDS)}, comma-separated")
    return requested


def check_writable(path: Path) -> None:
    """Raise UsageError unless ``path`` can be written as a file (checked before minutes of measuring)."""
    directory = path.parent
    if path.is_dir():
        raise UsageError(f"--json {path}: is a directory")
    if not directory.is_dir():
        raise UsageError(f"--json {path}: directory {directory} does not exist")
    if not os.access(path if path.exists() else directory, os.W_OK):
        raise UsageError(f"--json {path}: not writable")


def docs_file() -> Path:
    """docs/BENCHMARKS.md of the source tree this code runs from; UsageError from an install."""
    if not ((SOURCE_TREE / "package.xml").is_file() and BENCHMARKS_MD.is_file()):
        raise UsageError(
            f"--append-docs: this mlnet_bench runs from {SOURCE_TREE}, not from a source checkout with "
            "docs/BENCHMARKS.md; run it from the source tree's venv, or leave out --append-docs"
        )
    return BENCHMARKS_MD


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mlnet_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS), help=f"comma-separated, of {', '.join(BACKENDS)}")
    parser.add_argument("--iterations", type=int, default=20, help="utterances timed per latency figure")
    parser.add_argument("--model", type=Path, default=default_model_dir(),
                        help="checkpoint or deploy bundle (default: embedded model)")
    parser.add_argument("--bundle", type=Path, action="append", default=[],
                        help="also measure this deploy bundle with onnxruntime (repeatable)")
    parser.add_argument("--data", type=Path, help="CoNLL file of utterances (default: Twitter-2017 test)")
    parser.add_argument("--json", type=Path, help="also write the figures here, keyed by backend")
    parser.add_argument("--append-docs", action="store_true", help="append the run to the source tree's docs/BENCHMARKS.md")
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--started-at", type=float, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def describe_bundle(directory: Path, option: str) -> str:
    """"fp32" or "int8" (its text graph) for a verified deploy bundle; UsageError naming ``option`` otherwise."""
    try:
        export = verify_bundle(directory)
    except ModelLoadError as error:
        raise UsageError(f"{option}: {error}") from None
    return "int8" if export.int8() else "fp32"


def bundle_runs(bundles: list[Path]) -> list[tuple[str, str, Path]]:
    """(row name, backend, directory) of each ``--bundle``: "onnxruntime (fp32 bundle)" and the like."""
    runs = []
    for directory in bundles:
        if not is_bundle(directory):
            raise UsageError(f"--bundle {directory}: not a deploy bundle (no {SIDECAR}; make one with mlnet_export --out)")
        name = f"onnxruntime ({describe_bundle(directory, '--bundle')} bundle)"
        if name in (run[0] for run in runs):
            name = f"{name[:-1]} {directory.name})"
        runs.append((name, "onnxruntime", directory))
    return runs


def bench(args: argparse.Namespace, command: str) -> int:
    """Check the arguments, measure, print the report and write what was asked for."""
    requested = requested_backends(args.backends)
    if args.iterations < 1:
        raise UsageError(f"--iterations {args.iterations}: must be at least 1")
    if args.json:
        check_writable(args.json)
    docs = docs_file() if args.append_docs else None
    texts, source = utterances(args.data)
    backends, skipped = available_backends(requested)
    if not backends:
        raise nothing_to_measure(skipped)
    runs = [(backend, backend, args.model) for backend in backends] + bundle_runs(args.bundle)
    if is_bundle(args.model):
        model, gflops = f"{args.model} (deploy bundle: {describe_bundle(args.model, '--model')})", None
    else:
        try:
            read_config(args.model)
            model = f"{args.model} (model.safetensors sha256 {checkpoint_hash(args.model)[:12]})"
            print("counting FLOPs on the torch model ...", file=sys.stderr, flush=True)
            gflops = count_gflops(args.model, texts, args.iterations)  # loads the model: fails early on a bad one
        except ModelLoadError as error:
            raise UsageError(f"--model: {error}") from None
        if set(backends) & {"onnxruntime", "tensorrt"}:
            from mlnet_ros.inference.onnx_export import ensure_export  # torch and onnx

            ensure_export(args.model)  # export once, outside the timed loads
    results = {}
    for name, backend, model_dir in runs:
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        figures = run_worker(backend, model_dir, texts, args.iterations)
        if "not_run" in figures:
            skipped[name] = figures["not_run"]
            continue
        if gflops is not None:
            figures["text_only_gflop"] = gflops["text_only_gflop"]
            figures["with_image_gflop"] = gflops["with_image_gflop"]
            figures["text_only_gflop_per_s"] = gflops["text_only_gflop"] / (figures["text_only_p50_ms"] / 1000)
            figures["with_image_gflop_per_s"] = gflops["with_image_gflop"] / (figures["with_image_p50_ms"] / 1000)
        if model_dir != args.model:
            figures["bundle"] = str(model_dir)
        results[name] = figures
    if not results:
        raise nothing_to_measure(skipped)
    info = machine()
    report = report_markdown(results, info, skipped, gflops, command, model, source, args.iterations)
    print(report)
    if args.json:
        document = {**results, "machine": {**info, "backends_not_run": skipped, "utterances": source}}
        try:
            args.json.write_text(json.dumps(document, indent=2) + "\n")
        except OSError as error:
            raise UsageError(f"--json {args.json}: {error.strerror}") from None
    if docs:
        append_report(report, docs)
        print(f"appended the run to {docs}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args.worker, args.model, args.iterations, args.started_at)
    threads = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} " if "OMP_NUM_THREADS" in os.environ else ""
    command = threads + "mlnet_bench " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        return bench(args, command)
    except UsageError as error:
        print(f"mlnet_bench: error: {error}", file=sys.stderr)
        return 2
    except BenchFailed as error:
        print(f"mlnet_bench: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
