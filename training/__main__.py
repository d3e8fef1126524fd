"""Command line: ``python -m training {train,evaluate,predict,ablate,cross,pretrain,visual-check} ...``.

User errors (missing or malformed files, unusable checkpoints) print one line and exit with 2.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import shlex
import sys
from pathlib import Path

import torch

from mlnet_ros.core.base_weights import BaseWeightsError
from mlnet_ros.core.checkpoint_files import ModelLoadError, read_config
from mlnet_ros.core.config import PROPOSERS, MLNetConfig
from mlnet_ros.model.checkpoint import load_checkpoint
from training.captions import DetectorCrops, caption_images, read_captions
from training.conll_files import DATASETS, joined, read_tagged_file, read_tagged_files, split_files
from training.data import DEFAULT_DATA_DIR, DataError, dataset_file, read_conll
from training.devices import PRECISIONS, Precision, resolve_device
from training.distributed import Distributed, start, stop
from training.errors import UsageError
from training.feature_cache import FeatureCache, default_cache_dir
from training.label_set import label_types
from training.metrics import entity_scores, format_scores
from training.plots import plot_history
from training.presets import BACKBONES, PRESETS, preset_config
from training.run_data import RunData, read_run_data
from training.speech_form import FORMS, in_form
from training.train import TrainSettings, peak_rss_mb, predict_tags, set_seed, tag_sentences, train

log = logging.getLogger("training")
CHECK_KNOWN_PAIRS = 100  # known-name pairs of the visual check (visual-check's default and the training report)


def model_types(model_dir: Path) -> tuple[str, ...]:
    """The entity types a checkpoint was trained with."""
    return label_types(read_config(model_dir)[0].labels)


def invoked_command() -> str:
    """This run's command line, as recorded in checkpoints."""
    return " ".join(map(shlex.quote, ["python", "-m", "training", *sys.argv[1:]]))


def write_predictions(path: Path, sentences, predicted: list[list[str]]) -> None:
    """``token<TAB>gold<TAB>predicted`` per line, a blank line between sentences."""
    blocks = ["\n".join(f"{t}\t{g}\t{p}" for t, g, p in zip(s.tokens, s.tags, tags, strict=True))
              for s, tags in zip(sentences, predicted, strict=True)]
    Path(path).write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


def images_for(model, sentences, args, what: str):
    """Tweet-image features for ``sentences`` when ``--images`` folders are given (counts logged), else None;
    through the ``--feature-cache`` and ``--workers`` of commands that have them."""
    if getattr(args, "random_images", None) is not None:
        from training.random_photos import random_photo_images

        images = random_photo_images(model, sentences, args.random_images)
        log.info("%s: each sentence paired with a random photo (seed %d)", what, args.random_images)
        return images
    if not args.images:
        return None
    from training.tweet_images import tweet_images

    cache = None
    if getattr(args, "feature_cache", None):
        cache = FeatureCache(args.feature_cache, model.config, model.config.proposer)
    images = tweet_images(model, sentences, args.images, cache, getattr(args, "workers", 0))
    log.info("%s %s", what, images.counts)
    return images


def test_report(model, tokenizer, test_sets: dict[str, list], out_prefix: Path, args) -> dict:
    """Score each named test set once; write predictions next to ``out_prefix``."""
    report = {}
    for name, sentences in test_sets.items():
        images = images_for(model, sentences, args, f"test {name}")
        predicted = predict_tags(model, tokenizer, sentences, images)
        scores = entity_scores([s.tags for s in sentences], predicted)
        write_predictions(Path(f"{out_prefix}_{name}_test.conll"), sentences, predicted)
        log.info("test %s\n%s", name, format_scores(scores))
        report[name] = scores
        if images is not None:
            report[name]["images"] = images.counts.__dict__
    return report


def fraction(text: str) -> float:
    """An argparse type: a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number between 0 and 1")
    return value


def text_encoder_layers(config: MLNetConfig) -> int:
    """Layer count of the config's text encoder."""
    from mlnet_ros.model.pretrained import text_encoder_config

    return text_encoder_config(config).num_hidden_layers


