"""The data of one training run: train / valid / named test sentences and the label set they imply.

Everything is read and checked before anything is logged or trained, so a bad file ends the run
with one line and no output.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from mlnet_ros.core.labels import bio_labels
from training.conll_files import entity_types, joined, log_summaries, read_tagged_files, run_files
from training.data import DataError, Sentence
from training.label_set import label_types, parse_types, run_types

log = logging.getLogger("training")


@dataclass
class RunData:
    train: list[Sentence]
    valid: list[Sentence]
    tests: dict[str, list[Sentence]]  # by name: a Twitter shorthand or the file's stem
    labels: tuple[str, ...]


def read_run_data(train: list[str], valid: list[str] | None, test: list[str] | None, data_dir: Path,
                  types: str | None = None, init_labels: tuple[str, ...] | None = None,
                  limit: int | None = None) -> RunData:
    """Read and check a run's files (``types``: the --types text; ``init_labels``: those of --init).

    Valid and test files may only tag types that the training files tag.
    """
    requested = parse_types(types) if types is not None else None
    train_paths, valid_paths, test_paths = run_files(train, valid, test, data_dir)
    train_files = read_tagged_files(train_paths, requested, "--types", limit)
    train_types = entity_types(joined(train_files))
    known = sorted(train_types)
    seen = "the types of the --train files"
    valid_files = read_tagged_files(valid_paths, known, seen, limit)
    test_files = {name: read_tagged_files([path], known, seen) for name, path in test_paths.items()}
    untrained = sorted(set(requested or ()) - train_types)
    if untrained:
        raise DataError(f"--types {types}: the --train files never tag {', '.join(untrained)}")
    labels = bio_labels(run_types(train_types, requested, label_types(init_labels) if init_labels else None))
    log_summaries("train", train_files)
    log_summaries("valid", valid_files)
    for name, files in test_files.items():
        log_summaries(f"test {name}", files)
    log.info("labels: %s", " ".join(labels))
    tests = {name: joined(files) for name, files in test_files.items()}
    return RunData(joined(train_files), joined(valid_files), tests, labels)
