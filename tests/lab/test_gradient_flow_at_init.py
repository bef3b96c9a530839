"""Gradient flow at initialisation: a smaller spectral radius of W_hh makes ||dL_T/dx_t|| vanish faster."""
from __future__ import annotations

import math

import pytest

from playground.experiments import lab
from playground.config import ARCHITECTURES
from playground.models.cells import CELLS

RADII = (0.5, 1.0, 1.5)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_flow_decays_faster_for_a_smaller_spectral_radius(arch):
    flows = [lab.gradient_flow_at_init(arch, radius, seq_len=40, hidden=32, seed=0) for radius in RADII]
    for flow, radius in zip(flows, RADII):
        assert len(flow.flow) == len(flow.theory) == 40 and flow.lags == list(range(40))
        assert all(math.isfinite(v) and v > 0 for v in flow.flow)
        allowed = min(radius, CELLS[arch].radius_bound or math.inf)  # IndRNN cuts |u| to its bound
        assert all(r == pytest.approx(allowed, rel=1e-5) for r in flow.measured_radius.values())
        assert flow.theory[0] == flow.flow[0] and flow.theory[10] == pytest.approx(flow.flow[0] * radius ** 10)
    rates = [f.decay_rate for f in flows]
    assert rates[0] < rates[1] < rates[2], rates
    # and over the whole window the gap is orders of magnitude, not noise
    assert flows[0].flow[-1] / flows[0].flow[0] < 1e-3 * flows[2].flow[-1] / flows[2].flow[0]


def test_tanh_rnn_vanishes_below_radius_one_and_explodes_above():
    small = lab.gradient_flow_at_init("rnn-tanh", 0.5, seq_len=40, hidden=32)
    large = lab.gradient_flow_at_init("rnn-tanh", 1.5, seq_len=40, hidden=32)
    assert small.verdict == "vanishes" and small.decay_rate < 0.6  # radius 0.5 times tanh' <= 1
    assert large.verdict == "explodes" and large.flow[-1] > large.flow[0]
    assert small.to_dict()["verdict"] == "vanishes" and small.steps_per_decade < 5
