"""Omega twins: one tanh RNN trained without and with the Omega penalty, on the same seed and batches; the
summary reads the held-out metric, the gradient flow at the first time steps and Omega's recorded values."""
from __future__ import annotations

import numpy as np

from playground.experiments import lab
from playground.runstore.history import RunHistory
from playground.runstore.store import RunStore


def test_omega_twins_differ_only_in_the_penalty_and_are_summarised(config, tmp_path):
    base = config(model={"arch": "rnn-tanh"}, train={"steps": 6, "eval_every": 3})
    twins = lab.omega_twins(base, weight=1.5)
    assert [(t.train.omega, t.model.backend) for t in twins] == [(0.0, "scratch"), (1.5, "scratch")]
    store = RunStore(tmp_path)
    run_ids = lab.run_in_process(store, twins)
    plain, penalised = lab.summarize_omega(store, run_ids)
    assert plain.final_omega is None and penalised.final_omega is not None and penalised.final_omega >= 0
    assert [step for step, _ in plain.metric_by_step] == [1, 3, 6] and plain.metric == "mse"
    # the first-steps flow is the mean of the recorded flow's first entries, and the stored penalty is per step
    history = RunHistory.load(store, run_ids[1])
    flow = history.evals[-1]["gradient_flow"]
    assert penalised.first_steps_flow[-1] == (6, np.mean(flow[: lab.FIRST_STEPS]))
    stored = [record["penalties"]["omega"] for record in store.metrics(run_ids[1], "train")]
    assert np.allclose(history.penalties()["omega"], stored) and len(stored) == 6
    assert "omega" not in RunHistory.load(store, run_ids[0]).penalties()
