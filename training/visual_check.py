"""Visual-disambiguation set: entity types that only the image reveals, plus mismatched pairs for the gate.

Sentences put a made-up, type-ambiguous name into an image-referring template ("I saw Kelso
yesterday"); the paired photo decides the type: a person → PER, a place or sky → LOC, a logo or
rocket → ORG, an object or animal → MISC. Half of these *matched* pairs are *mixed*: the sentence
also names an entity that its text decides ("This is Kelso from NASA"; in training also a real
Twitter sentence with its gold tags), so the image is evidence for one entity only. *Mismatched*
pairs join an image-unrelated sentence (no entities, or, in training, a real Twitter sentence with
its gold tags: real-photo negatives, as many as the matched pairs) with a random photo: the
matching gate should close. *Known-name* pairs put a name the text decides into an image-referring
template ("Say hello to Tom Hanks") beside a photo of another type: the photo is no evidence, so the
gate should close and the text's type stay (a robot hears "This is Jordan" whatever the camera sees).
In training, a share of the known-name pairs may show a photo of the name's own type instead, matching
label 1, so that the gate learns to close on a photo that contradicts the text, not on a familiar name.
Photos come from scikit-image's bundled samples plus drawn scenes, with
random crops, flips and colour changes. Train and test use disjoint names, templates, context
entities, unrelated sentences and augmentations.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import cv2
import numpy as np
import skimage.data
import torch

from mlnet_ros.core.labels import ENTITY_TYPES, entity_spans
from mlnet_ros.core.results import Box
from mlnet_ros.inference.image_crops import image_crops
from mlnet_ros.inference.region_proposals import proposer_for

TEST_NAMES = ["Avalon", "Brisco", "Caspian", "Delmar", "Emrys", "Faro", "Garnet", "Hollis", "Indra", "Jessup",
              "Kerrow", "Linden", "Mabry", "Norcross", "Ottoline"]
NAME_SYLLABLES = (["Ar", "Bel", "Cor", "Dra", "El", "Fen", "Gal", "Hal", "Is", "Jor", "Kel", "Lor", "Mar", "Nor",
                   "Or", "Per", "Quin", "Ros", "Sal", "Tam", "Ul", "Ves", "Wil", "Yar", "Zan"],
                  ["a", "en", "ic", "is", "o", "on", "or", "ra", "un", "wyn", "ley", "ton", "ric", "sa", "vin"])
TEMPLATES = {
    "train": ["I saw {} yesterday", "Look at {} !", "{} in this picture", "What do you think of {} ?",
              "Here is {} again", "Just took this shot of {}", "Can't believe how {} looks today",
              "Finally got to see {} in person", "Everyone keeps talking about {}", "This is {} , right here",
              "Check out {}", "{} looks amazing here", "Snapped {} on my way home", "My favourite pic of {}",
              "Couldn't stop staring at {}", "Best view of {} ever", "Spotted {} this morning", "{} , as promised",
              "Throwback to {} last summer", "Never seen {} like this before", "Say hello to {}",
              "Proof that {} is real", "{} never gets old", "Caught {} on camera", "Meet {}",
              "Still thinking about {}", "Posting {} because why not", "Remember {} ?", "{} up close and personal",
              "A quick photo of {} before leaving", "Can you believe this is {} ?", "Love this image of {}",
              "Zoomed in on {}", "{} right in front of me", "Got a glimpse of {} today", "Wow , {} !",
              "The one and only {}", "Visited {} with friends", "Here's {} from another angle", "{} says hi"],
    "test": ["Guess who I ran into : {}", "Another photo of {} for you", "Nothing beats {} on a day like this",
             "So this is {} up close", "Had to share this one of {}"],
}
UNRELATED = {
    "train": ["my phone battery died again", "stuck in traffic for an hour", "can't wait for the weekend",
              "why is the wifi so slow today", "going to bed early tonight", "that exam was brutal",
              "need more sleep honestly", "forgot my keys at home again", "the bus is late as usual",
              "so hungry right now", "laundry day is the worst", "happy friday everyone",
              "does anyone have a charger", "rain all week apparently", "finally finished my homework",
              "my coffee went cold", "so tired of mondays", "who else is still awake", "the meeting ran long again",
              "lost my headphones somewhere", "my cat knocked over a plant", "trying to eat healthy this week",
              "the gym was packed tonight", "just missed my train", "i should be working right now"],
    "test": ["my alarm did not go off", "who ate the last cookie", "running late for work again",
             "this week is taking forever", "need a vacation so badly", "power just went out here",
             "cannot find my other sock", "the printer jammed again", "just burned my toast",
             "studying all night for finals", "my neighbours are so loud", "ordering pizza tonight"],
}


def names(split: str) -> list[str]:
    """Made-up names: the fixed test names, or two-syllable training names, some as first + last name (none is a test name)."""
    if split == "test":
        return TEST_NAMES
    first, second = NAME_SYLLABLES
    single = [a + b for a in first for b in second if a + b not in TEST_NAMES]
    return single + [f"{a} {b}" for a, b in zip(single[::7], single[3::7])]


def _gray(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[..., None], 3, axis=2)


def _landscape(rng: random.Random) -> np.ndarray:
    height, width = 240, 320
    image = np.zeros((height, width, 3), np.uint8)
    horizon = rng.randint(110, 170)
    for y in range(horizon):
        image[y] = (90 + y // 3, 150 + y // 4, 235)
    image[horizon:] = (rng.randint(40, 90), rng.randint(110, 170), rng.randint(30, 70))
    for _ in range(rng.randint(1, 3)):
        x = rng.randint(0, width)
        peak = (x, rng.randint(40, horizon - 20))
        points = np.array([(x - rng.randint(60, 140), horizon), peak, (x + rng.randint(60, 140), horizon)])
        cv2.fillPoly(image, [points.astype(np.int32)], (110, 105, 120))
    cv2.circle(image, (rng.randint(20, width - 20), rng.randint(15, 60)), rng.randint(10, 22), (255, 230, 120), -1)
    return image


def _logo(rng: random.Random) -> np.ndarray:
    image = np.full((240, 240, 3), 255, np.uint8)
    color = tuple(rng.randint(0, 200) for _ in range(3))
    center = (120 + rng.randint(-15, 15), 100 + rng.randint(-15, 15))
    if rng.random() < 0.5:
        cv2.circle(image, center, rng.randint(45, 70), color, -1)
    else:
        cv2.rectangle(image, (center[0] - 60, center[1] - 45), (center[0] + 60, center[1] + 45), color, -1)
    letters = "".join(rng.choice("ABCDEFGHKMNRSTXZ") for _ in range(rng.randint(2, 4)))
    cv2.putText(image, letters, (40, 215), cv2.FONT_HERSHEY_DUPLEX, 1.6, color, 3)
    return image


def base_images(rng: random.Random) -> dict[str, list[np.ndarray]]:
    """(H, W, 3) uint8 source photos and drawings for each entity type."""
    faces = skimage.data.lfw_subset()
    face_images = [_gray(cv2.resize((faces[i] * 255).astype(np.uint8), (160, 160))) for i in range(0, 40, 5)]
    return {
        "PER": [skimage.data.astronaut(), _gray(skimage.data.camera())] + face_images,
        "LOC": [skimage.data.hubble_deep_field(), _gray(skimage.data.moon())] + [_landscape(rng) for _ in range(6)],
        "ORG": [skimage.data.logo()[..., :3], skimage.data.rocket()] + [_logo(rng) for _ in range(6)],
        "MISC": [skimage.data.coffee(), skimage.data.chelsea(), _gray(skimage.data.horse().astype(np.uint8) * 255),
                 _gray(skimage.data.coins()), _gray(skimage.data.clock()), skimage.data.stereo_motorcycle()[0]],
    }


def augment(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """Random crop (60–100 % of each side), horizontal flip, brightness/contrast/colour change."""
    height, width = image.shape[:2]
    h, w = int(height * rng.uniform(0.6, 1.0)), int(width * rng.uniform(0.6, 1.0))
    y, x = rng.randint(0, height - h), rng.randint(0, width - w)
    patch = image[y : y + h, x : x + w].astype(np.float32)
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    patch = patch * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30)
    patch = patch * np.array([rng.uniform(0.85, 1.15) for _ in range(3)], np.float32)
    return np.ascontiguousarray(np.clip(patch, 0, 255).astype(np.uint8))


# Entities whose type the text decides, with the words that introduce them; train and test are disjoint.
CONTEXT_ENTITIES = {
    "train": {
        "PER": ["Tom Hanks", "Barack Obama", "Serena Williams", "Lionel Messi", "Taylor Swift", "Oprah Winfrey",
                "Angela Merkel", "Roger Federer", "Emma Watson", "LeBron James", "Bill Gates", "Shakira"],
        "ORG": ["NASA", "Google", "Microsoft", "UNICEF", "BBC", "CNN", "Toyota", "Nike", "FIFA", "Starbucks",
                "Samsung", "Netflix"],
        "LOC": ["Berlin", "Paris", "Tokyo", "London", "Texas", "Kenya", "Brazil", "New York", "California", "Sydney",
                "Madrid", "Seattle"],
        "MISC": ["iPhone", "Christmas", "Olympics", "Super Bowl", "Oscars", "World Cup", "Halloween", "PlayStation",
                 "Grammys", "Android", "Easter", "Xbox"],
    },
    "test": {
        "PER": ["Meryl Streep", "Usain Bolt", "Rihanna", "Kobe Bryant", "Malala Yousafzai", "Jeff Bezos"],
        "ORG": ["Greenpeace", "Volkswagen", "Reuters", "Intel", "Adidas", "UNESCO"],
        "LOC": ["Lisbon", "Nairobi", "Oslo", "Peru", "Toronto", "Vietnam"],
        "MISC": ["Thanksgiving", "Wimbledon", "Kindle", "Eurovision", "Diwali", "Nintendo"],
    },
}
CONTEXT_LEADS = {
    "train": {"PER": ["with", "next to", "and", "together with"], "ORG": ["from", "who works at", "on behalf of"],
              "LOC": ["in", "near", "on a trip to"], "MISC": ["at the", "during the", "with a new"]},
    "test": {"PER": ["alongside", "beside"], "ORG": ["of", "working for"], "LOC": ["somewhere in", "back in"],
             "MISC": ["before the", "with my"]},
}
KINDS = ("plain", "mixed", "mismatched", "known", "known-same", "scene")


@dataclass
class VisualSet:
    """Generated pairs of one split: ``image`` indexes rows of ``features``; ``kind`` is one of KINDS;
    ``grounding`` maps an entity type to the crops its words should attend to (composed scenes only)."""

    tokens: list[list[str]]
    tags: list[list[str]]
    image: list[int]
    match: list[float]  # 1 = image-referring sentence with its photo, 0 = mismatched pair
    features: torch.Tensor  # (images, s+1, C, grid, grid) frozen backbone features, float16
    kind: list[str]
    grounding: list[dict[str, tuple[int, ...]]]

    def add(self, tokens: list[str], tags: list[str], image: int, match: float, kind: str,
            grounding: dict[str, tuple[int, ...]] | None = None) -> None:
        """Append one pair."""
        self.tokens.append(list(tokens))
        self.tags.append(list(tags))
        self.image.append(image)
        self.match.append(match)
        self.kind.append(kind)
        self.grounding.append(grounding or {})

    def joined(self, other: VisualSet) -> VisualSet:
        """Both sets' pairs in one set (``other``'s image rows after this one's)."""
        offset = len(self.features)
        return VisualSet(self.tokens + other.tokens, self.tags + other.tags,
                         self.image + [offset + row for row in other.image], self.match + other.match,
                         torch.cat([self.features, other.features]), self.kind + other.kind,
                         self.grounding + other.grounding)


