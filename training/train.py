"""NER training: AdamW, linear warmup/decay, model selection on dev F1, test scored once at the end."""
from __future__ import annotations

import dataclasses
import json
import logging
import random
import resource
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from mlnet_ros.core.checkpoint_files import CONFIG_FILE, LABELS_FILE, WEIGHTS_FILE, read_config
from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.core.text_inputs import WordPieceTokenizer
from mlnet_ros.inference.backends.torch_runner import TorchRunner
from mlnet_ros.inference.tagging import WordTagging, tag_words
from mlnet_ros.model.checkpoint import load_checkpoint, save_checkpoint
from mlnet_ros.model.modeling import MLNetModel
from mlnet_ros.model.pretrained import build_model, load_tokenizer
from training.data import Sentence
from training.devices import Precision
from training.distributed import Distributed
from training.examples import batches, make_examples
from training.label_set import carry_weights
from training.metrics import entity_scores
from training.objective import NerObjective, batch_features
from training.resume import Progress, TrainingParts, examples_fingerprint, load_state, save_state
from training.speech_form import SpeechAugmentation, augment
from training.tensorboard_log import TrainingLog
from training.tweet_images import TweetImages, sentence_regions
from training.visual_check import VisualSet

log = logging.getLogger("training")


@dataclass
class TrainSettings:
    epochs: int = 4
    batch_size: int = 16
    encoder_lr: float = 5e-5
    head_lr: float = 1e-3
    warmup: float = 0.1
    match_weight: float = 1.0
    grounding_weight: float = 1.0  # cross-attention onto the target crops of composed scenes' entities
    seed: int = 13
    precision: str = "fp32"  # fp32, bf16 or fp16 (autocast; see training.devices)
    speech_share: float = 0.0  # share of sentences re-drawn each epoch in spoken form (see training.speech_form)
    speech_filler_rate: float = 0.3
    speech_repeat_rate: float = 0.2

    def speech_augmentation(self) -> SpeechAugmentation | None:
        """The spoken-form augmentation of these settings, or None when ``speech_share`` is 0."""
        if not self.speech_share:
            return None
        return SpeechAugmentation(self.speech_share, filler_rate=self.speech_filler_rate,
                                  repeat_rate=self.speech_repeat_rate)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parameter_groups(
    model: MLNetModel, encoder_lr: float, head_lr: float, extra_head_parameters: Sequence[torch.nn.Parameter] = ()
) -> list[dict]:
    """Optimizer groups: the trainable text-encoder layers at ``encoder_lr``; the other trainable
    parameters, then ``extra_head_parameters`` (e.g. of pretraining heads), at ``head_lr``."""
    encoder, head = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (encoder if name.startswith("text_encoder.") else head).append(p)
    return [{"params": encoder, "lr": encoder_lr}, {"params": head + list(extra_head_parameters), "lr": head_lr}]


def optimizer_for(model: MLNetModel, settings: TrainSettings, total_steps: int):
    """AdamW with the encoder's small lr and the head's large lr; linear warmup then linear decay."""
    groups = parameter_groups(model, settings.encoder_lr, settings.head_lr)
    optimizer = torch.optim.AdamW(groups, weight_decay=0.01)
    warmup = max(1, int(settings.warmup * total_steps))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def tag_sentences(
    model: MLNetModel, tokenizer: WordPieceTokenizer, sentences: list[Sentence], images: TweetImages | None = None
) -> list[WordTagging]:
    """The tagging of each sentence, with its image where ``images`` has one (else text only); leaves
    ``model`` in eval mode."""
    runner = TorchRunner(model, next(model.parameters()).device)  # eval mode before the image layers run too
    regions = sentence_regions(model, images, len(sentences))
    return tag_words(runner, tokenizer, [s.tokens for s in sentences], regions)


