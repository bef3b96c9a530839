"""Generated scenes for captioning: small RGB images of one to three shapes, and their one true caption.

    "a small red circle above a large blue square"

Everything is drawn with numpy from a seed: training data is unlimited, the held-out set is fixed,
and nothing is downloaded. The shapes of a scene sit in separate slots along one axis (a row or a
column), never overlap, and are captioned in reading order (left to right, top to bottom), so each
image has exactly one correct caption. Across the axis a shape drifts from its neighbour by less
than half their distance along it, so "above" never looks like "left of".
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from .errors import DataError

SHAPES = ("circle", "square", "triangle", "diamond")
# Colours in the order a smaller colour vocabulary takes them (the first N).
PALETTE = {
    "red": (220, 45, 45), "green": (50, 180, 70), "blue": (45, 90, 235), "yellow": (240, 220, 40),
    "purple": (155, 70, 205), "orange": (250, 135, 25), "cyan": (40, 205, 215), "white": (240, 240, 240),
}
SIZES = {"small": 0.09, "large": 0.15}  # half-extent of a shape as a fraction of the image side
BACKGROUND = (22, 22, 30)
LAYOUT_WORDS = {"row": "left of", "column": "above"}  # the relation a caption uses between neighbours
# Relations a description may use: (layout, whether it reverses the reading order).
RELATIONS = {"above": ("column", False), "below": ("column", True), "left of": ("row", False),
             "right of": ("row", True)}
MAX_SHAPES = 3


@dataclass(frozen=True)
class SceneSettings:
    """How scenes are drawn: resolved from a preset plus overrides (see PRESETS)."""

    shapes: int  # shapes per scene, 1-3
    colours: tuple[str, ...]  # colour names scenes use (the first N of PALETTE)
    noise: float  # standard deviation of Gaussian pixel noise (pixels are in [0, 1])
    image_size: int  # image side in pixels

    def to_dict(self) -> dict:
        return {**asdict(self), "colours": list(self.colours)}

    @classmethod
    def from_dict(cls, data: dict) -> "SceneSettings":
        return cls(int(data["shapes"]), tuple(data["colours"]), float(data["noise"]), int(data["image_size"]))

    def radius(self, size: str) -> int:
        return max(2, round(SIZES[size] * self.image_size))


# Difficulty presets that `--dataset` names: (shapes, colours, noise, image size).
PRESETS = {
    "shapes1": (1, 6, 0.0, 48),
    "shapes2": (2, 6, 0.05, 48),
    "two-shapes": (2, 6, 0.05, 48),
    "shapes3": (3, 6, 0.05, 64),
    "shapes2-hard": (2, 8, 0.15, 48),
}


def resolve_settings(preset: str, shapes: int | None = None, colours: int | None = None,
                     noise: float | None = None, image_size: int | None = None) -> SceneSettings:
    """A preset's settings with any of them overridden; a clear DataError for a bad combination."""
    if preset not in PRESETS:
        raise DataError(f"unknown scene preset {preset!r}; available: {', '.join(PRESETS)}")
    p_shapes, p_colours, p_noise, p_size = PRESETS[preset]
    settings = SceneSettings(
        shapes=p_shapes if shapes is None else shapes,
        colours=tuple(list(PALETTE)[: p_colours if colours is None else colours]),
        noise=p_noise if noise is None else noise,
        image_size=p_size if image_size is None else image_size,
    )
    if not 1 <= settings.shapes <= MAX_SHAPES:
        raise DataError(f"scenes hold 1 to {MAX_SHAPES} shapes (got {settings.shapes})")
    if colours is not None and not 2 <= colours <= len(PALETTE):
        raise DataError(f"scenes use 2 to {len(PALETTE)} colours (got {colours})")
    if not 0.0 <= settings.noise <= 0.5:
        raise DataError(f"pixel noise must be between 0 and 0.5 (got {settings.noise})")
    if not 32 <= settings.image_size <= 128 or settings.image_size % 8:
        raise DataError(f"image size must be a multiple of 8 between 32 and 128 pixels (got {settings.image_size})")
    return settings


@dataclass(frozen=True)
class Shape:
    kind: str  # one of SHAPES
    colour: str  # a PALETTE name
    size: str  # small | large
    x: int  # centre column, pixels
    y: int  # centre row, pixels

    def phrase(self) -> str:
        return f"a {self.size} {self.colour} {self.kind}"


@dataclass(frozen=True)
class Scene:
    shapes: tuple[Shape, ...]  # in caption (reading) order
    layout: str  # row | column ("row" for a single shape)
    noise_seed: int  # seeds the pixel noise, so rendering the same scene twice gives the same image

    @property
    def caption(self) -> str:
        return f" {LAYOUT_WORDS[self.layout]} ".join(shape.phrase() for shape in self.shapes)

    @property
    def key(self) -> tuple:
        """What makes two scenes the same picture (noise aside): the held-out set is disjoint on it."""
        return (self.layout, *((s.kind, s.colour, s.size, s.x, s.y) for s in self.shapes))


