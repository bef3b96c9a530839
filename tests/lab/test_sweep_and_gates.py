"""How long can it remember (sweep configs and their summary from the store), gate watch, and the spectral
radius recorded over training."""
from __future__ import annotations

import pytest

from playground.experiments import lab
from playground.runstore.history import RunHistory


def test_sweep_configs_cover_every_arch_and_seq_len(config):
    base = config(train={"stop_when_solved": True})
    configs = lab.memory_sweep(base, ["rnn-tanh", "esn"], [40, 10], model_overrides={"esn": {"hidden": 50}})
    assert [(c.model.arch, c.train.seq_len) for c in configs] == [("rnn-tanh", 10), ("rnn-tanh", 40), ("esn", 10), ("esn", 40)]
    assert len({c.group for c in configs}) == 1 and configs[0].group.startswith("sweep-")
    assert [c.model.hidden for c in configs] == [16, 16, 50, 50]  # the override reaches the ESN alone
    assert all(c.train.stop_when_solved and c.train.seed == base.train.seed for c in configs)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, config):
    """An ESN (solves quickly) and an untrained-for-long tanh RNN at T = 8 and 16, trained in this process."""
    from playground.runstore.store import RunStore

    store = RunStore(tmp_path_factory.mktemp("sweep-home"))
    base = config(train={"steps": 30, "eval_every": 10, "stop_when_solved": True})
    configs = lab.memory_sweep(base, ["rnn-tanh", "esn"], [8, 16], model_overrides={"esn": lab.ESN_MEMORY_SETTINGS})
    return store, lab.run_in_process(store, configs)


def test_sweep_summary_reads_metric_against_t_from_the_store(sweep):
    store, run_ids = sweep
    summary = lab.summarize_sweep(store, run_ids)
    assert summary.task == "adding" and summary.metric == "mse" and not summary.higher_is_better
    assert summary.solved_threshold == 0.01 and summary.finished == 4 and summary.progress == 1.0
    assert summary.archs == ["rnn-tanh", "esn"]
    seq_lens, metrics = summary.curve("esn")
    assert seq_lens == [8, 16] and all(m is not None for m in metrics)
    assert summary.longest_solved("esn") == 16  # a leaky reservoir holds 16 steps: ridge regression finds the sum
    assert summary.longest_solved("rnn-tanh") is None  # 30 steps of Adam are far too few
    esn_runs = [c for c in summary.cells if c.arch == "esn"]
    assert all(c.solved and c.step < 30 for c in esn_runs)  # stop_when_solved ended them early
    for cell in summary.cells:
        assert cell.chance == pytest.approx(1 / 6, rel=0.3)
        record = store.get_run(cell.run_id)
        assert record.status == "completed" and record.summary["solved"] == cell.solved


def test_spectral_radius_is_recorded_over_training_for_every_run(sweep):
    store, run_ids = sweep
    for run_id in run_ids:
        history = RunHistory.load(store, run_id)
        radii = history.spectral_radii()
        assert set(radii) == {"l0"}
        steps, values = radii["l0"]
        assert steps == [e["step"] for e in history.evals] and all(v > 0 for v in values)
        if store.get_run(run_id).config.model.arch == "esn":
            radius = lab.ESN_MEMORY_SETTINGS["spectral_radius"]
            assert values == pytest.approx([radius] * len(values), rel=1e-5)  # a reservoir never changes
        else:
            assert len(values) == 4 and values[-1] != values[0]  # training moves a tanh RNN's W_hh


@pytest.mark.parametrize("arch, gates", [("lstm", {"input", "forget", "output"}), ("gru", {"reset", "update"})])
def test_gate_watch_histograms_over_training(store, config, arch, gates):
    cfg = config(model={"arch": arch, "backend": "scratch"}, train={"steps": 20, "eval_every": 10})
    (run_id,) = lab.run_in_process(store, [cfg])
    watch = lab.gate_watch(RunHistory.load(store, run_id))
    assert set(watch) == gates
    for timeline in watch.values():
        assert timeline.steps == [1, 10, 20]  # statistics of the training steps since the previous evaluation
        assert len(timeline.bin_edges) == len(timeline.histograms[0]) + 1
        for histogram, saturated, mean in zip(timeline.histograms, timeline.saturated, timeline.mean):
            assert sum(histogram) == pytest.approx(1.0, abs=1e-4)
            assert 0.0 <= saturated <= 1.0 and 0.0 < mean < 1.0


def test_gate_watch_is_empty_on_the_fused_backend(store, config):
    (run_id,) = lab.run_in_process(store, [config(train={"steps": 10, "eval_every": 10})])
    assert lab.gate_watch(RunHistory.load(store, run_id)) == {}
