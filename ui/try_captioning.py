"""Try a captioner: draw a random scene, compose one shape by shape, or describe it in words; see the
caption beside the truth and, for each word, where the model looked in the picture."""
from __future__ import annotations

import streamlit as st

from playground.viz import imaging
from playground.runstore.checkpoint import Loaded
from playground.config import ConfigError
from playground.data import scenes
from playground.data.errors import DataError
from playground.tasks.captioning import MAX_BEAM
from .plain import plain

SOURCES = {"random": "Random scene", "compose": "Compose one", "describe": "Describe it in words"}
SHOWN_SIDE = 240  # pixels the scene is shown at (scenes are 48 or 64 pixels: enlarged with crisp blocks)
OVERLAY_SIDE = 96  # pixels per word in the attention strip


def _compose_items(task, count: int, positioned: bool) -> list[dict]:
    """One row of widgets per shape: kind, colour, size, and x/y when the user places shapes."""
    side, items = task.settings.image_size, []
    colours = list(task.settings.colours)
    for i in range(count):
        columns = st.columns(5 if positioned else 3)
        item = {"kind": columns[0].selectbox(f"Shape {i + 1}", scenes.SHAPES, index=i % len(scenes.SHAPES),
                                             key=f"compose_kind_{i}"),
                "colour": columns[1].selectbox(f"Colour {i + 1}", colours, index=i % len(colours),
                                               key=f"compose_colour_{i}"),
                "size": columns[2].selectbox(f"Size {i + 1}", list(scenes.SIZES), index=i % len(scenes.SIZES),
                                             key=f"compose_size_{i}")}
        if positioned:
            slot = (i + 1) * side // (count + 1)  # spread along a row by default
            item["x"] = columns[3].slider(f"x {i + 1}", 0, side - 1, slot, key=f"compose_x_{i}")
            item["y"] = columns[4].slider(f"y {i + 1}", 0, side - 1, side // 2, key=f"compose_y_{i}")
        items.append(item)
    return items


def pick_scene(task) -> scenes.Scene:
    """The scene the user asked for; DataError when it cannot be made (bad words, overlapping shapes)."""
    source = st.radio("Scene", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="scene_source")
    if source == "random":
        seed = st.number_input("Scene seed", 0, 2**31 - 1, 0, key="scene_seed",
                               help="Each number draws another scene, like the ones the model trained on.")
        return task.random_scene(int(seed))
    if source == "describe":
        text = st.text_input("Describe a scene", "a small red circle above a large blue square", key="scene_text",
                             help=f"Shapes: {', '.join(scenes.SHAPES)}. Colours: {', '.join(task.settings.colours)}. "
                                  f"Sizes: {', '.join(scenes.SIZES)}. Relations: {', '.join(scenes.RELATIONS)}.")
        return task.parse_scene(text, seed=0)
    first, second, third = st.columns(3)
    count = first.number_input("Shapes", 1, scenes.MAX_SHAPES, min(task.settings.shapes, scenes.MAX_SHAPES),
                               key="compose_count")
    positioned = second.toggle("Place them myself (x, y in pixels)", key="compose_positioned")
    layout = third.radio("Layout", ["row", "column"], horizontal=True, key="compose_layout", disabled=positioned)
    items = _compose_items(task, int(count), positioned)
    return task.compose_scene(items, seed=0, layout=None if positioned else layout)


def draw(loaded: Loaded) -> None:
    task = loaded.task
    side = task.settings.image_size
    st.markdown(f"This captioner reads {side}×{side} pictures of {task.settings.shapes}-shape scenes and writes "
                "what it sees. With attention it looks at a different part of the picture for each word.")
    try:
        scene = pick_scene(task)
    except DataError as exc:
        st.error(f"Cannot draw this scene: {plain(exc)}", icon=":material/warning:")
        return
    beam = st.number_input("Beam width", 1, MAX_BEAM, 1, key="caption_beam", help="1 is greedy decoding.")
    try:
        result = task.caption(loaded.model, scene, beam=int(beam))
    except (DataError, ConfigError) as exc:
        st.error(f"Cannot caption this scene: {plain(exc)}", icon=":material/warning:")
        return

    image = task.render(scene)
    picture, words = st.columns([1, 2])
    picture.image(imaging.enlarge(image, max(1, SHOWN_SIDE // side)), caption="The scene the model reads")
    with words:
        right = result["caption"] == result["reference"]
        st.markdown("**Caption**")
        st.code(result["caption"], language=None, wrap_lines=True)
        st.markdown("**The truth**")
        st.code(result["reference"], language=None, wrap_lines=True)
        if right:
            st.success("The caption matches the scene exactly.", icon=":material/check_circle:")
        else:
            st.warning("The caption differs from the truth.", icon=":material/compare_arrows:")
        st.caption(f"log-probability of the caption {result['log_prob']:.3f}")

    if result["attention"] is None:
        st.info("This captioner has no attention: it reads the picture once, as one vector, so there is no map "
                "of where it looked for each word.", icon=":material/visibility_off:")
        return
    st.markdown("**Where it looked for each word** (bright is high attention)")
    factor = max(1, OVERLAY_SIDE // side)
    overlays = [imaging.enlarge(imaging.attention_overlay(image, weights), factor) for weights in result["attention"]]
    st.image(overlays, caption=result["words"])
    rows, cols = result["attention"].shape[1:]
    st.caption(f"The model sees a {rows}×{cols} grid of image features; each picture shows one word's attention "
               "over that grid. A colour word should light up its own shape.")
