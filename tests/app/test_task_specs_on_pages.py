"""Issue 9 on the pages: every task labelled by its own spec (units, chance, what seq_len means), an echo
state network shown only the settings and charts that apply, a run that ends at chance says so."""
from __future__ import annotations

import json

import pytest

from playground.runstore import runner
from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from playground.runstore.store import RunStore

from app_helpers import no_exception, open_page, texts


def _train(store: RunStore, cfg: RunConfig) -> str:
    run_id = store.create_run(cfg.validate())
    runner.execute(store, run_id, handle_signals=False)
    return run_id


@pytest.fixture(scope="module")
def task_runs(tmp_path_factory):
    """Finished runs of the memory tasks: an LSTM on adding, an ESN on adding, an LSTM on temporal-order
    (20 steps: it has learned nothing, so it ends at chance)."""
    path = tmp_path_factory.mktemp("task-runs")
    store = RunStore(path)
    quick = dict(steps=20, batch_size=8, seq_len=20, eval_every=10, device="cpu")
    ids = {
        "adding": _train(store, RunConfig(task=TaskConfig(name="adding", test_sequences=64),
                                          model=ModelConfig(hidden=16), train=TrainConfig(**quick))),
        "esn": _train(store, RunConfig(task=TaskConfig(name="adding", test_sequences=64),
                                       model=ModelConfig(arch="esn", hidden=32), train=TrainConfig(**quick))),
        "order": _train(store, RunConfig(task=TaskConfig(name="temporal-order", test_sequences=64),
                                         model=ModelConfig(hidden=8, embedding=8),
                                         train=TrainConfig(**{**quick, "steps": 4, "lr": 1e-5}))),
    }
    return path, ids


@pytest.fixture
def runs_home(task_runs, monkeypatch):
    path, ids = task_runs
    monkeypatch.setenv("PLAYGROUND_HOME", str(path))
    return ids


def figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def titles(at) -> list[str]:
    return [f["layout"]["title"]["text"] for f in figures(at)]


def test_adding_shows_mse_with_its_chance_line_and_T(runs_home):
    at = open_page("views/train.py", query={"run": runs_home["adding"], "task": "adding"})
    no_exception(at)
    assert "Loss (squared error of the predicted sum (MSE))" in titles(at)
    metric = next(f for f in figures(at) if f["layout"]["title"]["text"].startswith("Mean squared error"))
    labels = [a["text"] for a in metric["layout"].get("annotations", [])]
    assert any(label.startswith("chance: 0.1") for label in labels), labels  # the variance of the sum, about 1/6
    assert any(label.startswith("solved") for label in labels), labels
    assert at.select_slider(key="seq_len").label == "T (sequence length)"
    assert "data: tiny" not in texts(at.caption)
    keys = {w.key for w in at.sidebar.selectbox} | {w.key for w in at.sidebar.select_slider}
    assert "dataset" not in keys and "embedding" not in keys  # adding reads vectors and makes its own data


def test_char_keeps_its_truncated_bptt_window_and_dataset(home):
    at = open_page("views/train.py")
    assert at.select_slider(key="seq_len").label == "Truncated-BPTT window (characters)"
    assert at.selectbox(key="dataset").value == "tiny"


def test_esn_shows_only_the_settings_that_apply_and_no_gradient_charts(runs_home):
    at = open_page("views/train.py", query={"run": runs_home["esn"], "arch": "esn", "task": "adding"})
    no_exception(at)
    keys = {w.key for kind in ("selectbox", "slider", "number_input", "radio", "segmented_control", "select_slider")
            for w in getattr(at.sidebar, kind)}
    assert {"rho", "leak", "input_scaling", "sparsity", "ridge"} <= keys
    assert not keys & {"optimizer", "lr", "clip", "clip_at", "init", "backend", "embedding", "momentum"}, keys
    assert not any("Gradient clipping" == e.label for e in at.sidebar.expander)
    shown = titles(at)
    assert "Loss (squared error of the predicted sum (MSE))" in shown and not {"Global gradient norm ‖g‖", "Gradient norm per layer"} & set(shown), shown
    assert any("Equations: Echo state network" in e.label for e in at.expander)


def test_a_run_that_ends_at_chance_says_so(runs_home):
    store = RunStore()
    summary = store.get_run(runs_home["order"]).summary
    assert summary["accuracy"] <= 0.25 + 0.1 * 0.75, summary  # 4 steps at lr 1e-5 learn nothing
    at = open_page("views/train.py", query={"run": runs_home["order"]})
    no_exception(at)
    warning = texts(at.warning)
    assert "at chance level (0.25)" in warning and "learned nothing" in warning
    assert "shorter T (this run: " in warning and "gated cell" not in warning  # it is an LSTM already
    assert not at.success