def config_from_args(args) -> MLNetConfig:
    """The architecture of --preset (and the ablation switches), or that of the --init checkpoint."""
    for option in ("scene_pairs", "known_pairs"):
        if getattr(args, option, 0) and not args.visual:
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag}: add --visual N (these pairs join the generated visual pairs)")
    if getattr(args, "known_same_type", 0.0) and not args.known_pairs:
        raise UsageError("--known-same-type: add --known-pairs N (the share is of those pairs)")
    if getattr(args, "init", None) is None:
        config = preset_config(args.preset, args.text_encoder, args.backbone, args.backbone_weights)
        config.use_char_rnn = not args.no_char
        config.use_fusion = not args.no_fusion
        if args.text_layers is not None:
            layers = text_encoder_layers(config)
            if not 0 <= args.text_layers <= layers:
                raise UsageError(f"--text-layers {args.text_layers}: the text encoder has {layers} layers")
            config.text_trainable_layers = args.text_layers
        if args.proposer is not None:
            config.proposer = args.proposer
        return config
    if (args.text_encoder or args.backbone or args.backbone_weights or args.no_char or args.no_fusion
            or args.text_layers is not None):
        raise UsageError("--init: the architecture and base weights come from the checkpoint; drop --text-encoder, "
                         "--backbone, --backbone-weights, --text-layers, --no-char and --no-fusion")
    config = read_config(args.init)[0]
    if config.preset != args.preset:
        raise UsageError(f"--init {args.init}: a checkpoint of preset {config.preset!r}; add --preset {config.preset}")
    if args.proposer is not None:  # pre-processing, not architecture: a fine-tune may switch it
        config.proposer = args.proposer
    return config


@contextlib.contextmanager
def processes(args):
    """(Distributed, device) of this process, in torchrun's process group when launched by torchrun;
    only rank 0 logs below warnings."""
    distributed, device = start(args.device)
    Precision(args.precision, device)  # checks --precision against the device before any work
    if not distributed.is_main:
        logging.getLogger().setLevel(logging.WARNING)
    try:
        yield distributed, device
    finally:
        stop()


