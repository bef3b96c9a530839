"""The hidden-state explorer on the Inside page: units over a text, one unit on the text, units that follow a pattern."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from playground.data.errors import DataError
from playground.explorer.activations import PATTERN_CORE, Exploration, explore
from playground.explorer.patterns import PRESETS
from playground.models.cells import cell_spec
from playground.runstore.checkpoint import Loaded
from playground.viz import inside_charts

from .plain import plain
from .plot import plot

SHOWN_UNITS = 12  # units drawn before the user picks any
BEST_DRAWN = 3  # best units of a pattern drawn on the text


@st.cache_resource(show_spinner="Reading the text through the model...", max_entries=6)
def _explore(path: str, version: float, text: str, _loaded: Loaded) -> Exploration:
    """One trace per checkpoint version and text (a live run's checkpoint changes as it trains)."""
    return explore(_loaded.model, _loaded.task, text or None)


def _gate(loaded: Loaded, part: str) -> bool:
    """Whether `part` is a gate (drawn on 0..1) of the model's encoder or decoder cell."""
    model = loaded.config.model
    return any(part in cell_spec(arch).gates for arch in {model.arch, model.decoder_arch or model.arch})


def section(loaded: Loaded, path: str, version: float, key: str) -> None:
    st.text_area("Text to read", key=f"{key}_text", height=90, placeholder="empty: held-out text (or the task's "
                 "held-out example: a source sentence, a scene description)",
                 help="A text model reads it character by character; a translator reads it as a source sentence; a "
                      "captioner reads the scene it describes. Empty: an example the model never trained on.")
    text = st.session_state.get(f"{key}_text", "")
    try:
        exploration = _explore(path, version, text, loaded)
    except DataError as error:
        st.error(plain(error), icon=":material/error:")
        return
    for note in exploration.inspection.notes:
        st.caption(plain(note))
    cores = list(exploration.traces)
    columns = st.columns(3)
    core = columns[0].selectbox("Recurrent core", cores, key=f"{key}_core", disabled=len(cores) == 1,
                                help="A translator has an encoder (core) and a decoder.")
    parts = list(exploration.traces[core])
    part = columns[1].selectbox("State part or gate", parts, key=f"{key}_part",
                                help="h: the hidden state; c: an LSTM's cell state; the others are the cell's gates.")
    values = exploration.traces[core][part]
    layer = columns[2].selectbox("Layer", list(range(values.shape[0])), key=f"{key}_layer",
                                 disabled=values.shape[0] == 1)
    tokens = exploration.inspection.positions.get(core, [str(i) for i in range(values.shape[2])])
    unit_count = values.shape[1]
    chosen = st.multiselect("Units", list(range(unit_count)), default=list(range(min(SHOWN_UNITS, unit_count))),
                            key=f"{key}_units_{core}_{unit_count}", help=f"{unit_count} units in this layer (a bidirectional layer: the forward "
                                 "direction's units first, then the reverse direction's)")
    gate = _gate(loaded, part)
    plot(inside_charts.units_heatmap(tokens, values[layer][chosen], chosen,
                                     f"{part}, layer {layer}: the chosen units over the positions", gate),
         key=f"{key}_heatmap")
    if chosen:
        unit = st.selectbox("One unit on the text", chosen, key=f"{key}_unit")
        plot(inside_charts.text_heatmap(tokens, values[layer][unit], f"{part}, layer {layer}, unit {unit}", gate),
             key=f"{key}_text_unit")
    find_section(exploration, key, loaded)


def _first_found(exploration: Exploration, kinds: dict) -> str:
    """The first preset that holds somewhere in the text but not everywhere (else a regular expression)."""
    for name in kinds:
        if name in PRESETS:
            mask = exploration.mask(preset=name)
            if mask.min() != mask.max():
                return name
    return "regex" if "regex" in kinds else next(iter(kinds))


def find_section(exploration: Exploration, key: str, loaded: Loaded) -> None:
    st.subheader("Find units for a pattern")
    st.caption("Every unit of the first core (each state part and gate, each layer) is correlated with the pattern's "
               "mask over the positions, and ranked by the size of its correlation. Chance: the same, with the mask "
               "moved by random circular shifts, for the best unit.")
    kinds = {name: preset.label for name, preset in PRESETS.items()} | {"regex": "a regular expression",
                                                                         "span": "positions I mark"}
    if exploration.text is None:
        kinds = {"span": "positions I mark"}
    columns = st.columns([1, 2])
    kind = columns[0].selectbox("Pattern", list(kinds), format_func=kinds.get, key=f"{key}_pattern",
                                index=list(kinds).index(_first_found(exploration, kinds)))
    positions = len(exploration.inspection.positions[PATTERN_CORE])
    try:
        if kind == "regex":
            regex = columns[1].text_input("Regular expression", value=r"\d", key=f"{key}_regex",
                                          help="Every character a match covers is in the pattern.")
            ranked, baseline = exploration.find(regex=regex)
            mask = exploration.mask(regex=regex)
        elif kind == "span":
            start, end = columns[1].slider("Positions", 0, positions, (0, min(positions, 10)), key=f"{key}_span")
            ranked, baseline = exploration.find(span=(start, end))
            mask = exploration.mask(span=(start, end))
        else:
            columns[1].caption(plain(f"matches {PRESETS[kind].regex}"))
            ranked, baseline = exploration.find(preset=kind)
            mask = exploration.mask(preset=kind)
    except DataError as error:
        st.info(plain(error), icon=":material/info:")
        return
    best = ranked[0]
    st.markdown(f"Best unit: **{best.part}, layer {best.layer}, unit {best.unit}**, correlation "
                f"**{best.correlation:+.3f}**; chance gives the best unit {baseline['mean']:.3f} on average "
                f"(95th percentile {baseline['p95']:.3f}, {baseline['shuffles']} shifts).")
    table = pd.DataFrame([{"part": u.part, "layer": u.layer, "unit": u.unit, "correlation": round(u.correlation, 3)}
                          for u in ranked[:10]])
    st.dataframe(table, hide_index=True, width="stretch")
    tokens = exploration.inspection.positions[PATTERN_CORE]
    for i, unit in enumerate(ranked[:BEST_DRAWN]):
        values = exploration.traces[PATTERN_CORE][unit.part][unit.layer, unit.unit]
        plot(inside_charts.text_heatmap(tokens, values, f"#{i + 1}: {unit.part}, layer {unit.layer}, unit "
                                        f"{unit.unit} (r = {unit.correlation:+.3f}; the pattern underlined)",
                                        _gate(loaded, unit.part), mask=np.asarray(mask)), key=f"{key}_best_{i}")