def test_what_to_try_after_chance_fits_the_cell_and_the_task():
    from types import SimpleNamespace

    from playground.runstore.summaries import chance_remedies

    def advice(task: str, arch: str) -> str:
        return chance_remedies(SimpleNamespace(config=RunConfig(task=TaskConfig(name=task), model=ModelConfig(arch=arch))))

    assert advice("char", "rnn-tanh") == "Try a gated cell (LSTM, GRU), or more steps or another learning rate."
    assert advice("captioning", "gru") == "Try more steps or another learning rate."  # no T to shorten, gated already
    assert advice("adding", "esn").startswith("Try a shorter T (this run: ") and "reservoir" in advice("adding", "esn")


def test_old_links_still_open_their_experiment(home):
    """Keys from before the settings table (rho, batch, clip_at, leak) still set the same fields."""
    at = open_page("views/train.py", query={"arch": "rnn-tanh", "init": "spectral", "rho": "1.2", "batch": "16",
                                            "clip": "norm", "clip_at": "0.5", "hidden": "32"})
    no_exception(at)
    assert at.slider(key="rho").value == 1.2 and at.select_slider(key="batch").value == 16
    assert at.number_input(key="clip_at").value == 0.5 and at.select_slider(key="hidden").value == 32


def test_an_old_luong_link_opens_luong_general(home):
    at = open_page("views/train.py", query={"task": "translation", "dataset": "dates", "attention": "luong"})
    no_exception(at)
    assert at.selectbox(key="attention").value == "luong-general"


WIDGETS = ("selectbox", "slider", "number_input", "radio", "segmented_control", "select_slider", "toggle")
FORM_ONLY = {"preset"}  # widgets of the form that are not run settings


def _form_keys(at) -> set[str]:
    return {w.key for kind in WIDGETS for w in getattr(at.sidebar, kind)} - FORM_ONLY


def _expected_keys(task: str, arch: str) -> set[str]:
    from playground import options

    cfg = RunConfig(task=TaskConfig(name=task), model=ModelConfig(arch=arch))
    return {s.url_key for s in options.applying(cfg) if s.widget}


@pytest.mark.parametrize("task, arch", [(task, "lstm") for task in ("char", "translation", "captioning", "adding",
                                                                     "temporal-order", "copy")]
                         + [(task, arch) for task in ("char", "adding") for arch in ("rnn-tanh", "gru", "esn")])
def test_the_form_shows_exactly_the_settings_that_apply(home, task, arch):
    at = open_page("views/train.py", query={"task": task, "arch": arch})
    no_exception(at)
    assert _form_keys(at) == _expected_keys(task, arch)


def test_a_link_with_a_setting_that_no_longer_exists_says_so(home):
    at = open_page("views/train.py", query={"arch": "gru", "warp_drive": "9"})
    no_exception(at)
    assert r"no longer has (warp\_drive)" in texts(at.toast)  # escaped: the link's words are shown as text
    assert at.segmented_control(key="arch").value == "gru"  # the rest of the link still opens


def test_gradients_page_shows_no_gradient_norms_for_an_esn(runs_home):
    at = open_page("views/gradients.py", query={"runs": runs_home["esn"]})
    no_exception(at)
    shown = titles(at)
    assert not any(t.startswith(("Distribution of ‖g‖", "Share of steps clipped")) for t in shown), shown
    assert "no weights learn by gradient" in texts(at.caption)


def test_a_cell_added_to_the_registry_appears_everywhere_with_no_other_edit(home, monkeypatch, capsys):
    """The proof of issue 9's design on this side: a CellSpec registered with one line shows up in the
    Train form, the equations, races, describe and the lab's pickers, and its own settings apply."""
    import dataclasses

    from playground import cli, options
    from playground.experiments.race import Entrant, entrants
    from playground.models import cells

    toy = dataclasses.replace(cells.CELLS["rnn-tanh"], name="toy", title="Toy cell (a registered copy)", short="Toy",
                              settings=("layers", "hidden", "embedding"))
    monkeypatch.setitem(cells.CELLS, "toy", toy)
    assert Entrant("toy") in entrants("char") and Entrant("toy", "soft") in entrants("captioning")
    assert cli.main(["describe", "--json"]) == 0
    assert "toy" in {a["name"] for a in json.loads(capsys.readouterr().out)["architectures"]}
    cfg = RunConfig(model=ModelConfig(arch="toy"))
    assert "model.hidden" in {s.path for s in options.applying(cfg)}
    assert "model.init" not in {s.path for s in options.applying(cfg)}  # not among its settings
    at = open_page("views/train.py", query={"arch": "toy"})
    no_exception(at)
    assert "toy" in at.segmented_control(key="arch").options
    assert any("Equations: Toy cell" in e.label for e in at.expander)
    assert "init" not in _form_keys(at) and "hidden" in _form_keys(at)
