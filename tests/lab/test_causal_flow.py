"""A decay rate of the gradient flow is fitted and stated only where lag is distance back from the loss."""
from __future__ import annotations

import torch

from playground import models, tasks

from playground.experiments import lab
from playground.config import ModelConfig, TaskConfig
from playground.runstore.history import RunHistory


def test_flow_at_init_fits_no_rate_for_a_bidirectional_core():
    both_ways = lab.gradient_flow_at_init("gru", 0.9, seq_len=20, hidden=8, bidirectional=True)
    assert not both_ways.causal and both_ways.decay_rate is None and both_ways.verdict == "no rate"
    assert both_ways.to_dict()["verdict"] == "no rate" and both_ways.flow  # the flow itself is still shown
    forward = lab.gradient_flow_at_init("gru", 0.9, seq_len=20, hidden=8)
    assert forward.causal and forward.decay_rate is not None and forward.verdict != "no rate"


def test_models_say_whether_their_flow_is_causal():
    torch.manual_seed(0)
    dates = tasks.build(TaskConfig(name="translation", dataset="dates", pairs=200))
    char = tasks.build(TaskConfig(name="char", dataset="tiny", max_chars=3_000))
    adding = tasks.build(TaskConfig(name="adding", test_sequences=16))
    seq2seq = models.build(ModelConfig(arch="gru", hidden=8, embedding=4), dates.spec)
    assert not seq2seq.causal_flow  # the loss reaches the encoder through the decoder: lag is not distance
    assert models.build(ModelConfig(arch="lstm", hidden=8, embedding=4), char.spec).causal_flow
    assert models.build(ModelConfig(arch="gru", hidden=8), adding.spec).causal_flow
    assert not models.build(ModelConfig(arch="gru", hidden=8, bidirectional=True), adding.spec).causal_flow


class _Evals(RunHistory):
    def __init__(self, evals):
        self.evals = evals


def test_recorded_runs_carry_the_flag_and_old_ones_fall_back_on_the_direction():
    assert _Evals([{"step": 1, "flow_causal": False}]).flow_causal(bidirectional=False) is False
    assert _Evals([{"step": 1}]).flow_causal(bidirectional=True) is False
    assert _Evals([{"step": 1}]).flow_causal(bidirectional=False) is True
