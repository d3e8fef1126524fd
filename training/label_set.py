"""The label set of a training run, and carrying a checkpoint's weights over to another label set.

Types come from ``--types`` when given, else from the training files; fine-tuning a checkpoint
(``--init``) keeps its types first and adds the new ones. Emission rows (the classifier) and CRF
rows/columns are copied by label name; labels the checkpoint lacks keep their fresh initialisation.
"""
from __future__ import annotations

import re
from collections.abc import Collection

import torch

from mlnet_ros.core.labels import ENTITY_TYPES
from mlnet_ros.model.modeling import MLNetModel
from training.data import DataError

TYPE_PATTERN = re.compile(r"[^\s,]+")
# Parameters with one entry per label along these dimensions; every other trainable tensor is copied whole.
LABEL_DIMENSIONS = {
    "classifier.weight": (0,),
    "classifier.bias": (0,),
    "crf.crf.start_transitions": (0,),
    "crf.crf.end_transitions": (0,),
    "crf.crf.transitions": (0, 1),
}


def label_types(labels: tuple[str, ...]) -> tuple[str, ...]:
    """The entity types of a BIO label set, in label order."""
    return tuple(label[2:] for label in labels if label.startswith("B-"))


def parse_types(text: str) -> tuple[str, ...]:
    """``"ROOM,OBJECT"`` → ("ROOM", "OBJECT"); an empty, repeated or blank-containing type is a DataError."""
    types = tuple(t.strip() for t in text.split(","))
    for kind in types:
        if not TYPE_PATTERN.fullmatch(kind):
            raise DataError(f"--types {text!r}: {kind!r} is not a type name (no blanks, no commas, not empty)")
    if len(set(types)) != len(types):
        raise DataError(f"--types {text!r}: a type is listed twice")
    return types


def run_types(train_types: Collection[str], requested: tuple[str, ...] | None,
              init_types: tuple[str, ...] | None) -> tuple[str, ...]:
    """The types a run trains: ``requested`` (--types) if given; else the checkpoint's types (--init)
    followed by the training files' new ones; else the training files' types, the default four
    first in their usual order, the others sorted."""
    if requested:
        return requested
    if not train_types:
        raise DataError("the --train files tag no entity (every tag is O)")
    known = init_types or tuple(t for t in ENTITY_TYPES if t in train_types)
    return known + tuple(sorted(set(train_types) - set(known)))


def carry_weights(source: MLNetModel, target: MLNetModel) -> None:
    """Copy ``source``'s trainable weights into ``target`` (same architecture, any label set)."""
    source_index = {label: i for i, label in enumerate(source.config.labels)}
    pairs = [(i, source_index[label]) for i, label in enumerate(target.config.labels) if label in source_index]
    to_rows = torch.tensor([t for t, _ in pairs], dtype=torch.long)
    from_rows = torch.tensor([s for _, s in pairs], dtype=torch.long)
    stored = source.trainable_state_dict()
    with torch.no_grad():
        for name, parameter in target.named_parameters():
            if not parameter.requires_grad:
                continue
            value = stored[name]
            dims = LABEL_DIMENSIONS.get(name, ())
            if dims == (0,):
                parameter[to_rows] = value[from_rows].to(parameter.dtype)
            elif dims == (0, 1):
                parameter[to_rows.unsqueeze(1), to_rows] = value[from_rows.unsqueeze(1), from_rows].to(parameter.dtype)
            else:
                parameter.copy_(value)
    target.crf.pin_forbidden()
