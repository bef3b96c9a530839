"""Try translates with the pretrained dates model (heatmap, beam alternatives) and captions scenes with the
pretrained captioner (attention overlays); Data takes translation pair files and names a bad line."""
import numpy as np

from app_helpers import no_exception, open_page, texts


def test_try_translates_a_date_with_attention_and_alternatives(home):
    at = open_page("views/try.py", query={"model": "pretrained:dates"})
    no_exception(at)
    at.text_input(key="translate_text_dates").set_value("tuesday 3 march 1998").run()
    at.number_input(key="translate_beam").set_value(3).run()
    no_exception(at)
    assert "1998-03-03" in texts(at.code)
    heatmap = at.get("plotly_chart")[0].proto.spec
    assert '"heatmap"' in heatmap and "source (input) tokens" in heatmap
    alternatives = at.dataframe[0].value
    assert len(alternatives) == 3 and alternatives["output"].iloc[0] == "1998-03-03"
    assert alternatives["probability"].is_monotonic_decreasing

    at.text_input(key="translate_text_dates").set_value("   ").run()
    no_exception(at)
    assert "nothing to translate" in texts(at.error)
    assert not at.get("plotly_chart")


def test_try_captions_random_and_composed_scenes_with_overlays(home):
    at = open_page("views/try.py", query={"model": "pretrained:captioner"})
    no_exception(at)
    assert at.code[0].value  # a caption of the default random scene
    overlays = at.get("image")[1].proto.imgs
    assert [o.caption for o in overlays] == at.code[0].value.split()  # one attention overlay per caption word

    at.radio(key="scene_source").set_value("compose").run()
    at.selectbox(key="compose_kind_0").set_value("circle")
    at.selectbox(key="compose_colour_0").set_value("red")
    at.selectbox(key="compose_size_0").set_value("large")
    at.selectbox(key="compose_kind_1").set_value("square")
    at.selectbox(key="compose_colour_1").set_value("blue")
    at.selectbox(key="compose_size_1").set_value("small")
    at.radio(key="compose_layout").set_value("column").run()
    no_exception(at)
    reference = at.code[1].value
    assert reference == "a large red circle above a small blue square"
    assert [o.caption for o in at.get("image")[1].proto.imgs] == at.code[0].value.split()

    at.radio(key="scene_source").set_value("describe").run()
    at.text_input(key="scene_text").set_value("a huge red circle").run()
    no_exception(at)
    assert "Cannot draw this scene" in texts(at.error)


def test_data_accepts_pairs_and_names_the_bad_line(home):
    at = open_page("views/data.py")
    no_exception(at)
    good = "source\ttarget\nhello\tbonjour\ncat\tchat\ndog\tchien\n".encode()
    at.file_uploader(key="pair_uploads").set_value(("french.tsv", good, "text/tab-separated-values")).run()
    no_exception(at)
    assert "3 pairs" in texts(at.success)
    assert (home / "datasets" / "french.tsv").is_file()

    bad = "hello\tbonjour\ncat\tchat\njust one column\n".encode()
    at.file_uploader(key="pair_uploads").set_value(("broken.tsv", bad, "text/tab-separated-values")).run()
    no_exception(at)
    assert "line 3" in texts(at.error) and "one column" in texts(at.error)
