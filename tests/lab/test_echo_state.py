"""An echo state network's washout and its echo-state check: two initial states must forget themselves."""
from __future__ import annotations

import pytest
import torch

from playground import models, tasks
from playground.config import ModelConfig, RunConfig, TaskConfig
from playground.models.echo_state import check_echo_state


def _esn(task, **settings):
    torch.manual_seed(0)
    return models.build(ModelConfig(**{"arch": "esn", "hidden": 100, "sparsity": 0.9, **settings}), task.spec)


@pytest.fixture(scope="module")
def copy_task():
    return tasks.build(TaskConfig(name="copy", test_sequences=32))


def _independent_distance(reservoir, x, steps, seed=0):
    """The same measurement written out: two uniform random starts, the same inputs, the distance at the end."""
    generator = torch.Generator().manual_seed(seed)
    shape = (1, x.shape[0], reservoir.hidden_size)
    a, b = (torch.rand(shape, generator=generator) * 2 - 1 for _ in range(2))
    tiled = x.repeat(1, -(-steps // x.shape[1]), 1)[:, :steps]
    with torch.no_grad():
        ha, _ = reservoir(tiled, a)
        hb, _ = reservoir(tiled, b)
    return (ha[:, -1] - hb[:, -1]).double().norm(dim=-1).mean().item()


def test_the_echo_state_property_holds_below_radius_one_and_fails_at_one_and_a_half(copy_task):
    probe = copy_task.probe_batch(8, 30)
    # gentle inputs (strong ones saturate the units and can restore the property even at 1.5)
    calm = _esn(copy_task, spectral_radius=0.9, input_scaling=0.1)
    wild = _esn(copy_task, spectral_radius=1.5, input_scaling=0.1)
    good, bad = calm.echo_state(probe), wild.echo_state(probe)
    assert good.holds and good.distance_at_end < 1e-3 * good.distance_at_start
    assert not bad.holds and bad.distance_at_end > 1.0
    assert "fails" in bad.message() and "lower the spectral radius" in bad.message()
    x = wild.inputs(probe["x"])
    assert bad.distance_at_end == pytest.approx(_independent_distance(wild.core.rnn, x, bad.steps), rel=1e-6)


def test_the_check_is_in_every_evaluation_of_an_esn(copy_task):
    from playground.train.trainer import Trainer

    cfg = RunConfig.from_dict({"task": {"name": "copy", "test_sequences": 32},
                               "model": {"arch": "esn", "hidden": 50, "spectral_radius": 1.5, "input_scaling": 0.1},
                               "train": {"steps": 2, "batch_size": 8, "seq_len": 25, "eval_every": 2,
                                         "device": "cpu"}}).validate()
    task = tasks.build(cfg.task)
    torch.manual_seed(0)
    model = models.build(cfg.model, task.spec)
    evals = []

    class Keep:
        def __getattr__(self, name):
            return lambda *args: evals.append(args[1]) if name == "on_eval" else None

    Trainer(cfg.train).fit(model, task, [Keep()])
    assert evals and evals[-1]["echo_state"]["holds"] is False


def test_the_readout_is_not_fitted_on_the_washout(copy_task):
    """With a washout of w, the states of the first w steps of a fresh sequence never reach the ridge sums."""
    char = tasks.build(TaskConfig(name="char", dataset="tiny", max_chars=5_000))
    batch = next(char.train_batches(4, 40, torch.Generator().manual_seed(0)))
    batch.pop("new_stream", None)
    washed, plain = _esn(char, washout=15), _esn(char, washout=0)
    washed.learn(batch)
    plain.learn(batch)
    assert washed.head.count == 4 * (40 - 15) and plain.head.count == 4 * 40
    carried = _esn(char, washout=15)
    _, state = carried.features(batch)
    carried.learn(batch, state)  # a carried state has nothing to wash out
    assert carried.head.count == 4 * 40


def test_washout_round_trips_and_old_configs_get_the_default():
    cfg = RunConfig.from_dict({"model": {"arch": "esn", "washout": 30}}).validate()
    assert RunConfig.from_json(cfg.to_json()).model.washout == 30
    assert RunConfig.from_dict({"model": {"arch": "esn"}}).model.washout == ModelConfig().washout


def test_train_warns_in_one_line_when_the_property_fails(tmp_path, capsys, monkeypatch):
    from playground import cli

    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))
    code = cli.main(["--home", str(tmp_path), "train", "--task", "copy", "--arch", "esn", "--hidden", "50",
                     "--spectral-radius", "1.5", "--input-scaling", "0.1", "--steps", "2", "--seq-len", "25",
                     "--eval-every", "2", "--test-sequences", "32", "--device", "cpu", "--quiet"])
    assert code == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "echo-state property fails" in warnings[0]