def train_and_report(config, args, out: Path, data: RunData, distributed: Distributed, device) -> dict:
    """Train on ``data`` (+ generated visual pairs), then score each test set and the visual check once (rank 0)."""
    from training.visual_check import build_visual_set, evaluate_visual

    set_seed(args.seed)
    train_sentences, valid_sentences, test_sets = data.train, data.valid, data.tests
    settings = TrainSettings(args.epochs, args.batch_size, args.encoder_lr, args.head_lr, seed=args.seed,
                             precision=args.precision, speech_share=args.speech_share,
                             speech_filler_rate=args.speech_fillers, speech_repeat_rate=args.speech_repeats,
                             grounding_weight=args.grounding_weight)
    visual = visual_test = train_images = valid_images = None
    if args.visual or args.images:
        from mlnet_ros.model.pretrained import build_model

        feature_model = build_model(config)  # only its frozen backbone is used
        feature_model.backbone.to(device)
        cache_turns = bool(args.images and args.feature_cache)  # rank 0 fills the feature cache, then the others
        if cache_turns and not distributed.is_main:
            distributed.barrier()
        train_images = images_for(feature_model, train_sentences, args, "train")
        valid_images = images_for(feature_model, valid_sentences, args, "valid")
        if cache_turns and distributed.is_main:
            distributed.barrier()
        if args.visual:
            twitter_texts = [(s.tokens, s.tags) for s in train_sentences]
            visual = build_visual_set(feature_model, "train", args.visual, args.seed, twitter_texts, args.known_pairs,
                                      args.known_same_type)
            if args.scene_pairs:
                from training.composed_scenes import scene_pairs

                visual = visual.joined(scene_pairs(feature_model, args.scene_pairs, args.seed))
            visual_test = build_visual_set(feature_model, "test", max(200, args.visual // 3), args.seed,
                                           known=CHECK_KNOWN_PAIRS)
        del feature_model
    command = invoked_command()
    model, tokenizer, history = train(config, train_sentences, valid_sentences, out, settings, visual, args.init,
                                      command, train_images, valid_images, device, distributed,
                                      getattr(args, "resume", None))
    if not distributed.is_main:
        return {}
    plot_history(history, Path(f"{out}_curves.png"))
    report = {"command": command, "history": history["epochs"], "peak_rss_mb": round(peak_rss_mb()),
              "model_bytes": (out / "model.safetensors").stat().st_size}
    if not args.limit and test_sets:
        report["test"] = test_report(model, tokenizer, test_sets, out, args)
    if visual_test is not None:
        report["visual_check"] = evaluate_visual(model, tokenizer, visual_test)
        report["visual_check"]["grounding"] = grounding(out, 100, args.seed)
        log.info("visual check: %s", report["visual_check"])
    Path(f"{out}_report.json").write_text(json.dumps(report, indent=2))
    return report


def run_data(args) -> RunData:
    """The checked files and the label set of a train or ablate run."""
    init_labels = read_config(args.init)[0].labels if args.init else None
    data = read_run_data(args.train, args.valid, args.test, args.data_dir, args.types, init_labels, args.limit)
    if args.visual:
        from training.visual_check import ENTITY_TYPES as VISUAL_TYPES

        if not set(VISUAL_TYPES) <= set(label_types(data.labels)):
            raise DataError(f"--visual pairs are tagged {', '.join(VISUAL_TYPES)}; the label set has "
                            f"{', '.join(label_types(data.labels))}")
    return data


def command_train(args) -> None:
    """Train one model and report its test and visual-check scores."""
    args.out = args.out or args.resume
    if args.out is None:
        raise UsageError("--out DIR: where to write the model (or --resume DIR to continue a run)")
    config = config_from_args(args)
    with processes(args) as (distributed, device):
        data = run_data(args)
        config.labels = data.labels
        train_and_report(config, args, args.out, data, distributed, device)


def command_ablate(args) -> None:
    """Full model, w/o Fus. and w/o Mtla., trained with the same settings; test F1 of each."""
    if args.init:
        raise UsageError("--init: ablate trains each variant from scratch (a checkpoint fixes the architecture)")
    if args.out is None:
        raise UsageError("--out PREFIX: where to write the three models")
    preset_config(args.preset, args.text_encoder, args.backbone, args.backbone_weights)  # checks the options
    with processes(args) as (distributed, device):
        data = run_data(args)
        rows = {}
        for name, fusion, chars in (("full", True, True), ("wo_fusion", False, True), ("wo_mtla", True, False)):
            config = preset_config(args.preset, args.text_encoder, args.backbone, args.backbone_weights)
            config.use_fusion, config.use_char_rnn, config.labels = fusion, chars, data.labels
            report = train_and_report(config, args, Path(f"{args.out}_{name}"), data, distributed, device)
            rows[name] = {d: r["overall"]["f1"] for d, r in report.get("test", {}).items()}
            rows[name]["visual_f1_with_image"] = report.get("visual_check", {}).get("f1_with_image")
        if not distributed.is_main:
            return
    Path(f"{args.out}_ablation.json").write_text(json.dumps(rows, indent=2))
    print(json.dumps(rows, indent=2))


def command_cross(args) -> None:
    """Cross-dataset test F1: a Twitter-2015 model on Twitter-2017 test and vice versa."""
    rows = {}
    for model_dir, target in ((args.model_2015, "twitter2017"), (args.model_2017, "twitter2015")):
        model, tokenizer = load_checkpoint(model_dir)
        sentences = read_conll(dataset_file(args.data_dir, target, "test"))
        scores = entity_scores([s.tags for s in sentences], predict_tags(model, tokenizer, sentences))
        rows[f"{model_dir} -> {target}"] = scores["overall"]
        print(f"{model_dir} -> {target} test\n{format_scores(scores)}")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))


def command_visual_check(args) -> None:
    from training.visual_check import build_visual_set, evaluate_visual

    model, tokenizer = load_checkpoint(args.model)
    result = evaluate_visual(model, tokenizer, build_visual_set(model, "test", args.size, args.seed, known=args.known))
    if args.scenes:
        result["grounding"] = grounding(args.model, args.scenes, args.seed)
    print(json.dumps(result, indent=2))


def grounding(model_dir: Path, scenes: int, seed: int) -> dict:
    """The grounding check of a checkpoint, through the torch backend's recognizer (as the node runs it)."""
    from mlnet_ros.inference.backends import load_backend
    from training.grounding_check import grounding_check

    return grounding_check(load_backend(model_dir, "torch"), scenes, seed)


