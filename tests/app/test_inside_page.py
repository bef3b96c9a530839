"""The Inside page: hidden states over a text, units for a pattern, eigenvalues over training, attention readouts."""
from __future__ import annotations

from app_helpers import no_exception, open_page, texts


def test_inside_page_on_a_shipped_text_model(home):
    at = open_page("views/inside.py", {"model": "pretrained:char-tiny"})
    no_exception(at)
    assert "Inside the model" in texts(at.title)
    assert "Find units for a pattern" in texts(at.subheader)
    assert "Best unit:" in texts(at.markdown)
    at.text_area(key="inside_text").input("the cat sat on the mat.\nthe dog ran.").run()
    no_exception(at)
    at.selectbox(key="inside_pattern").select("regex").run()
    at.text_input(key="inside_regex").input("at").run()
    no_exception(at)
    assert "chance gives the best unit" in texts(at.markdown)
    at.text_area(key="inside_text").input("zzé").run()
    assert "never saw" in texts(at.error)  # a clear message, not a traceback


def test_inside_page_on_a_run_shows_eigenvalues_at_each_evaluation(populated):
    at = open_page("views/inside.py", {"model": f"run:{populated['rnn-tanh']}"})
    no_exception(at)
    assert "Find units for a pattern" in texts(at.subheader)  # the first tab, the only one drawn
    assert not at.select_slider  # the other tabs' charts are built only when opened
    at.session_state["inside_tab"] = "Eigenvalues"
    at.run()
    no_exception(at)
    assert at.select_slider(key="spectrum_step") is not None  # the run was evaluated at several steps
    at.session_state["inside_tab"] = "Attention over training"
    at.run()
    assert "No attention recorded" in texts(at.info)


def test_inside_page_on_a_translator_shows_attention(home):
    at = open_page("views/inside.py", {"model": "pretrained:dates"})
    no_exception(at)
    assert "decoder" in [str(o) for o in at.selectbox(key="inside_core").options]
    at.session_state["inside_tab"] = "Attention over training"
    at.run()
    no_exception(at)
    assert "Entropy" in texts(at.caption)
