"""Image captioning on generated scenes: one image in, a sentence out ("a small red circle above a large blue square").

Training scenes are drawn fresh for every batch (unlimited data, seeded by train.seed); the
held-out set is a fixed list of `test_scenes` scenes drawn from `data_seed`, and no training scene
shows the same picture as a held-out one. Metrics: exact caption match, word accuracy and BLEU of
free-running captions (greedy, or a beam of the run's width), the teacher-forced val_loss, and for
a model with attention `colour_attention`: how often the attention peaks on the shape whose colour
word is being written.

Teacher forcing: `tasks.build(cfg.task, train=cfg.train)` hands the task the run's ratio; below 1,
each training batch carries a `forced` mask drawn from the trainer's seeded generator.
"""
from __future__ import annotations

import math
from typing import Iterator

import numpy as np
import torch

from ..config import ConfigError, TaskConfig, TrainConfig
from ..data import scenes as sc
from ..data.captions import CaptionVocabulary, grammar_words
from ..data.errors import DataError
from ..models import SequenceModel
from ..models.inference import evaluating
from ..models.caption_search import beam_search, greedy
from .base import Inspection, Task
from .spec import MetricSpec, TaskSpec
from .sequence_metrics import corpus_bleu, exact_match, token_accuracy

MAX_WORDS = 4 * sc.MAX_SHAPES + 2 * (sc.MAX_SHAPES - 1)  # "a small red circle" per shape, "left of" between
MAX_BEAM = 16


def caption_scores(predictions: list[str], references: list[str]) -> dict:
    """exact_match, word_accuracy (reference words matched at the same position) and corpus BLEU (0-100)
    over words, scored like translation's outputs (sequence_metrics.py)."""
    outputs, targets = [p.split() for p in predictions], [r.split() for r in references]
    return {"exact_match": exact_match(outputs, targets), "word_accuracy": token_accuracy(outputs, targets),
            "bleu": corpus_bleu(outputs, targets)}


def colour_positions(scene: sc.Scene) -> list[int]:
    """Index in the caption's words of each shape's colour word ("a small RED circle above a large BLUE ...")."""
    positions, offset = [], 0
    relation = len(sc.LAYOUT_WORDS[scene.layout].split())
    for _ in scene.shapes:
        positions.append(offset + 2)
        offset += 4 + relation
    return positions


def decode(model, images: torch.Tensor, beam: int = 1):
    """Greedy decoding for beam 1, beam search otherwise (see models/caption_search.py)."""
    if not 1 <= beam <= MAX_BEAM:
        raise ConfigError(f"beam must be between 1 and {MAX_BEAM} (got {beam})")
    return greedy(model, images) if beam == 1 else beam_search(model, images, beam)


SPEC = TaskSpec(
    name="captioning", title="image captioning",
    metrics=(MetricSpec("val_loss", "validation loss", "nats per word (cross-entropy)", False, chance_key="uniform_loss"),
             MetricSpec("exact_match", "exact match", "share of captions exactly right", True, chance=0.0, solved=0.95),
             MetricSpec("word_accuracy", "word accuracy", "share of words right", True),
             MetricSpec("bleu", "BLEU", "BLEU (0-100)", True),
             MetricSpec("colour_attention", "colour attention", "share of colour words attended right", True)),
    headline="exact_match",
    settings={"task.dataset": "Dataset", "task.data_seed": "Seed of the held-out scenes", "task.scene_shapes": "Shapes per scene",
              "task.scene_colours": "Colours", "task.scene_noise": "Pixel noise", "task.image_size": "Image size",
              "task.test_scenes": "Held-out scenes", "model.attention": "Attention", "model.decoder_arch": "Decoder cell",
              "train.teacher_forcing": "Teacher forcing", "train.beam": "Beam width at evaluation"},
    datasets=lambda: list(sc.PRESETS), default_dataset="shapes2",  # the preset used when a run names no dataset
    attention=("none", "soft"),
    race_entrants=(("lstm", "none", False), ("lstm", "soft", False)),
    sample_heading="A held-out scene captioned at step {step}", sample_caption="caption = or ≠ the scene's own",
    try_view="caption")