def command_pretrain(args) -> None:
    from training.pretrain import PretrainSettings, pretrain

    settings = PretrainSettings(args.steps, args.batch_size, args.lr, not args.no_mlm, not args.no_mvm,
                                not args.no_vlm, args.seed, args.precision)
    config = config_from_args(args)
    device = resolve_device(args.device)
    Precision(args.precision, device)
    if args.captions is None and (args.image_dir or args.detector or args.detector_weights):
        raise UsageError("--image-dir, --detector and --detector-weights go with --captions FILE")
    if bool(args.detector) != bool(args.detector_weights):
        raise UsageError("--detector ARCH and --detector-weights FILE go together")
    if args.captions is not None and args.images:
        raise UsageError("--images: with --captions the images are the captions' own")
    names = args.train if args.train is not None else ([] if args.captions else list(DATASETS))
    sentences = joined(read_tagged_files(split_files(names, args.data_dir, "train")))
    captions = read_captions(args.captions, args.image_dir) if args.captions else None
    images = corpus = None
    if (args.images or captions) and (settings.mvm or settings.vlm):
        from mlnet_ros.model.pretrained import build_model

        feature_model = build_model(config)  # only its frozen backbone is used
        feature_model.backbone.to(device)
        if captions:
            detector = DetectorCrops(args.detector, args.detector_weights) if args.detector else None
            name = detector.name if detector else config.proposer
            cache = FeatureCache(args.feature_cache, config, name) if args.feature_cache else None
            corpus = caption_images(feature_model, captions, cache, args.workers, detector)
        else:
            images = images_for(feature_model, sentences, args, "train")
        del feature_model
    elif args.images or captions:
        log.warning("the images are not used: MVM and VLM are both off")
    command = invoked_command()
    losses = pretrain(config, sentences, args.out, settings, images, command, corpus, device)
    Path(f"{args.out}_history.json").write_text(json.dumps({"step_loss": losses}))


def command_evaluate(args) -> None:
    """Print entity-level scores of a checkpoint on each CoNLL file (their sentences together with --out)."""
    types = model_types(args.model)
    test_sets = [(path, in_form(read_tagged_file(path, types, "the model's types"), args.form)) for path in args.data]
    model, tokenizer = load_checkpoint(args.model)
    written = []
    for path, sentences in test_sets:
        images = images_for(model, sentences, args, str(path))
        taggings = tag_sentences(model, tokenizer, sentences, images)
        predicted = [t.tags for t in taggings]
        scores = entity_scores([s.tags for s in sentences], predicted)
        print(f"{path}\n{format_scores(scores)}" if len(test_sets) > 1 else format_scores(scores))
        if images is not None:
            print(f"gate open on {100 * sum(t.image_used for t in taggings) / max(1, len(taggings)):.1f} % of "
                  f"{len(taggings)} sentences")
        written.append((sentences, predicted))
    if args.out:
        write_predictions(args.out, [s for sentences, _ in written for s in sentences],
                          [tags for _, predicted in written for tags in predicted])