def entity_tags(words: list[str], kind: str) -> list[str]:
    return [f"B-{kind}"] + [f"I-{kind}"] * (len(words) - 1)


def template_sentence(rng: random.Random, split: str, name: list[str], kind: str) -> tuple[list[str], list[str]]:
    """One of the split's image-referring templates around ``name``, tagged as ``kind``."""
    before, after = (part.split() for part in rng.choice(TEMPLATES[split]).split("{}"))
    return before + name + after, ["O"] * len(before) + entity_tags(name, kind) + ["O"] * len(after)


def image_sentence(rng: random.Random, split: str, kind: str) -> tuple[list[str], list[str]]:
    """An image-referring template around a made-up name whose type ``kind`` only the photo reveals."""
    return template_sentence(rng, split, rng.choice(names(split)).split(), kind)


def known_name_sentence(rng: random.Random, split: str) -> tuple[list[str], list[str], str]:
    """An image-referring template around a name whose type the text decides ("Say hello to Tom Hanks"):
    words, tags and that type."""
    kind = rng.choice(ENTITY_TYPES)
    words, tags = template_sentence(rng, split, rng.choice(CONTEXT_ENTITIES[split][kind]).split(), kind)
    return words, tags, kind


def photo_of_another_type(rng: random.Random, photo_types: list[str], kind: str) -> int:
    """The index of a random photo whose type is not ``kind``."""
    return rng.choice([row for row, photo_type in enumerate(photo_types) if photo_type != kind])


