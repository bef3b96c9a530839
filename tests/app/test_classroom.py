"""A class on one server, seen from two browsers: identities own runs, the teacher can stop anyone's,
a lesson's locked settings cannot be changed, and the gallery ranks the lesson's runs."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from playground import classroom
from playground.runstore.store import RunStore

from app_helpers import APP, TINY, no_exception, run_until, texts, tiny_config
from ui.train_form import DEFAULTS, config_values

KEY = "open sesame"


def session(page: str, name: str = "", teacher: bool = False, query: dict | None = None) -> AppTest:
    """One browser of the class: the server has a teacher key; `name` is what its student typed."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["classroom"] = {"teacher_key": KEY}
    if name:
        at.session_state["identity_name"] = name
    at.run()
    if teacher:  # as the Teacher popover does with the right key
        at.text_input(key="teacher_key_input").input(KEY)
        at.button(key="teacher_unlock").click().run()
    at.query_params.update(query or {})
    at.switch_page(page)
    return at.run()


def buttons(at: AppTest) -> list[str]:
    return [b.key or "" for b in at.button]


def test_someone_elses_run_can_be_watched_not_stopped_and_the_teacher_can_stop_it(home):
    alice = session("views/train.py", "alice", query=TINY)
    alice.button(key="start").click().run()
    no_exception(alice)
    run_id = alice.selectbox(key="run").value
    store = RunStore(home)
    assert store.get_run(run_id).owner == "alice"
    assert f"stop-{run_id}" in buttons(alice)

    bob = session("views/train.py", "bob", query={"run": run_id})
    no_exception(bob)
    assert bob.selectbox(key="run").value == run_id  # everyone sees everyone's runs
    assert f"stop-{run_id}" not in buttons(bob) and f"apply_clip-{run_id}" not in buttons(bob)
    assert "only they or the teacher can stop it" in texts(bob.caption)
    assert store.get_run(run_id).live

    wrong = session("views/train.py", "mallory")
    wrong.text_input(key="teacher_key_input").input("guess")
    wrong.button(key="teacher_unlock").click().run()
    assert "not the teacher key" in texts(wrong.error)

    teacher = session("views/train.py", "ms smith", teacher=True, query={"run": run_id})
    no_exception(teacher)
    assert "teacher" in texts(teacher.caption)
    teacher.button(key=f"stop-{run_id}").click().run()
    run_until(teacher, lambda at: not store.get_run(run_id).live)
    record = store.get_run(run_id)
    assert record.status == "stopped", record.message


def test_a_student_without_a_name_is_asked_for_one_before_starting(home):
    at = session("views/train.py", query=TINY)
    at.button(key="start").click().run()
    assert "type your name" in texts(at.sidebar.error)
    assert RunStore(home).list_runs() == []
    at.text_input(key="identity_name_input").input("carol")
    at.button(key="identity_save").click().run()
    assert "carol" in texts(at.sidebar.caption)


def test_a_locked_lesson_setting_cannot_be_changed(home):
    store = RunStore(home)
    values = {**config_values(DEFAULTS), "hidden": 16, "embedding": 8, "batch": 8, "seq_len": 16, "steps": 3,
              "arch": "gru"}
    lesson = classroom.create_lesson(store, "GRU, 16 units", values, ["hidden", "arch"], owner="ms smith")
    # a student opens the lesson's link with a doctored URL, and changes the locked widget's value as well
    at = session("views/train.py", "dave", query={"lesson": lesson.id, "hidden": "64"})
    no_exception(at)
    assert "GRU, 16 units" in texts(at.sidebar.info)
    hidden = at.get("select_slider")
    hidden = next(w for w in hidden if w.key == "hidden")
    assert hidden.disabled and hidden.value == 16
    assert next(w for w in at.get("button_group") if w.key == "arch").disabled
    at.session_state["hidden"] = 128
    at.session_state["lr"] = 0.005  # an open setting: the student's to change
    at.button(key="start").click().run()
    no_exception(at)
    record = store.get_run(at.selectbox(key="run").value)
    assert (record.config.model.hidden, record.config.model.arch) == (16, "gru")
    assert record.config.train.lr == 0.005 and record.lesson == lesson.id and record.owner == "dave"


def test_the_gallery_ranks_a_lessons_runs_by_the_headline_metric(home):
    from app_helpers import tiny_config

    store = RunStore(home)
    lesson = classroom.create_lesson(store, "Race to the bottom", {"steps": 30}, [])
    for owner, bpc in (("erin", 2.5), ("frank", 1.9), ("gina", 3.1)):
        run_id = store.create_run(tiny_config(), owner=owner, lesson=lesson.id)
        store.update_run(run_id, status="completed", summary={"bits_per_char": bpc})
    store.create_run(tiny_config(), owner="hal", lesson="")  # another lesson's run: not in this gallery
    at = session("views/classroom.py", "erin")
    no_exception(at)
    assert "Race to the bottom" in [e.label.split(" · ")[0] for e in at.expander]
    table = at.dataframe[0].value  # the only table: nothing is queued
    assert list(table["student"]) == ["frank", "erin", "gina"]  # bits per character: lower is better
    assert list(table["rank"]) == [1, 2, 3]


def test_only_the_owner_or_the_teacher_can_rename_a_run(home):
    store = RunStore(home)
    run_id = store.create_run(tiny_config(), status="completed", owner="alice")

    bob = session("views/train.py", "bob", query={"run": run_id})
    no_exception(bob)
    assert f"rename-{run_id}" not in buttons(bob)

    alice = session("views/train.py", "alice", query={"run": run_id})
    alice.text_input(key=f"rename_to-{run_id}").input("  my first\nLSTM  ")
    alice.button(key=f"rename-{run_id}").click().run()
    no_exception(alice)
    assert store.get_run(run_id).name == "my first LSTM"  # one line: a list row and a legend entry stay whole
    alice.text_input(key=f"rename_to-{run_id}").input("   ")
    alice.button(key=f"rename-{run_id}").click().run()
    assert store.get_run(run_id).name == "my first LSTM"  # an empty name is refused with a toast, nothing lost

    teacher = session("views/train.py", "ms smith", teacher=True, query={"run": run_id})
    teacher.text_input(key=f"rename_to-{run_id}").input("alice's LSTM (best in class)")
    teacher.button(key=f"rename-{run_id}").click().run()
    assert store.get_run(run_id).name == "alice's LSTM (best in class)"