# -- making scenes ------------------------------------------------------------------------------
def random_scene(rng: np.random.Generator, settings: SceneSettings) -> Scene:
    """A random scene: random kinds, colours and sizes placed in random slots of a random layout."""
    items = [(SHAPES[rng.integers(len(SHAPES))], settings.colours[rng.integers(len(settings.colours))],
              ("small", "large")[rng.integers(2)]) for _ in range(settings.shapes)]
    layout = ("row", "column")[rng.integers(2)]
    return place(items, layout, settings, rng)


def place(items: list[tuple[str, str, str]], layout: str, settings: SceneSettings,
          rng: np.random.Generator) -> Scene:
    """Put (kind, colour, size) items, in reading order, into slots along `layout` at random offsets."""
    side, count = settings.image_size, len(items)
    bounds = [round(i * side / count) for i in range(count + 1)]  # slot i spans [bounds[i], bounds[i+1])
    shapes: list[Shape] = []
    across_prev, along_prev = None, None
    for i, (kind, colour, size) in enumerate(items):
        r = settings.radius(size)
        along = int(rng.integers(bounds[i] + r, bounds[i + 1] - r))  # fully inside its own slot
        if across_prev is None:
            across = int(rng.integers(r, side - r))
        else:
            drift = (along - along_prev) // 2  # less than half the distance along the axis
            across = int(np.clip(across_prev + rng.integers(-drift, drift + 1), r, side - 1 - r))
        x, y = (along, across) if layout == "row" else (across, along)
        shapes.append(Shape(kind, colour, size, x, y))
        across_prev, along_prev = across, along
    return Scene(tuple(shapes), layout if count > 1 else "row", int(rng.integers(2**31 - 1)))


def heldout_scenes(settings: SceneSettings, count: int, seed: int) -> list[Scene]:
    """The fixed held-out set: `count` distinct scenes drawn from `seed`."""
    rng = np.random.default_rng([seed, 7919])  # a stream of its own, unlike any training seed
    scenes, seen = [], set()
    for _ in range(50 * count):
        if len(scenes) == count:
            return scenes
        scene = random_scene(rng, settings)
        if scene.key not in seen:
            seen.add(scene.key)
            scenes.append(scene)
    if len(scenes) < count:
        raise DataError(f"these settings draw too few distinct scenes for {count} held-out ones: "
                        "lower test_scenes or allow more shapes, colours or pixels")
    return scenes


def training_scenes(settings: SceneSettings, seed: int, exclude: set):
    """An endless stream of random scenes, skipping any whose picture is in `exclude` (the held-out keys)."""
    rng = np.random.default_rng(seed)
    rejected = 0
    while True:
        scene = random_scene(rng, settings)
        if scene.key not in exclude:
            rejected = 0
            yield scene
        else:
            rejected += 1
            if rejected == 1000:
                raise DataError("almost every scene these settings can draw is held out: lower test_scenes")


def compose(items: list[dict], settings: SceneSettings, seed: int = 0, layout: str | None = None) -> Scene:
    """A scene the user describes: items are dicts with kind, colour, size and optionally x and y (pixels).

    Without positions the items are placed in reading order along `layout` (row or column) at
    random offsets drawn from `seed`. With positions (all or none), the layout follows from the
    geometry and the items are sorted into reading order; shapes must not overlap.
    """
    if not 1 <= len(items) <= MAX_SHAPES:
        raise DataError(f"a scene holds 1 to {MAX_SHAPES} shapes (got {len(items)})")
    for item in items:
        _check_item(item, settings)
    triples = [(item["kind"], item["colour"], item["size"]) for item in items]
    positioned = [item.get("x") is not None and item.get("y") is not None for item in items]
    rng = np.random.default_rng(seed)
    if not any(positioned):
        if layout not in (None, "row", "column"):
            raise DataError(f"layout must be row or column (got {layout!r})")
        return place(triples, layout or "row", settings, rng)
    if not all(positioned):
        raise DataError("give every shape a position (x and y), or none of them")
    shapes = [Shape(*triple, int(item["x"]), int(item["y"])) for triple, item in zip(triples, items)]
    for shape in shapes:
        r = settings.radius(shape.size)
        if not (r <= shape.x < settings.image_size - r and r <= shape.y < settings.image_size - r):
            raise DataError(f"the {shape.kind} at ({shape.x}, {shape.y}) does not fit inside the "
                            f"{settings.image_size}-pixel image")
    masks = [shape_mask(shape, settings) for shape in shapes]
    if len(shapes) > 1 and (np.sum(masks, axis=0) > 1).any():
        raise DataError("shapes overlap: move them apart")
    xs, ys = [s.x for s in shapes], [s.y for s in shapes]
    inferred = "row" if np.ptp(xs) >= np.ptp(ys) else "column"
    order = sorted(range(len(shapes)), key=lambda i: (xs[i], ys[i]) if inferred == "row" else (ys[i], xs[i]))
    return Scene(tuple(shapes[i] for i in order), inferred, int(rng.integers(2**31 - 1)))


