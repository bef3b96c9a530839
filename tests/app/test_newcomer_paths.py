"""Issue 15: the paths a newcomer takes work first time (in AppTest; tests/e2e walks them in a browser)."""
from __future__ import annotations

from app_helpers import no_exception, open_page, texts

from playground.config import TaskConfig
from playground.runstore.store import RunStore
from playground.tasks.translation import TranslationTask, surface_form


def test_train_opened_on_a_run_shows_that_runs_settings_and_cell(populated):
    at = open_page("views/train.py", query={"run": populated["diverged"]})
    no_exception(at)
    assert at.segmented_control(key="arch").value == "rnn-relu"  # not the form's LSTM default
    assert at.segmented_control(key="clip").value == "none"
    assert at.number_input(key="lr").value == 0.03
    opened = [e.label for e in at.expander if e.proto.expanded]
    assert any("ReLU" in label for label in opened) and not any("LSTM" in label for label in opened)
    assert "NaN" in texts(at.metric) or "∞" in texts(at.metric)  # the norm that ended it, not the last finite one


def test_a_link_with_settings_beats_what_the_session_kept(populated):
    at = open_page("views/train.py", query={"dataset": "tiny"})
    assert at.selectbox(key="dataset").value == "tiny"
    at.query_params["dataset"] = "pydoc"  # as Data's "Train on pydoc" arrives
    at.switch_page("views/train.py").run()
    no_exception(at)
    assert at.selectbox(key="dataset").value == "pydoc"


def test_try_says_when_the_linked_model_is_not_there(populated):
    at = open_page("views/try.py", query={"model": "run:no-such-run"})
    no_exception(at)
    assert "There is no model" in texts(at.warning)


def test_lab_group_labels_hold_no_live_count(populated):
    from ui import lab_groups

    records = RunStore().list_runs()
    assert "training" not in lab_groups.group_label(records, lambda r: "twins")


def test_translation_input_unlike_the_training_data_is_flagged():
    task = TranslationTask(TaskConfig(name="translation", dataset="dates"))
    assert surface_form("March 3rd, 1998") == "a 9a, 9999"
    assert task.unlike_training("tuesday 3 march 1998") is None  # a form it trained on
    assert task.unlike_training("3/03/98") is None
    assert "never" in task.unlike_training("hello world")
    assert "never" in task.unlike_training("2/29/2000")  # month first with a four-digit year: not a trained form