def predict_tags(
    model: MLNetModel, tokenizer: WordPieceTokenizer, sentences: list[Sentence], images: TweetImages | None = None
) -> list[list[str]]:
    """Predicted tags of each sentence (see ``tag_sentences``)."""
    return [t.tags for t in tag_sentences(model, tokenizer, sentences, images)]


def spoken_share(pairs: list[tuple[list[str], list[str]]], speech: SpeechAugmentation | None,
                 rng: random.Random) -> list[tuple[list[str], list[str]]]:
    """(tokens, tags) pairs with ``speech.share`` of them in spoken form (same order and length); a
    sentence that the spoken form would leave empty (punctuation only) stays as written."""
    if speech is None:
        return pairs
    spoken = augment([Sentence(None, list(tokens), list(tags)) for tokens, tags in pairs], speech, rng)
    return [(s.tokens, s.tags) if s.tokens else pair for s, pair in zip(spoken, pairs, strict=True)]


def train(
    config: MLNetConfig,
    train_sentences: list[Sentence],
    valid_sentences: list[Sentence],
    out_dir: Path,
    settings: TrainSettings,
    visual: VisualSet | None = None,
    init_dir: Path | None = None,
    command: str = "",
    train_images: TweetImages | None = None,
    valid_images: TweetImages | None = None,
    device: str | torch.device = "cpu",
    distributed: Distributed | None = None,
    resume_dir: Path | None = None,
) -> tuple[MLNetModel, WordPieceTokenizer, dict]:
    """Train, keep the checkpoint with the best valid F1 in ``out_dir``; returns (best model, tokenizer, history).

    The model predicts ``config.labels``; from ``init_dir`` it takes the architecture and the weights
    (emission and CRF rows by label name), with ``config.proposer`` as its region proposer.
    ``visual`` pairs carry matching labels; tweets with their own image (``train_images``) do not.
    The model trains on ``device`` in ``settings.precision``;
    the returned best model is on ``device`` too. Under torchrun (``distributed``) each process trains
    on its share of every batch and rank 0 evaluates, saves and writes the history. Every epoch ends
    with a resumable state in ``out_dir/resume``; ``resume_dir`` (an interrupted run's ``out_dir``)
    continues from its newest one.
    """
    device = torch.device(device)
    precision = Precision(settings.precision, device)
    distributed = distributed or Distributed()
    set_seed(settings.seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    init_training = None  # what produced the starting checkpoint, recorded with the result
    if init_dir is not None:
        start, tokenizer = load_checkpoint(init_dir, expected_preset=config.preset)
        init_training = {"dir": str(init_dir), **read_config(init_dir)[1]["training"]}
        # the checkpoint's architecture, with the requested labels and region proposer
        config = dataclasses.replace(start.config, labels=config.labels, proposer=config.proposer)
        model = build_model(config)
        carry_weights(start, model)
        del start
    else:
        model = build_model(config)
        tokenizer = load_tokenizer(config)
    pools = [visual.features] if visual is not None else []
    tweet_rows = None
    if train_images is not None:
        offset = len(visual.features) if visual is not None else 0
        tweet_rows = [None if row is None else offset + row for row in train_images.rows]
        pools.append(train_images.features)
    image_pool = torch.cat(pools) if pools else None
    model.to(device)
    objective = distributed.wrap(NerObjective(model, settings.match_weight, settings.grounding_weight), device)
    scaler = precision.grad_scaler()
    speech = settings.speech_augmentation()
    twitter_pairs = [(s.tokens, s.tags) for s in train_sentences]
    visual_pairs = list(zip(visual.tokens, visual.tags, strict=True)) if visual is not None else []

    def epoch_examples(epoch: int) -> list:
        """The training examples of ``epoch`` (0: as written); with speech augmentation, a new spoken share each epoch."""
        speech_rng = random.Random(f"speech-{settings.seed}-{epoch}")
        chosen = speech if epoch else None
        examples = make_examples(tokenizer, config, spoken_share(twitter_pairs, chosen, speech_rng), tweet_rows)
        if visual is not None:
            examples += make_examples(tokenizer, config, spoken_share(visual_pairs, chosen, speech_rng), visual.image,
                                      visual.match, visual.grounding)
        return examples

    examples = epoch_examples(0)
    rng = random.Random(settings.seed)
    steps_per_epoch = len(batches(examples, settings.batch_size, random.Random(0)))
    optimizer, scheduler = optimizer_for(model, settings, steps_per_epoch * settings.epochs)
    parts = TrainingParts(model, optimizer, scheduler, scaler, rng)
    identity = {"settings": settings.__dict__, "config": json.loads(config.to_json()),
                "examples": examples_fingerprint(examples)}
    progress = Progress(0, -1.0, {"step_loss": [], "epochs": []}, init_training)
    if resume_dir is not None:
        progress = load_state(resume_dir, parts, identity, distributed)
        if distributed.is_main and Path(resume_dir).resolve() != out_dir.resolve():
            for name in (CONFIG_FILE, LABELS_FILE, WEIGHTS_FILE):  # the best checkpoint so far
                shutil.copy2(Path(resume_dir) / name, out_dir / name)
    history, best_f1, init_training = progress.history, progress.best_f1, progress.init
    board = TrainingLog(out_dir, distributed.is_main, len(history["step_loss"]))
    for epoch in range(progress.epoch + 1, settings.epochs + 1):
        model.train()
        started = time.time()
        if speech is not None:
            examples = epoch_examples(epoch)
        bar = tqdm(batches(examples, settings.batch_size, rng), desc=f"epoch {epoch}", mininterval=30,
                   disable=not distributed.is_main)
        for batch in bar:
            part, weight = distributed.shard(batch)
            with precision.autocast():
                loss = objective(part, batch_features(part, image_pool)) * weight
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            model.crf.pin_forbidden()
            history["step_loss"].append(distributed.mean(loss))  # the global batch's mean loss
            board.step(len(history["step_loss"]), history["step_loss"][-1],
                       dict(zip(("encoder", "head"), scheduler.get_last_lr(), strict=True)))
            bar.set_postfix(loss=f"{history['step_loss'][-1]:.3f}", refresh=False)
        epoch_seconds = time.time() - started
        scores = None
        if distributed.is_main:
            gold = [s.tags for s in valid_sentences]
            scores = entity_scores(gold, predict_tags(model, tokenizer, valid_sentences, valid_images))
            board.epoch(epoch, scores)
        valid_f1 = distributed.from_main(scores["overall"]["f1"] if scores else None)
        record = {"epoch": epoch, "seconds": round(epoch_seconds, 1), "valid_f1": round(valid_f1, 2),
                  "mean_loss": float(np.mean(history["step_loss"][-steps_per_epoch:])),
                  "peak_rss_mb": round(peak_rss_mb())}
        history["epochs"].append(record)
        log.info("epoch %d: %s", epoch, record)
        if valid_f1 > best_f1:
            best_f1 = valid_f1
            info = {"command": command, "best_epoch": epoch, "valid_f1": round(valid_f1, 2),
                    "settings": settings.__dict__, "train_sentences": len(train_sentences),
                    "visual_pairs": len(visual.tokens) if visual else 0, "init": init_training,
                    "speech_augmentation": speech.to_dict() if speech else None,
                    "processes": distributed.world_size}
            if distributed.is_main:
                save_checkpoint(model, out_dir, info)
        if distributed.is_main:
            (out_dir.parent / f"{out_dir.name}_history.json").write_text(json.dumps(history))
        save_state(out_dir, parts, Progress(epoch, best_f1, history, init_training), identity, distributed)
    board.close()
    distributed.barrier()  # rank 0 has written (or copied) the best checkpoint
    best_model, tokenizer = load_checkpoint(out_dir)
    return best_model.to(device), tokenizer, history

