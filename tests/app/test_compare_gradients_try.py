"""Compare shows two runs side by side; Gradients fits decay rates; Try generates and refuses
checkpoints that are not ours; a race needs two architectures."""
import io
import zipfile

from playground.runstore import export
from playground.experiments.race import Entrant
from playground.runstore.store import RunStore

from app_helpers import no_exception, open_page, texts


def test_compare_shows_two_runs_side_by_side(populated):
    runs = [populated["lstm"], populated["rnn-tanh"]]
    at = open_page("views/compare.py", query={"runs": runs})
    no_exception(at)
    table = at.dataframe[0].value
    assert list(table["architecture"]) == ["lstm", "rnn-tanh"]
    assert table["bits per char"].notna().all()
    assert len(at.get("plotly_chart")) == 5  # loss by step and by time, validation, gradient norm, flow
    samples = [c.value for c in at.code]
    assert len(samples) == 2 and all(samples)


def test_gradients_fits_a_decay_rate_per_run(populated):
    at = open_page("views/gradients.py", query={"runs": [populated["lstm"], populated["rnn-tanh"]]})
    no_exception(at)
    table = at.dataframe[0].value
    assert set(table["run"].str.split(" · ").str[0]) == {"lstm 1x16 on char:tiny", "rnn-tanh 1x16 on char:tiny"}
    assert ((table["factor per step"] > 0) & (table["factor per step"] < 10)).all()
    assert "Gate statistics are recorded by the scratch backend" in texts(at.caption)


def test_gradients_with_three_runs_stays_legible(populated):
    """A run that diverged early has one evaluation near both chosen steps: it is listed once, not twice; and
    with more than two runs the radius chart starts with two of its four readouts (a legend of 4 x runs)."""
    at = open_page("views/gradients.py", query={"runs": [populated["lstm"], populated["rnn-tanh"], populated["diverged"]]})
    no_exception(at)
    table = at.dataframe[0].value
    assert not table.duplicated(subset=["run", "step"]).any()
    assert sorted(at.session_state["rho_readouts"]) == ["Jacobian radius", "block radius"]


def test_try_generates_coloured_text_from_a_run(populated):
    at = open_page("views/try.py", query={"model": f"run:{populated['lstm']}", "length": "40"})
    no_exception(at)
    next(b for b in at.button if "Generate" in b.label).click().run()
    no_exception(at)
    html = "".join(str(h.proto.body) for h in at.get("html"))
    assert html.count("<span title=") == 40  # one hoverable span per generated character


def test_try_refuses_a_zip_that_is_not_a_checkpoint(populated):
    at = open_page("views/try.py")
    fake = io.BytesIO()
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("notes.txt", "hello")
    at.file_uploader(key="checkpoint_upload").set_value(("fake.zip", fake.getvalue(), "application/zip"))
    at.run()
    no_exception(at)
    assert "not a Sequence Playground checkpoint" in texts(at.error)
    at.file_uploader(key="checkpoint_upload").set_value(("junk.zip", b"not a zip at all", "application/zip"))
    at.run()
    assert "not a zip archive" in texts(at.error)


def test_a_downloaded_checkpoint_loads_again_on_try(populated):
    raw = export.checkpoint_zip(RunStore(), populated["lstm"])
    at = open_page("views/try.py")
    at.file_uploader(key="checkpoint_upload").set_value(("my-run.zip", raw, "application/zip"))
    at.run()
    no_exception(at)
    assert "Imported **my-run.zip**" in texts(at.success)
    assert at.selectbox(key="model").value.startswith("imported:my-run")


def test_a_race_needs_two_architectures(home):
    at = open_page("views/compare.py")
    at.multiselect(key="race_archs-char").set_value([Entrant("lstm")])
    next(b for b in at.button if "Start the race" in b.label).click().run()
    no_exception(at)
    assert "at least two entrants" in texts(at.error)
    assert RunStore().list_runs() == []


def test_a_translation_race_pits_attention_against_none(home):
    """Issue 4's race: GRU without attention vs GRU + Bahdanau vs bidirectional LSTM + Luong, one form."""
    at = open_page("views/compare.py")
    at.selectbox(key="race_task").set_value("translation").run()
    racers = [Entrant("gru"), Entrant("gru", "bahdanau"), Entrant("lstm", "luong-general", True)]
    # switching the task starts from the translation entrants (issue 9: it used to keep the char racers)
    assert at.multiselect(key="race_archs-translation").value == racers
    at.multiselect(key="race_archs-translation").set_value(racers)
    at.selectbox(key="race_dataset-translation").set_value("dates")
    at.select_slider(key="race_hidden").set_value(16)
    at.number_input(key="race_steps").set_value(10)
    next(b for b in at.button if "Start the race" in b.label).click().run()
    no_exception(at)
    runs = RunStore().list_runs()
    assert len(runs) == 3 and len({r.config.group for r in runs}) == 1
    models = {(r.config.model.arch, r.config.model.attention, r.config.model.bidirectional) for r in runs}
    assert models == {("gru", "none", False), ("gru", "bahdanau", False), ("lstm", "luong-general", True)}
    assert {r.config.task.name for r in runs} == {"translation"} and {r.config.train.seed for r in runs} == {0}
