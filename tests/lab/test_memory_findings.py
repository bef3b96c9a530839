"""The lab's central finding, on small settings with fixed seeds: on the adding problem at a moderate T an
LSTM gets below the solved threshold, while a tanh RNN with the same budget stays near chance."""
from __future__ import annotations

import pytest

from playground.experiments import lab
from playground.runstore import runner
from playground.train.trainer import Trainer

T = 30
BUDGET = 600  # steps; the LSTM (seed 0) solves at about 400


def _train(arch: str, stop_when_solved: bool):
    cfg = lab.sweep_base_config("adding", steps=BUDGET, hidden=32, seed=0)
    cfg.model.arch = arch
    cfg.train.seq_len, cfg.train.eval_every, cfg.train.stop_when_solved = T, 50, stop_when_solved
    cfg.task.test_sequences = 256
    task, model = runner.prepare(cfg.validate())
    return Trainer(cfg.train).fit(model, task)


@pytest.mark.slow
def test_lstm_solves_the_adding_problem_where_the_tanh_rnn_stays_at_chance():
    lstm = _train("lstm", stop_when_solved=True)
    final = lstm.evals[-1]
    assert final["solved"] and final["mse"] <= final["solved_threshold"] == 0.01
    assert lstm.status == "completed" and lstm.steps < BUDGET and "solved at step" in lstm.message

    rnn = _train("rnn-tanh", stop_when_solved=False)
    assert rnn.steps == BUDGET
    scores = [e["mse"] for e in rnn.evals[1:]]  # every evaluation after the first step
    assert not any(e["solved"] for e in rnn.evals)
    assert min(scores) > 0.8 * rnn.evals[-1]["chance"]  # never meaningfully better than predicting the mean
