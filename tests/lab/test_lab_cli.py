"""`python -m playground lab flow|twins|sweep` and the lab's new settings in configs and flags."""
from __future__ import annotations

import json

import pytest

from playground import cli
from playground.experiments import lab
from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig


def test_new_settings_round_trip_through_json():
    cfg = RunConfig(task=TaskConfig(name="temporal-order", markers=3, test_sequences=99, copy_length=4),
                    model=ModelConfig(arch="esn", leak_rate=0.2, input_scaling=0.3, sparsity=0.5, ridge=1e-3),
                    train=TrainConfig(stop_when_solved=True), group="sweep-x").validate()
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert RunConfig.from_dict({}).group == "" and not RunConfig().train.stop_when_solved  # old runs still load


def test_train_flags_reach_the_config():
    parser = cli.build_parser()
    args = parser.parse_args(["train", "--task", "copy", "--arch", "esn", "--leak-rate", "0.4", "--input-scaling", "0.2",
                              "--sparsity", "0.5", "--ridge", "0.01", "--copy-length", "3", "--markers", "3",
                              "--test-sequences", "64", "--stop-when-solved", "--group", "g1", "--seq-len", "9"])
    cfg = cli.config_from_args(args)
    assert (cfg.model.leak_rate, cfg.model.input_scaling, cfg.model.sparsity, cfg.model.ridge) == (0.4, 0.2, 0.5, 0.01)
    assert (cfg.task.copy_length, cfg.task.markers, cfg.task.test_sequences) == (3, 3, 64)
    assert cfg.train.stop_when_solved and cfg.group == "g1" and cfg.label() == "esn 1x128 on copy T=9"


def test_lab_flow_prints_and_writes_curves(tmp_path, capsys):
    out = tmp_path / "flow.json"
    code = cli.main(["lab", "flow", "--arch", "rnn-tanh", "--arch", "esn", "--spectral-radius", "0.5",
                     "--spectral-radius", "1.5", "--seq-len", "20", "--hidden", "16", "--every", "5", "--json", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "rnn-tanh ρ=0.5" in text and "ρ^lag (ρ=1.5)" in text and "vanishes" in text
    curves = json.loads(out.read_text())
    assert [(c["arch"], c["spectral_radius"]) for c in curves] == [("rnn-tanh", 0.5), ("esn", 0.5), ("rnn-tanh", 1.5),
                                                                   ("esn", 1.5)]
    assert all(len(c["flow"]) == 20 for c in curves)
    assert curves[0]["decay_rate"] < curves[2]["decay_rate"]


def test_lab_sweep_in_the_foreground_then_shown_again(store, tmp_path, capsys, restore_signals):
    out = tmp_path / "sweep.json"
    code = cli.main(["lab", "sweep", "--task", "adding", "--archs", "esn", "--seq-lens", "6", "12", "--steps", "4",
                     "--eval-every", "2", "--test-sequences", "40", "--batch-size", "16", "--quiet",
                     "--group", "my-sweep", "--metrics-out", str(out)])
    assert code == 0
    table = capsys.readouterr().out
    assert "held-out mse" in table and "longest T solved: esn" in table
    result = json.loads(out.read_text())
    assert [c["seq_len"] for c in result["cells"]] == [6, 12] and result["metric"] == "mse"
    assert {r.config.group for r in store.list_runs()} == {"my-sweep"}
    assert cli.main(["lab", "sweep", "--show", "my-sweep"]) == 0
    assert capsys.readouterr().out == table


def test_lab_twins_defaults_to_the_exploding_demo(store, capsys, restore_signals):
    code = cli.main(["lab", "twins", "--steps", "3", "--eval-every", "3", "--test-sequences", "20", "--quiet",
                     "--group", "t1"])
    assert code == 0
    runs = lab.runs_in_group(store, "t1")
    assert [r.config.train.clip for r in runs] == ["none", "norm", "value"]
    assert all(r.config.model.arch == "rnn-relu" and r.config.model.init == "identity" for r in runs)
    assert all(r.config.task.name == "temporal-order" and r.config.train.optimizer == "sgd" for r in runs)
    out = capsys.readouterr().out
    assert "clip by norm at 0.5" in out and "held-out accuracy" in out


def test_lab_twins_refuses_a_forward_pass_that_overflows_before_any_step(store, capsys):
    # the README's old example: a ReLU RNN at spectral radius 2 over 50 steps overflows at step 1, clipped or not
    code = cli.main(["lab", "twins", "--arch", "rnn-relu", "--init", "spectral", "--spectral-radius", "2",
                     "--task", "adding", "--seq-len", "50", "--hidden", "32", "--lr", "0.05", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "before any gradient step" in err and "the forward pass overflows" in err and len(err.strip().splitlines()) == 1
    assert store.list_runs() == []


def test_lab_errors_are_one_line(store, capsys):
    assert cli.main(["lab", "sweep", "--task", "char", "--archs", "lstm"]) == 2
    assert "long-memory task" in capsys.readouterr().err
    assert cli.main(["lab", "twins", "--show", "nothing-here"]) == 2
    assert "no runs in group" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["lab"], ["lab", "flow", "--arch", "transformer"]])
def test_lab_usage_errors(argv):
    with pytest.raises(SystemExit):
        cli.main(argv)