def photo_of_type(rng: random.Random, photo_types: list[str], kind: str) -> int:
    """The index of a random photo whose type is ``kind``."""
    return rng.choice([row for row, photo_type in enumerate(photo_types) if photo_type == kind])


def context_phrase(rng: random.Random, split: str) -> tuple[list[str], list[str]]:
    """Words that name an entity the text decides, e.g. "from NASA" (ORG)."""
    kind = rng.choice(ENTITY_TYPES)
    lead = rng.choice(CONTEXT_LEADS[split][kind]).split()
    entity = rng.choice(CONTEXT_ENTITIES[split][kind]).split()
    return lead + entity, ["O"] * len(lead) + entity_tags(entity, kind)


def crop_features(model, proposer, rgb: np.ndarray) -> tuple[torch.Tensor, list[Box]]:
    """``rgb``'s (s+1, C, grid, grid) float16 frozen backbone features on the CPU, and its crop boxes."""
    crops, boxes = image_crops(rgb, proposer, model.config.num_crops)
    features = model.backbone_features(torch.from_numpy(crops[None]).to(model.backbone.mean.device))[0]
    return features.half().cpu(), boxes


def photo_pool(model, split: str, seed: int, rng: random.Random) -> tuple[list[str], torch.Tensor]:
    """Augmented variants of the base photos: their types and (images, s+1, C, grid, grid) float16 features."""
    sources = base_images(random.Random(seed))
    variants_per_source = 6 if split == "train" else 2
    types, features = [], []
    proposer = proposer_for(model.config.proposer)
    for kind in ENTITY_TYPES:
        for source in sources[kind]:
            for _ in range(variants_per_source):
                features.append(crop_features(model, proposer, augment(source, rng))[0])
                types.append(kind)
    return types, torch.stack(features)


