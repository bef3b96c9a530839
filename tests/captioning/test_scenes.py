"""The scene generator: reproducible, captions that say what is drawn, a fixed disjoint held-out set."""
from __future__ import annotations

import numpy as np
import pytest

from playground.data import scenes as sc
from playground.data.captions import CaptionVocabulary, grammar_words
from playground.data.errors import DataError

CLEAN = {"shapes1": sc.resolve_settings("shapes1", noise=0.0), "shapes2": sc.resolve_settings("shapes2", noise=0.0),
         "shapes3": sc.resolve_settings("shapes3", noise=0.0)}


def scenes_of(settings, count=60, seed=0):
    rng = np.random.default_rng(seed)
    return [sc.random_scene(rng, settings) for _ in range(count)]


def test_same_seed_same_scenes_and_pixels_other_seed_differs():
    settings = sc.resolve_settings("shapes2")
    first, again, other = scenes_of(settings, 20, 5), scenes_of(settings, 20, 5), scenes_of(settings, 20, 6)
    assert first == again
    assert all(np.array_equal(sc.render(a, settings), sc.render(b, settings)) for a, b in zip(first, again))
    assert [s.caption for s in first] != [s.caption for s in other]


@pytest.mark.parametrize("preset", list(CLEAN))
def test_caption_names_what_is_drawn(preset):
    settings = CLEAN[preset]
    for scene in scenes_of(settings):
        image = sc.to_uint8(sc.render(scene, settings))
        words = scene.caption.split()
        assert len(scene.shapes) == settings.shapes
        for shape, phrase in zip(scene.shapes, scene.caption.split(f" {sc.LAYOUT_WORDS[scene.layout]} ")):
            assert phrase == f"a {shape.size} {shape.colour} {shape.kind}"
            # the centre pixel has the named colour, and the shape covers exactly its footprint
            assert tuple(image[shape.y, shape.x]) == sc.PALETTE[shape.colour]
            mask = sc.shape_mask(shape, settings)
            assert (image[mask] == sc.PALETTE[shape.colour]).all()
        assert set(words) <= set(grammar_words(settings.colours))


def test_footprints_differ_by_kind_and_size():
    radius = CLEAN["shapes2"].radius
    masks = {(kind, size): sc.footprint(kind, radius(size)) for kind in sc.SHAPES for size in sc.SIZES}
    small = [masks[(kind, "small")] for kind in sc.SHAPES]
    assert all(not np.array_equal(a, b) for i, a in enumerate(small) for b in small[i + 1:])
    assert all(masks[(kind, "small")].sum() < masks[(kind, "large")].sum() for kind in sc.SHAPES)


@pytest.mark.parametrize("preset", ["shapes2", "shapes3"])
def test_reading_order_is_unambiguous_and_shapes_do_not_overlap(preset):
    settings = CLEAN[preset]
    for scene in scenes_of(settings, 100):
        masks = [sc.shape_mask(s, settings) for s in scene.shapes]
        assert (np.sum(masks, axis=0) <= 1).all()
        for a, b in zip(scene.shapes, scene.shapes[1:]):
            along, across = (b.x - a.x, b.y - a.y) if scene.layout == "row" else (b.y - a.y, b.x - a.x)
            assert along > 0  # left to right, top to bottom
            assert abs(across) < along  # "above" never looks like "left of"


def test_noise_changes_pixels_but_not_the_scene():
    noisy = sc.resolve_settings("shapes2-hard")
    scene = scenes_of(noisy, 1)[0]
    clean = sc.render(scene, sc.resolve_settings("shapes2-hard", noise=0.0))
    image = sc.render(scene, noisy)
    assert image.dtype == np.float32 and image.min() >= 0 and image.max() <= 1
    assert 0.05 < float(np.abs(image - clean).mean()) < 0.2


