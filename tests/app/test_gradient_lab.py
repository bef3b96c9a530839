"""The Gradients page's experiments: flow at initialisation, clipping twins, the memory sweep, gate watch."""
import json

from playground.experiments import lab
from playground.runstore.store import RunStore

from app_helpers import no_exception, open_page, run_until, texts

TABS = ["Your runs", "Flow at init", "Clipping twins", "Memory sweep", "Gate watch"]


def charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def chart_titled(at, title: str) -> dict:
    return next(c for c in charts(at) if title in c["layout"]["title"]["text"])


def test_every_tab_renders_on_an_empty_store(home):
    at = open_page("views/gradients.py")
    no_exception(at)
    assert [tab.label for tab in at.tabs] == TABS
    assert "No twins yet" in texts(at.info) and "No sweeps yet" in texts(at.info)
    assert "No LSTM or GRU runs yet" in texts(at.info)


def test_flow_at_init_draws_two_architectures_beside_theory(home):
    at = open_page("views/gradients.py")
    at.multiselect(key="flow_archs").set_value(["rnn-tanh", "gru"])
    at.slider(key="flow_rho").set_value(0.8)
    at.number_input(key="flow_T").set_value(40)
    at.run()
    no_exception(at)
    figure = chart_titled(at, "Gradient flow at initialisation (ρ = 0.8)")
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["rnn-tanh", "gru", "theory ρ^lag = 0.8^lag"]
    assert all(len(trace["y"]["bdata"] if isinstance(trace["y"], dict) else trace["y"]) for trace in figure["data"])
    words = texts(at.markdown)
    assert "**rnn-tanh** vanishes" in words and "**gru** vanishes" in words


def test_fused_runs_say_how_to_get_gate_statistics(populated):
    at = open_page("views/gradients.py")
    no_exception(at)
    assert "train it again with Architecture → Backend: **scratch**" in texts(at.info)


def test_clipping_twins_start_three_runs_that_finish_with_a_summary(home):
    at = open_page("views/gradients.py")
    for key, value in {"twins_hidden": 8, "twins_steps": 30, "twins_seq_len": 10}.items():
        at.number_input(key=key).set_value(value)
    next(b for b in at.button if "Start the twins" in b.label).click().run()
    no_exception(at)
    records = RunStore().list_runs()
    assert len(records) == 3 and len({r.config.group for r in records}) == 1
    assert sorted(r.config.train.clip for r in records) == ["none", "norm", "value"]
    assert len({r.config.train.seed for r in records}) == 1

    def finished(at):
        tables = [d.value for d in at.dataframe if "clipped steps" in d.value.columns]
        return tables and len(tables[0]) == 3 and not tables[0]["status"].isin(["queued", "running"]).any()

    run_until(at, finished, timeout=45)
    table = next(d.value for d in at.dataframe if "clipped steps" in d.value.columns)
    assert set(table["status"]) <= {"completed", "diverged"}
    by_clip = dict(zip([s.clip for s in lab.summarize_twins(RunStore(), [r.id for r in records])], table["steps"]))
    assert by_clip["norm"] == 30 and (table["clipped steps"] >= 0).all()
    unclipped = table[table["twin"].str.endswith("clipping off")]
    assert len(unclipped) == 1 and unclipped["clipped steps"].iloc[0] == 0
    assert table.loc[table["twin"].str.contains("clip by norm"), "clipped steps"].iloc[0] > 0  # the demo explodes
    assert chart_titled(at, "Gradient norm ‖g‖ before clipping")["layout"]["yaxis"]["type"] == "log"


def test_a_memory_sweep_of_two_cells_finishes_and_is_plotted(home):
    at = open_page("views/gradients.py")
    at.multiselect(key="sweep_archs").set_value(["lstm"])
    at.text_input(key="sweep_T").set_value("8, 12")
    at.number_input(key="sweep_steps").set_value(10)
    at.number_input(key="sweep_hidden").set_value(8)
    next(b for b in at.button if "Start the sweep" in b.label).click().run()
    no_exception(at)
    assert len(RunStore().list_runs()) == 2
    run_until(at, lambda at: any("2 of 2 runs finished" in str(p.proto.text) for p in at.get("progress")), timeout=45)
    figure = chart_titled(at, "Held-out mse against sequence length T")
    assert [trace["name"].split(" ")[0] for trace in figure["data"]] == ["lstm"]
    table = next(d.value for d in at.dataframe if "T" in d.value.columns)
    assert list(table["T"]) == [8, 12] and table["held-out mse"].notna().all()


def test_a_bad_list_of_sequence_lengths_is_a_message_not_a_traceback(home):
    at = open_page("views/gradients.py")
    at.text_input(key="sweep_T").set_value("10, long")
    next(b for b in at.button if "Start the sweep" in b.label).click().run()
    no_exception(at)
    assert "'long' is not a sequence length" in texts(at.error)
    assert RunStore().list_runs() == []


def test_the_train_form_starts_an_echo_state_network_on_a_memory_task(home):
    at = open_page("views/train.py", query={"task": "adding", "arch": "esn", "leak": "0.2", "steps": "20",
                                            "eval_every": "10", "seq_len": "16", "hidden": "32"})
    no_exception(at)
    assert "Leak rate" in [s.label for s in at.slider]
    at.sidebar.button(key="start").click().run()
    no_exception(at)
    (record,) = RunStore().list_runs()
    assert (record.config.task.name, record.config.model.arch, record.config.model.leak_rate) == ("adding", "esn", 0.2)
