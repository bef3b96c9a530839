"""What the cell notes and the lab say about gradients is true: checked here against the numbers themselves."""
from __future__ import annotations

import inspect

import torch

from playground.experiments import lab
from playground.models.cells import cell_spec


def test_a_spectral_radius_below_one_does_not_make_the_gradient_shrink():
    """rho(W) = 0.2, but with the second unit saturated (tanh' = 0) one step back multiplies by D W, whose radius
    is 1.19: over 50 steps the gradient grows about 6000-fold. The largest singular value (above 1 here) warns."""
    w = torch.tensor([[1.19, 1.0], [-0.9801, -0.79]], dtype=torch.float64)
    d = torch.diag(torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert torch.linalg.eigvals(w).abs().max() < 0.21
    step = d @ w
    assert abs(torch.linalg.eigvals(step).abs().max().item() - 1.19) < 1e-9
    growth = torch.linalg.matrix_norm(torch.linalg.matrix_power(step.t(), 50), ord=2).item()
    assert growth > 5000
    assert torch.linalg.matrix_norm(w, ord=2) > 1  # the sufficient condition for vanishing does not hold


def test_a_largest_singular_value_below_one_always_shrinks_it():
    torch.manual_seed(0)
    w = torch.randn(16, 16, dtype=torch.float64)
    w = w * (0.95 / torch.linalg.matrix_norm(w, ord=2))
    v = torch.randn(16, dtype=torch.float64)
    for _ in range(50):
        before = v.norm()
        v = (torch.diag(torch.rand(16, dtype=torch.float64)) @ w).t() @ v  # any tanh' in [0, 1]
        assert v.norm() <= 0.95 * before + 1e-12


def test_the_cell_notes_state_the_sufficient_condition_not_the_radius():
    tanh = cell_spec("rnn-tanh").note
    assert "largest singular value" in tanh and "not enough" in tanh
    relu = cell_spec("rnn-relu").note
    assert "grows geometrically" not in relu and "0.94" in relu  # what `lab flow` measures at rho = 1.2
    for gated in ("lstm", "gru"):
        assert "state Jacobian" in cell_spec(gated).note and "block radius" in cell_spec(gated).note


def test_the_relu_note_matches_what_the_lab_measures():
    measured = lab.gradient_flow_at_init("rnn-relu", 1.2, seq_len=100)
    assert 0.90 < measured.decay_rate < 0.97 and measured.verdict == "vanishes"


def test_the_twins_text_names_the_optimiser_it_uses():
    cfg = lab.twins_demo_config()
    doc = inspect.getdoc(lab.twins_demo_config)
    assert "plain SGD" not in doc and f"momentum {cfg.train.momentum:g}" in doc
    assert cfg.train.optimizer == "sgd" and f"lr {cfg.train.lr:g}" in doc
