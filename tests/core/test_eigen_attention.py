"""The unit-circle readouts (eigenvalues of W_hh and of the mean state Jacobian) and the attention readouts,
each against a computation written out here."""
from __future__ import annotations

import math

import numpy as np
import torch

from playground import cli
from playground.config import ModelConfig
from playground.models.attention_readouts import AttentionMaps, attention_readouts
from playground.models.language_model import LanguageModel
from playground.models.trace import trace
from playground.train import diagnostics
from playground.train.state_jacobian import _positions, state_jacobian


def _as_complex(pairs):
    return np.array([complex(re, im) for re, im in pairs])


def test_eigenvalues_are_those_of_the_reported_block():
    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(arch="lstm", hidden=6, layers=2, embedding=3), 7)
    found = diagnostics.eigenvalues(model)
    assert set(found) == {"l0", "l1"}
    for layer in ("l0", "l1"):
        block = getattr(model.core.rnn, f"weight_hh_{layer}").detach().double().numpy()[12:18]  # g: the candidate block
        expected = np.linalg.eigvals(block)
        got = _as_complex(found[layer])
        assert len(got) == 6 and np.allclose(sorted(abs(got)), sorted(abs(expected)), atol=1e-5)
        assert np.isclose(got.sum(), np.trace(block), atol=1e-4)
        assert np.isclose(abs(got[0]), max(abs(got)))  # largest modulus first


def test_mean_jacobian_eigenvalues_of_a_tanh_rnn():
    """J_t = diag(1 - h_t^2) W_hh, from the traced h_t, averaged over the positions the readout samples."""
    torch.manual_seed(1)
    model = LanguageModel(ModelConfig(arch="rnn-tanh", hidden=5, embedding=3), 7).double()
    x = torch.randint(0, 7, (2, 6))
    readout = state_jacobian(model, {"x": x, "y": x}, max_positions=4, max_steps=None)
    w = model.core.rnn.weight_hh_l0.detach()
    jacobians = []
    for b, t in _positions(2, 6, 4):
        h = trace(model, {"x": x[b:b + 1]})[0]["core"]["h"][0, :, t].double()
        jacobians.append(torch.diag(1 - h ** 2) @ w)
    mean = torch.stack(jacobians).mean(0).numpy()
    got = _as_complex(readout["jacobian_eigenvalues"]["l0"])
    assert len(got) == 5
    assert np.isclose(got.sum().real, np.trace(mean), atol=1e-4)  # sum of eigenvalues = trace
    assert np.isclose((got ** 2).sum().real, np.trace(mean @ mean), atol=1e-4)
    assert np.isclose(abs(got).max(), abs(np.linalg.eigvals(mean)).max(), atol=1e-4)


def test_attention_readouts_by_hand():
    weights = torch.tensor([[[0.7, 0.3, 0.0], [0.2, 0.8, 0.0], [0.9, 0.1, 0.0], [1 / 3, 1 / 3, 1 / 3]]])
    rows = torch.tensor([[True, True, True, False]])  # the last step is padding
    keys = torch.tensor([[True, True, False]])
    out = attention_readouts(AttentionMaps(weights, rows, keys, ordered=True))
    entropy = [-sum(p * math.log(p) for p in row if p > 0) for row in ([0.7, 0.3], [0.2, 0.8], [0.9, 0.1])]
    assert math.isclose(out["attention_entropy"], sum(entropy) / 3, rel_tol=1e-6)
    assert math.isclose(out["attention_entropy_uniform"], math.log(2))
    assert out["attention_monotonicity"] == 0.5  # peaks 0 -> 1 (forward), 1 -> 0 (back)
    assert out["attention_map"] == [[0.7, 0.3], [0.2, 0.8], [0.9, 0.1]]
    assert "attention_monotonicity" not in attention_readouts(AttentionMaps(weights, rows, keys, ordered=False))


def test_metrics_out_has_eigenvalues_and_attention_over_training(tmp_path, restore_signals):
    out = tmp_path / "m.json"
    code = cli.main(["train", "--task", "translation", "--dataset", "dates", "--arch", "gru", "--attention",
                     "luong-general", "--hidden", "16", "--embedding", "8", "--steps", "12", "--eval-every", "6",
                     "--eval-batches", "1", "--batch-size", "8", "--quiet", "--metrics-out", str(out)])
    assert code == 0
    data = __import__("json").loads(out.read_text())
    assert len(data["eigenvalues"]["l0"]) == 16 and all(len(pair) == 2 for pair in data["eigenvalues"]["l0"])
    assert len(data["jacobian_eigenvalues"]["l0"]) == 16
    steps = [r["step"] for r in data["attention_over_training"]]
    assert steps == sorted(steps) and len(steps) >= 2
    assert 0 <= data["attention_monotonicity"] <= 1
    assert 0 < data["attention_entropy"] <= data["attention_entropy_uniform"] + 1e-9
    assert all(math.isclose(sum(row), 1, abs_tol=1e-3) for row in data["attention_map"])
    labels = data["attention_labels"]  # the first probe pair: target tokens down, source tokens across
    assert len(labels["queries"]) == len(data["attention_map"]) and labels["queries"][-1] == "</s>"
    assert len(labels["keys"]) == len(data["attention_map"][0])
