"""Train: Start launches a background run whose metrics arrive on the page; clipping can be changed
while it trains; Stop ends it; a diverged run says so with advice; the URL holds the settings."""
from playground.runstore.store import RunStore

from app_helpers import TINY, no_exception, open_page, run_until, texts


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def charts(at) -> list:
    return at.get("plotly_chart")


def test_start_shows_live_metrics_then_clipping_change_and_stop(home):
    at = open_page("views/train.py", query=TINY)
    at.button(key="start").click().run()
    no_exception(at)
    run_id = at.selectbox(key="run").value
    assert run_id, "Start did not select the new run to watch"
    assert RunStore(home).get_run(run_id).config.model.hidden == 16  # the URL's settings reached the run

    # the run trains in its own process; the page shows its numbers once they arrive
    run_until(at, lambda at: metric(at, "Train loss") != "–" and metric(at, "Validation loss") != "–")
    assert len(charts(at)) == 5  # loss, gradient norm, layer norms, gradient flow, the state Jacobian
    assert any(c.key.startswith("jacobian-") for c in charts(at))
    assert any(b.label.endswith("Stop") for b in at.button)

    # turn clipping off while it trains: the run logs the change at the step where it applied
    at.segmented_control(key=f"live_clip-{run_id}").set_value("none")
    at.button(key=f"apply_clip-{run_id}").click().run()
    store = RunStore(home)
    run_until(at, lambda at: any(e["kind"] == "clip" for e in store.events(run_id)))
    assert "clipping off" in [e["message"] for e in store.events(run_id) if e["kind"] == "clip"]

    at.button(key=f"stop-{run_id}").click().run()
    run_until(at, lambda at: not store.get_run(run_id).live)
    at.run()
    no_exception(at)
    assert store.get_run(run_id).status == "stopped"
    assert "Stopped at step" in texts(at.info)
    assert not any(b.label.endswith("Stop") for b in at.button)
    assert any(b.label.endswith("Metrics CSV") for b in at.get("download_button"))


def test_a_diverged_run_says_where_and_what_to_do(populated):
    at = open_page("views/train.py", query={"run": populated["diverged"]})
    no_exception(at)
    errors = texts(at.error)
    assert "Training diverged at step" in errors
    assert "Clip the gradients or lower the learning rate" in errors
    labels = [b.label for b in at.button]
    assert any("Retry with clipping" in label for label in labels)
    assert any("Retry with learning rate" in label for label in labels)
    assert len(charts(at)) == 5  # its charts still draw, with the non-finite steps as gaps


def test_settings_come_from_the_url(home):
    at = open_page("views/train.py", query={"arch": "gru", "hidden": "32", "clip": "none", "lr": "0.01"})
    no_exception(at)
    assert at.segmented_control(key="arch").value == "gru"
    assert at.select_slider(key="hidden").value == 32
    assert at.segmented_control(key="clip").value == "none"
    assert at.number_input(key="lr").value == 0.01


def test_bad_settings_get_a_message_not_a_run(home):
    at = open_page("views/train.py", query={"batch": "256", "seq_len": "512"})  # more than the tiny corpus holds
    at.button(key="start").click().run()
    no_exception(at)
    assert "characters" in texts(at.sidebar.error)
    assert RunStore(home).list_runs() == []