def _check_item(item: dict, settings: SceneSettings) -> None:
    kind, colour, size = item.get("kind"), item.get("colour"), item.get("size")
    if kind not in SHAPES:
        raise DataError(f"unknown shape {kind!r}; shapes: {', '.join(SHAPES)}")
    if colour not in settings.colours:
        raise DataError(f"{colour!r} is not one of this task's colours: {', '.join(settings.colours)}")
    if size not in SIZES:
        raise DataError(f"unknown size {size!r}; sizes: {', '.join(SIZES)}")


def parse(description: str, settings: SceneSettings, seed: int = 0) -> Scene:
    """A scene from words: "a small red circle below a large blue square" (sizes optional, 'large' by
    default). One relation throughout: above, below, 'left of' or 'right of'."""
    words = description.lower().replace(",", " ").split()
    if not words:
        raise DataError("the scene description is empty; try \"a small red circle above a large blue square\"")
    items, relation, i = [], None, 0
    while True:
        item, i = _parse_phrase(words, i, settings)
        items.append(item)
        if i == len(words):
            break
        found = next((r for r in RELATIONS if words[i: i + len(r.split())] == r.split()), None)
        if found is None:
            raise DataError(f"expected a relation ({', '.join(RELATIONS)}) after {' '.join(words[:i])!r}, "
                            f"got {words[i]!r}")
        if relation is not None and found != relation:
            raise DataError(f"use one relation throughout the description (got {relation!r} and {found!r})")
        relation, i = found, i + len(found.split())
    if len(items) > MAX_SHAPES:
        raise DataError(f"a scene holds at most {MAX_SHAPES} shapes (the description names {len(items)})")
    layout, reverse = RELATIONS[relation] if relation else ("row", False)
    return compose(items[::-1] if reverse else items, settings, seed=seed, layout=layout)


def _parse_phrase(words: list[str], i: int, settings: SceneSettings) -> tuple[dict, int]:
    """One "a [size] colour shape" phrase starting at words[i]; returns it and the next index."""
    if i < len(words) and words[i] in ("a", "an"):
        i += 1
    size = "large"
    if i < len(words) and words[i] in SIZES:
        size, i = words[i], i + 1
    if i >= len(words) or words[i] not in settings.colours:
        got = repr(words[i]) if i < len(words) else "the end of the description"
        raise DataError(f"expected a colour ({', '.join(settings.colours)}) at word {i + 1}, got {got} "
                        f"(a size word, {' or '.join(SIZES)}, may come before the colour)")
    colour, i = words[i], i + 1
    if i >= len(words) or words[i] not in SHAPES:
        got = repr(words[i]) if i < len(words) else "the end of the description"
        raise DataError(f"expected a shape ({', '.join(SHAPES)}) at word {i + 1}, got {got}")
    return {"kind": words[i], "colour": colour, "size": size}, i + 1


# -- drawing ------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def footprint(kind: str, r: int) -> np.ndarray:
    """(2r+1, 2r+1) bool: the pixels a shape of half-extent r covers around its centre pixel.
    Centres are whole pixels, so one footprint serves every position."""
    dy, dx = np.mgrid[-r: r + 1, -r: r + 1]
    if kind == "circle":
        mask = dx * dx + dy * dy <= r * r
    elif kind == "square":
        mask = np.ones_like(dx, dtype=bool)
    elif kind == "diamond":
        mask = np.abs(dx) + np.abs(dy) <= r
    else:  # triangle pointing up: apex at the top, base of width 2r + 1 at the bottom
        mask = 2 * np.abs(dx) <= dy + r
    mask.flags.writeable = False
    return mask


def _box(shape: Shape, settings: SceneSettings) -> tuple[slice, slice]:
    r = settings.radius(shape.size)
    return slice(shape.y - r, shape.y + r + 1), slice(shape.x - r, shape.x + r + 1)


def shape_mask(shape: Shape, settings: SceneSettings) -> np.ndarray:
    """(H, W) bool: the pixels the shape covers."""
    mask = np.zeros((settings.image_size, settings.image_size), dtype=bool)
    mask[_box(shape, settings)] = footprint(shape.kind, settings.radius(shape.size))
    return mask


def render(scene: Scene, settings: SceneSettings) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1]: the background, the shapes, then the scene's pixel noise."""
    side = settings.image_size
    image = np.empty((side, side, 3), dtype=np.float32)
    image[:] = np.array(BACKGROUND, dtype=np.float32) / 255
    for shape in scene.shapes:
        box = image[_box(shape, settings)]  # a view: writing into it draws on the image
        colour = np.array(PALETTE[shape.colour], dtype=np.float32) / 255
        box[footprint(shape.kind, settings.radius(shape.size))] = colour
    if settings.noise > 0:
        noise = np.random.default_rng(scene.noise_seed).standard_normal(image.shape, dtype=np.float32)
        image = np.clip(image + settings.noise * noise, 0.0, 1.0)
    return image


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