def test_heldout_set_is_fixed_distinct_and_disjoint_from_training():
    # a tiny scene space (one shape, two colours, 32 px) so training would hit held-out pictures by chance
    settings = sc.resolve_settings("shapes1", colours=2, image_size=32)
    heldout = sc.heldout_scenes(settings, 500, seed=0)
    assert heldout == sc.heldout_scenes(settings, 500, seed=0)
    assert heldout != sc.heldout_scenes(settings, 500, seed=1)
    keys = {s.key for s in heldout}
    assert len(keys) == 500
    stream = sc.training_scenes(settings, seed=3, exclude=keys)
    assert not any(next(stream).key in keys for _ in range(3000))
    unguarded = sc.training_scenes(settings, seed=3, exclude=set())
    assert sum(next(unguarded).key in keys for _ in range(3000)) > 20  # the exclusion is what keeps them apart


def test_parse_round_trips_and_reorders_reversed_relations():
    settings = sc.resolve_settings("shapes3")
    for scene in scenes_of(settings, 20):
        assert sc.parse(scene.caption, settings, seed=1).caption == scene.caption
    below = sc.parse("a small red circle below a large blue square", settings)
    assert below.caption == "a large blue square above a small red circle"
    right = sc.parse("red circle right of a green triangle, right of a yellow diamond", settings)
    assert right.caption == ("a large yellow diamond left of a large green triangle left of a large red circle")


@pytest.mark.parametrize("description, message", [
    ("", "empty"),
    ("a small purpel circle", "expected a colour"),
    ("a small red hexagon", "expected a shape"),
    ("a red circle near a blue square", "expected a relation"),
    ("a red circle above a blue square left of a green diamond", "one relation"),
    ("a red circle above a blue square above a red square above a green square", "at most 3"),
    ("a small red circle above", "the end of the description"),
    ("a white circle", "expected a colour"),  # white is not among shapes2's six colours
])
def test_bad_descriptions_get_one_clear_sentence(description, message):
    with pytest.raises(DataError, match=message) as info:
        sc.parse(description, sc.resolve_settings("shapes2"))
    assert "\n" not in str(info.value)


def test_compose_with_positions_infers_layout_and_checks_fit_and_overlap():
    settings = CLEAN["shapes2"]
    items = [{"kind": "square", "colour": "blue", "size": "large", "x": 34, "y": 20},
             {"kind": "circle", "colour": "red", "size": "small", "x": 10, "y": 24}]
    scene = sc.compose(items, settings)
    assert scene.caption == "a small red circle left of a large blue square"
    with pytest.raises(DataError, match="overlap"):
        sc.compose([{**items[0]}, {**items[1], "x": 30}], settings)
    with pytest.raises(DataError, match="does not fit"):
        sc.compose([{**items[0], "x": 46}], settings)
    with pytest.raises(DataError, match="every shape a position"):
        sc.compose([items[0], {k: v for k, v in items[1].items() if k not in "xy"}], settings)


def test_presets_and_settings_errors():
    assert sc.resolve_settings("two-shapes") == sc.resolve_settings("shapes2")
    with pytest.raises(DataError, match="unknown scene preset 'tiny'"):
        sc.resolve_settings("tiny")
    with pytest.raises(DataError, match="multiple of 8"):
        sc.resolve_settings("shapes2", image_size=50)
    assert sc.SceneSettings.from_dict(CLEAN["shapes3"].to_dict()) == CLEAN["shapes3"]


def test_caption_vocabulary_round_trip():
    vocab = CaptionVocabulary(grammar_words(CLEAN["shapes2"].colours))
    x, y = vocab.teacher_forcing_batch(["a small red circle", "a large blue square above a small green diamond"])
    assert x.shape == y.shape == (2, 10)
    assert x[0, 0] == vocab.bos and y[0, 4] == vocab.eos and (y[0, 5:] == vocab.pad).all()
    assert vocab.decode(y[1]) == "a large blue square above a small green diamond"
    with pytest.raises(DataError, match="does not know: hexagon"):
        vocab.encode("a small red hexagon")