def command_predict(args) -> None:
    """Tag one CoNLL file (with its images when --images is given) and write token/gold/predicted lines."""
    sentences = in_form(read_tagged_file(args.data, model_types(args.model), "the model's types"), args.form)
    model, tokenizer = load_checkpoint(args.model)
    images = images_for(model, sentences, args, str(args.data))
    write_predictions(args.out, sentences, predict_tags(model, tokenizer, sentences, images))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for torch (default 2)")
    commands = parser.add_subparsers(dest="command", required=True)

    def add_form_option(p):
        p.add_argument("--form", choices=FORMS, default="written",
                       help="score the text as written (default) or as speech recognisers emit it: spoken = lower-case, "
                            "punctuation-only tokens removed; spoken-fillers = spoken plus um/uh fillers")

    def add_images_option(p, random_images: bool = False):
        group = p.add_mutually_exclusive_group() if random_images else p
        group.add_argument("--images", type=Path, nargs="+", metavar="DIR",
                           help="folders of <IMGID>.jpg tweet images (missing or unreadable ones: text only, counted)")
        if random_images:
            group.add_argument("--random-images", type=int, metavar="SEED",
                               help="pair every sentence with an unrelated bundled photo (scikit-image's astronaut, "
                                    "coffee, ...), drawn with SEED: the never-hurt check")

    def add_train_files_option(p, default=DATASETS):
        p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="folder of the Twitter names' files")
        p.add_argument("--train", "--datasets", nargs="+", metavar="FILE", default=default and list(default),
                       help="CoNLL training files; the names twitter2015 and twitter2017 stand for the shared "
                            "Twitter files (default: both; for pretrain with --captions: none)")

    def add_model_options(p):
        p.add_argument("--preset", choices=PRESETS, default="embedded",
                       help="embedded (default: packaged MiniLM + EfficientNet-Lite0) or paper (BERT + ResNet, "
                            "s = 4, 12 image layers; needs --text-encoder and --backbone-weights)")
        p.add_argument("--text-encoder", type=Path, metavar="DIR",
                       help="paper preset: a local Hugging Face BERT directory (cased or uncased)")
        p.add_argument("--backbone", choices=BACKBONES, help="paper preset: the frozen CNN (default resnet50)")
        p.add_argument("--backbone-weights", type=Path, metavar="FILE",
                       help="paper preset: a torchvision state dict of --backbone (.pt/.pth, loaded with "
                            "weights_only=True, or .safetensors)")
        p.add_argument("--text-layers", type=int, metavar="N",
                       help="top text-encoder layers to fine-tune (default: the preset's; embedded 3 of 6)")
        p.add_argument("--proposer", choices=PROPOSERS,
                       help="region proposer of the image crops, recorded in the checkpoint (default saliency)")

    def add_device_options(p):
        p.add_argument("--device", default="auto", help="auto (a GPU if there is one), cpu, cuda or cuda:N")
        p.add_argument("--precision", choices=PRECISIONS, default="fp32",
                       help="fp32, or autocast bf16 / fp16 (fp16: CUDA only, with loss scaling)")
        p.add_argument("--workers", type=int, default=2,
                       help="DataLoader workers decoding images (--images, --captions; default 2)")
        p.add_argument("--feature-cache", type=Path, default=default_cache_dir(), metavar="DIR",
                       help="on-disk cache of the frozen backbone's crop features per image (default %(default)s)")

    def add_training_options(p):
        add_train_files_option(p)
        add_model_options(p)
        add_device_options(p)
        p.add_argument("--valid", nargs="+", metavar="FILE",
                       help="CoNLL files for model selection (default: each Twitter name's valid split)")
        p.add_argument("--test", "--test-datasets", nargs="+", metavar="FILE",
                       help="CoNLL files scored once at the end (default: each Twitter name's test split)")
        p.add_argument("--types", metavar="TYPE,...",
                       help="the entity types to train, e.g. ROOM,OBJECT (default: those the --train files tag); "
                            "a tag of another type is an error")
        p.add_argument("--out", type=Path, help="checkpoint directory (prefix for ablate)")
        p.add_argument("--init", type=Path,
                       help="start from this checkpoint (from `pretrain`, or a trained model to fine-tune: its "
                            "types are kept, new ones added)")
        p.add_argument("--epochs", type=int, default=5)
        p.add_argument("--batch-size", type=int, default=16)
        p.add_argument("--encoder-lr", type=float, default=5e-5)
        p.add_argument("--head-lr", type=float, default=1e-3)
        p.add_argument("--seed", type=int, default=13)
        p.add_argument("--visual", type=int, default=0, help="generated visual-disambiguation pairs to mix in")
        p.add_argument("--scene-pairs", type=int, default=0, metavar="N",
                       help="with --visual: N composed scenes (a person and an object photo, a sentence naming "
                            "both) whose entities' cross-attention is trained onto their photo's crops")
        p.add_argument("--known-pairs", type=int, default=0, metavar="N",
                       help="with --visual: N known-name pairs (a name the text decides in an image-referring "
                            "sentence, beside a photo of another type; matching label 0)")
        p.add_argument("--known-same-type", type=fraction, default=0.0, metavar="P",
                       help="with --known-pairs: share P of them beside a photo of the name's own type instead "
                            "(matching label 1), so the gate closes on a contradicting photo, not a familiar name")
        p.add_argument("--grounding-weight", type=float, default=1.0,
                       help="weight of the scene pairs' grounding loss (default 1)")
        p.add_argument("--speech-share", type=fraction, default=0.0, metavar="P",
                       help="share of training sentences drawn anew each epoch in spoken form: lower-cased, "
                            "punctuation removed (default 0: none)")
        p.add_argument("--speech-fillers", type=fraction, default=0.3, metavar="P",
                       help="chance that a spoken-form sentence also gets one or two fillers (default 0.3)")
        p.add_argument("--speech-repeats", type=fraction, default=0.2, metavar="P",
                       help="chance that a spoken-form sentence also repeats one word (default 0.2)")
        p.add_argument("--limit", type=int, help="only the first N sentences per file (smoke tests); skips test")
        add_images_option(p)

    p = commands.add_parser("train", help="train an NER model (embedded or paper preset)")
    add_training_options(p)
    p.add_argument("--no-char", action="store_true", help="ablation w/o Mtla. (no char RNN)")
    p.add_argument("--no-fusion", action="store_true", help="ablation w/o Fus. (no K/V fusion, no cross-attention)")
    p.add_argument("--resume", type=Path, metavar="DIR",
                   help="continue the interrupted run whose --out was DIR from its last finished epoch (repeat "
                        "that run's command line; --out defaults to DIR)")
    p.set_defaults(run=command_train)

    p = commands.add_parser("ablate", help="train full, w/o Fus. and w/o Mtla. models with the same settings")
    add_training_options(p)
    p.set_defaults(run=command_ablate)

    p = commands.add_parser("cross", help="cross-dataset test F1 (2015 model on 2017 test, 2017 model on 2015 test)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    p.add_argument("--model-2015", type=Path, required=True)
    p.add_argument("--model-2017", type=Path, required=True)
    p.add_argument("--out", type=Path, help="write the scores as JSON here")
    p.set_defaults(run=command_cross)

    p = commands.add_parser("visual-check", help="visual-disambiguation F1 (image vs text only) and gate behaviour")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--size", type=int, default=400)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--scenes", type=int, default=100,
                   help="composed scenes of the grounding check (person + object photo; 0: skip)")
    p.add_argument("--known", type=int, default=CHECK_KNOWN_PAIRS,
                   help="known-name pairs: a name the text decides beside a photo of another type (0: skip)")
    p.set_defaults(run=command_visual_check)

    p = commands.add_parser("pretrain", help="MLM / MVM / VLM pretraining; continue with `train --init`")
    add_train_files_option(p, default=None)
    add_model_options(p)
    add_device_options(p)
    p.add_argument("--captions", type=Path, metavar="FILE",
                   help='image–caption corpus for MLM, MVM and VLM: JSON lines {"image": "path", "text": "caption"} '
                        "or a COCO captions JSON (with --image-dir); replaces the generated visual pairs")
    p.add_argument("--image-dir", type=Path, metavar="DIR",
                   help="where the --captions images are (default for JSON lines: the file's folder)")
    p.add_argument("--detector", metavar="ARCH",
                   help="MVM targets from this torchvision detector's classes (e.g. fasterrcnn_resnet50_fpn; its "
                        "boxes are the crops) instead of the backbone's ImageNet classes")
    p.add_argument("--detector-weights", type=Path, metavar="FILE", help="the --detector's state dict (weights_only)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--no-mlm", action="store_true")
    p.add_argument("--no-mvm", action="store_true")
    p.add_argument("--no-vlm", action="store_true")
    p.add_argument("--no-char", action="store_true")
    p.add_argument("--no-fusion", action="store_true")
    add_images_option(p)
    p.set_defaults(run=command_pretrain)

    p = commands.add_parser("evaluate", help="entity-level P/R/F1 of a checkpoint on CoNLL files")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--data", "--test", type=Path, nargs="+", required=True, metavar="FILE")
    p.add_argument("--out", type=Path, help="also write token/gold/predicted lines here")
    add_form_option(p)
    add_images_option(p, random_images=True)
    p.set_defaults(run=command_evaluate)

    p = commands.add_parser("predict", help="write token<TAB>gold<TAB>predicted lines for a CoNLL file")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    add_form_option(p)
    add_images_option(p, random_images=True)
    p.set_defaults(run=command_predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if getattr(args, "workers", 0) < 0:
        parser.error(f"--workers must be 0 or more, got {args.workers}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    torch.set_num_threads(args.threads)
    try:
        args.run(args)
    except (DataError, UsageError, ModelLoadError, BaseWeightsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