def build_visual_set(
    model, split: str, size: int, seed: int, other_texts: list[tuple[list[str], list[str]]] | None = None,
    known: int = 0, known_same_type: float = 0.0,
) -> VisualSet:
    """``size`` pairs with backbone features from ``model``'s frozen backbone: half matched (of which
    half mixed), half mismatched; then ``known`` known-name pairs: the first ``known_same_type`` share
    beside a photo of the name's own type (matching label 1), the rest beside one of another type (label 0).

    Mixed pairs join the image-referring sentence with a context phrase or, when given, one of
    ``other_texts`` (e.g. Twitter training sentences with their gold tags). Mismatched pairs use
    ``other_texts`` for three in four (real-photo negatives), else the split's unrelated sentences.
    The first ``size`` pairs do not depend on ``known``.
    """
    rng = random.Random(f"{split}-{seed}")
    pool_types, features = photo_pool(model, split, seed, rng)
    result = VisualSet([], [], [], [], features, [], [])
    for i in range(size):
        image = rng.randrange(len(pool_types))
        if i % 2:
            if other_texts and rng.random() < 0.75:
                words, tags = rng.choice(other_texts)
            else:
                words = rng.choice(UNRELATED[split]).split()
                tags = ["O"] * len(words)
            kind, match = "mismatched", 0.0
        else:
            words, tags = image_sentence(rng, split, pool_types[image])
            kind, match = "plain", 1.0
            if i % 4 == 2:
                kind = "mixed"
                if other_texts and rng.random() < 0.5:
                    extra_words, extra_tags = rng.choice(other_texts)
                    joint = [","]  # a tweet is a sentence of its own
                else:
                    extra_words, extra_tags = context_phrase(rng, split)
                    joint = []
                if rng.random() < 0.5 or not joint:
                    words, tags = words + joint + list(extra_words), tags + ["O"] * len(joint) + list(extra_tags)
                else:
                    words, tags = list(extra_words) + joint + words, list(extra_tags) + ["O"] + tags
        result.add(words, tags, image, match, kind)
    same_type = round(known * known_same_type)
    for i in range(known):
        words, tags, kind = known_name_sentence(rng, split)
        if i < same_type:
            result.add(words, tags, photo_of_type(rng, pool_types, kind), 1.0, "known-same")
        else:
            result.add(words, tags, photo_of_another_type(rng, pool_types, kind), 0.0, "known")
    return result