class CaptioningTask(Task):
    name = "captioning"
    about = SPEC
    carries_state = False

    def __init__(self, cfg: TaskConfig, state: dict | None = None) -> None:
        """With `state` (from a checkpoint) the vocabulary and scene settings are the saved ones."""
        self.cfg = cfg
        if state is not None:
            self.settings = sc.SceneSettings.from_dict(state["scene"])
            self.vocab = CaptionVocabulary(state["vocab"])
        else:
            self.settings = sc.resolve_settings(cfg.dataset, cfg.scene_shapes, cfg.scene_colours, cfg.scene_noise,
                                                cfg.image_size)
            self.vocab = CaptionVocabulary(grammar_words(self.settings.colours))
        self._heldout: list[sc.Scene] | None = None
        self.teacher_forcing, self.beam = 1.0, 1  # until use_train_settings() hands over the run's own

    def use_train_settings(self, train: TrainConfig) -> None:
        """The run's teacher-forcing ratio (training batches) and beam width (evaluation and samples)."""
        self.teacher_forcing, self.beam = train.teacher_forcing, train.beam

    # -- data -------------------------------------------------------------------------------------
    @property
    def spec(self) -> dict:
        return {"family": "captioner", "vocab_size": len(self.vocab), "image_size": self.settings.image_size,
                "pad_id": self.vocab.pad, "bos_id": self.vocab.bos, "eos_id": self.vocab.eos, "max_words": MAX_WORDS}

    def state(self) -> dict:
        return {"vocab": self.vocab.words, "scene": self.settings.to_dict()}

    @property
    def heldout(self) -> list[sc.Scene]:
        """The fixed held-out scenes (the same for every run with the same settings and data_seed)."""
        if self._heldout is None:
            self._heldout = sc.heldout_scenes(self.settings, self.cfg.test_scenes, self.cfg.data_seed)
        return self._heldout

    def images(self, scenes: list[sc.Scene]) -> torch.Tensor:
        """(B, 3, S, S) float tensor of the rendered scenes."""
        pixels = np.stack([sc.render(scene, self.settings) for scene in scenes])  # (B, S, S, 3)
        return torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous()

    def batch(self, scenes: list[sc.Scene]) -> dict:
        """images plus teacher-forcing word ids x (<bos> + words) and targets y (words + <eos>)."""
        x, y = self.vocab.teacher_forcing_batch([scene.caption for scene in scenes])
        return {"images": self.images(scenes), "x": x, "y": y}

    def train_batches(self, batch_size: int, seq_len: int, generator: torch.Generator) -> Iterator[dict]:
        """Endless batches of fresh random scenes; seq_len does not apply (a caption is as long as it is)."""
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        stream = sc.training_scenes(self.settings, seed, exclude={scene.key for scene in self.heldout})
        while True:
            batch = self.batch([next(stream) for _ in range(batch_size)])
            if self.teacher_forcing < 1.0:  # where False the decoder reads its own previous word
                batch["forced"] = torch.rand(batch["x"].shape, generator=generator) < self.teacher_forcing
            yield batch

    def probe_batch(self, batch_size: int, seq_len: int) -> dict:
        """Up to 8 held-out scenes whose captions have the most common length, cut after the last word,
        so step t means the same word position in every row of the gradient-flow probe."""
        lengths = [len(scene.caption.split()) for scene in self.heldout]
        common = max(set(lengths), key=lengths.count)
        chosen = [scene for scene, n in zip(self.heldout, lengths) if n == common][: min(batch_size, 8)]
        batch = self.batch(chosen)
        return {"images": batch["images"], "x": batch["x"][:, :common], "y": batch["y"][:, :common]}

    def check_size(self, batch_size: int, seq_len: int) -> None:
        if batch_size < 2:
            raise DataError("captioning trains on batches of at least 2 scenes (without attention the "
                            "captioner normalises its image summary over the batch)")

    def batch_tokens(self, batch: dict) -> int:
        return int((batch["y"] != self.vocab.pad).sum())

    def describe(self) -> dict:
        s = self.settings
        phrases = len(sc.SHAPES) * len(s.colours) * len(sc.SIZES)
        layouts = 1 if s.shapes == 1 else len(sc.LAYOUT_WORDS)
        return {
            "shapes_per_scene": s.shapes, "colours": len(s.colours), "image_size": s.image_size, "noise": s.noise,
            "vocab_size": len(self.vocab), "distinct_captions": layouts * phrases ** s.shapes,
            "test_scenes": len(self.heldout), "uniform_loss": math.log(len(self.vocab)),
        }

    # -- metrics and samples ----------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, model: SequenceModel, batch_size: int, seq_len: int, max_batches: int | None = None,
                 beam: int | None = None) -> dict:
        """Teacher-forced loss per word, then captions decoded from the images alone (greedy, or a beam
        of width `beam`; None = the run's)."""
        beam = self.beam if beam is None else beam
        scenes = self.heldout if max_batches is None else self.heldout[: max_batches * batch_size]
        with evaluating(model):
            device = next(model.parameters()).device
            loss_sum, words, predictions = 0.0, 0, []
            for start in range(0, len(scenes), batch_size):
                batch = {k: v.to(device) for k, v in self.batch(scenes[start: start + batch_size]).items()}
                count = int((batch["y"] != self.vocab.pad).sum())
                loss_sum += model(batch).loss.item() * count
                words += count
                predictions += [self.vocab.decode(d.ids) for d in decode(model, batch["images"], beam)]
        metrics = {"val_loss": loss_sum / max(words, 1), **caption_scores(predictions, [s.caption for s in scenes]),
                   "eval_scenes": len(scenes), "uniform_loss": math.log(len(self.vocab))}
        if getattr(model, "uses_attention", False):
            metrics["colour_attention"] = self.colour_attention_hits(model, scenes)["named"]
        return metrics

    @torch.no_grad()
    def sample(self, model: SequenceModel, generator: torch.Generator | None = None, beam: int | None = None,
               **_ignored) -> dict:
        """The caption of one held-out scene (picked by `generator`), beside the truth. Captions are
        decoded, not sampled, so length and temperature do not apply."""
        index = int(torch.randint(len(self.heldout), (1,), generator=generator))
        scene = self.heldout[index]
        out = self.caption(model, scene, beam=self.beam if beam is None else beam)
        mark = "=" if out["caption"] == scene.caption else "≠"
        return {**out, "text": f"{out['caption']} {mark} {scene.caption}", "scene_index": index}

    @torch.no_grad()
    def colour_attention_hits(self, model: SequenceModel, scenes: list[sc.Scene] | None = None) -> dict:
        """How often, for a word naming a shape's colour, the attention peaks inside that shape.

        The decoder reads the true caption (teacher forcing); at the step that predicts the colour
        word, the grid cell with the largest weight is a hit when it covers any pixel of the shape
        the word describes. `named`: the share of hits; `other`: the share of peaks on another shape
        of the scene instead (any peak on some shape is easy: shapes stand out from the background;
        looking at the right one is what attention has to learn)."""
        scenes = self.heldout if scenes is None else scenes
        with evaluating(model):
            device = next(model.parameters()).device
            rows, cols = model.grid_shape
            cell = self.settings.image_size // rows
            named = other = total = 0
            for start in range(0, len(scenes), 100):
                chunk = scenes[start: start + 100]
                batch = {k: v.to(device) for k, v in self.batch(chunk).items()}
                peaks = model.attention_maps(batch).argmax(dim=-1).cpu()  # (B, T): the peak cell of each step
                for scene, row_peaks in zip(chunk, peaks):
                    masks = [sc.shape_mask(shape, self.settings) for shape in scene.shapes]
                    for index, position in enumerate(colour_positions(scene)):
                        r, c = divmod(int(row_peaks[position]), cols)
                        touched = [bool(m[r * cell:(r + 1) * cell, c * cell:(c + 1) * cell].any()) for m in masks]
                        named += touched[index]
                        other += not touched[index] and any(touched)
                        total += 1
        return {"named": named / max(total, 1), "other": other / max(total, 1), "colour_words": total}

    # -- single images (the CLI's caption command and the Try page) ---------------------------------
    def attention_labels(self, probe: dict) -> dict:
        """The first probe scene: the words each step predicts; the keys are the feature grid's cells, numbered."""
        return {"queries": [self.vocab.words[i] for i in probe["y"][0].tolist() if i != self.vocab.pad], "keys": None}

    def inspection(self, model: SequenceModel, text: str | None = None) -> Inspection:
        """The scene `text` describes (or the first held-out scene), captioned greedily; the decoder then reads its
        own caption teacher-forced, one position per word."""
        scene = self.parse_scene(text) if text else self.heldout[0]
        out = self.caption(model, scene)
        x, y = self.vocab.teacher_forcing_batch([out["caption"]])
        batch = {"images": self.images([scene]), "x": x, "y": y}
        return Inspection(batch, {"core": ["<bos>", *out["words"]]}, None,
                          [f"the scene: {scene.caption}", f"captioned as: {out['caption']}"])

    def random_scene(self, seed: int) -> sc.Scene:
        """A scene drawn like the training scenes from `seed` (not necessarily a held-out one)."""
        return sc.random_scene(np.random.default_rng([seed, 104729]), self.settings)

    def parse_scene(self, description: str, seed: int = 0) -> sc.Scene:
        """A scene from words ("a small red circle above a blue square"); DataError if it cannot be read."""
        return sc.parse(description, self.settings, seed=seed)

    def compose_scene(self, items: list[dict], seed: int = 0, layout: str | None = None) -> sc.Scene:
        """A scene from picked shapes: dicts of kind, colour, size and optionally x, y (see scenes.compose)."""
        return sc.compose(items, self.settings, seed=seed, layout=layout)

    def render(self, scene: sc.Scene) -> np.ndarray:
        """(S, S, 3) uint8 picture of a scene."""
        return sc.to_uint8(sc.render(scene, self.settings))

    @torch.no_grad()
    def caption(self, model: SequenceModel, scene_or_image, beam: int = 1) -> dict:
        """Caption one scene, or one (S, S, 3) image (uint8, or floats in [0, 1]).

        Returns caption (text), words, attention ((words, rows, cols) numpy weights over the feature
        grid, each map summing to 1; None without attention), log_prob, and for a scene its reference."""
        if isinstance(scene_or_image, sc.Scene):
            image = sc.render(scene_or_image, self.settings)
        else:
            image = np.asarray(scene_or_image)
            if image.dtype == np.uint8:
                image = image.astype(np.float32) / 255
        side = self.settings.image_size
        if image.shape != (side, side, 3):
            raise DataError(f"this captioner reads {side}x{side} RGB images (got an array of shape {image.shape})")
        with evaluating(model):
            device = next(model.parameters()).device
            pixels = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[None].to(device)
            decoded = decode(model, pixels, beam)[0]
        words = [self.vocab.words[i] for i in decoded.ids]
        attention = None
        if decoded.attention is not None:
            attention = decoded.attention.reshape(len(words), *model.grid_shape).numpy()
        out = {"caption": " ".join(words), "words": words, "attention": attention, "log_prob": decoded.log_prob}
        if isinstance(scene_or_image, sc.Scene):
            out["reference"] = scene_or_image.caption
        return out