def percent(flags: list[bool]) -> float:
    """The share of true flags in per cent, one decimal."""
    return round(100 * float(np.mean(flags)), 1)


def kept_with_image_pct(gold: list[list[str]], text_only: list[list[str]], with_image: list[list[str]]) -> float:
    """Of the gold entities the text alone tags right, the share still tagged right with the image, in per
    cent (100 when the text alone gets none right): 100 means the image never overrode what the text decided."""
    kept = []
    for gold_tags, alone, both in zip(gold, text_only, with_image, strict=True):
        right_alone, right_both = set(entity_spans(alone)), set(entity_spans(both))
        kept += [span in right_both for span in entity_spans(gold_tags) if span in right_alone]
    return percent(kept) if kept else 100.0


def evaluate_visual(model, tokenizer, visual: VisualSet) -> dict[str, float]:
    """F1 on the plain and mixed matched pairs (and the known-name pairs, when there are some) with and
    without their images; on the mixed pairs, the share of the entities the text alone gets right that the
    image leaves right; gate rates."""
    from mlnet_ros.inference.backends.torch_runner import TorchRunner
    from mlnet_ros.inference.tagging import tag_words
    from training.metrics import entity_scores

    runner = TorchRunner(model, next(model.parameters()).device)  # eval mode before the image layers run too
    with torch.inference_mode():
        regions = model.regions_from_features(visual.features.to(next(model.parameters()).device).float()).cpu().numpy()

    def tagged(indices: list[int], with_image: bool):
        return tag_words(runner, tokenizer, [visual.tokens[i] for i in indices],
                         [regions[visual.image[i]] if with_image else None for i in indices])

    def f1(indices: list[int], taggings) -> float:
        gold = [visual.tags[i] for i in indices]
        return round(entity_scores(gold, [t.tags for t in taggings])["overall"]["f1"], 2)

    by_kind = {kind: [i for i, k in enumerate(visual.kind) if k == kind] for kind in KINDS}
    plain, mixed, mismatched = by_kind["plain"], by_kind["mixed"], by_kind["mismatched"]
    with_image = tagged(plain, True)
    mixed_with_image, mixed_text_only = tagged(mixed, True), tagged(mixed, False)
    unrelated = tagged(mismatched, True)
    result = {
        "matched_pairs": len(plain),
        "mixed_pairs": len(mixed),
        "mismatched_pairs": len(mismatched),
        "f1_with_image": f1(plain, with_image),
        "f1_text_only": f1(plain, tagged(plain, False)),
        "mixed_f1_with_image": f1(mixed, mixed_with_image),
        "mixed_f1_text_only": f1(mixed, mixed_text_only),
        "mixed_kept_with_image_pct": kept_with_image_pct([visual.tags[i] for i in mixed],
                                                         [t.tags for t in mixed_text_only],
                                                         [t.tags for t in mixed_with_image]),
        "gate_open_on_matched_pct": percent([t.image_used for t in with_image + mixed_with_image]),
        "gate_closed_on_mismatched_pct": percent([not t.image_used for t in unrelated]),
    }
    known = by_kind["known"]
    if known:
        known_with_image = tagged(known, True)
        result.update({
            "known_pairs": len(known),
            "known_f1_with_image": f1(known, known_with_image),
            "known_f1_text_only": f1(known, tagged(known, False)),
            "gate_closed_on_known_pct": percent([not t.image_used for t in known_with_image]),
        })
    return result
