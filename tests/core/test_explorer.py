"""The hidden-state explorer: traced activations equal a direct forward pass; a unit built to copy a pattern ranks first."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from playground import cli
from playground.config import ModelConfig
from playground.data.errors import DataError
from playground.explorer.activations import explore
from playground.explorer import patterns
from playground.explorer.patterns import PRESETS, correlations, mask_for, rank_units
from playground.models.cells import CELLS
from playground.models.language_model import LanguageModel
from playground.models.readout import ReadoutModel
from playground.models.seq2seq import Seq2Seq
from playground.models.trace import trace

VOCAB = 9


def _direct_states(core, x):
    """The core's own forward (fused where it has a twin): outputs (B, T, D*H) and the final state's parts."""
    out, final = core(x)
    return out, final if isinstance(final, tuple) else (final,)


@pytest.mark.parametrize("arch", sorted(CELLS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_activations_equal_a_direct_forward_pass(arch, bidirectional):
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, hidden=6, layers=2, embedding=4, bidirectional=bidirectional)
    spec = {"family": "readout", "input": "tokens", "input_size": VOCAB, "outputs": 3, "objective": "classify",
            "positions": "every"}
    if arch == "esn":
        cfg = ModelConfig(arch=arch, hidden=6, layers=2, bidirectional=bidirectional)
    from playground.models import build

    model = build(cfg, spec).eval()
    x = torch.randint(0, VOCAB, (1, 7))
    traces, _ = trace(model, {"x": x})
    parts = traces["core"]
    inputs = model.inputs(x) if arch == "esn" else model.embed(x)
    with torch.no_grad():
        out, finals = _direct_states(model.core, inputs)
    assert torch.allclose(parts["h"][-1].T, out[0], atol=1e-5)  # the last layer's h at every position, both halves
    hidden = cfg.hidden
    for name, final in zip(CELLS[arch].state_parts, finals):  # the forward cells' last step: the final state
        layers = final.view(cfg.layers, 2 if bidirectional else 1, 1, hidden)
        for layer in range(cfg.layers):
            assert torch.allclose(parts[name][layer, :hidden, -1], layers[layer, 0, 0], atol=1e-5)
            if bidirectional:  # the reverse cell ends at position 0
                assert torch.allclose(parts[name][layer, hidden:, 0], layers[layer, 1, 0], atol=1e-5)
    assert set(parts) == {*CELLS[arch].state_parts, *CELLS[arch].gates}
    assert all(values.shape == (cfg.layers, hidden * (2 if bidirectional else 1), 7) for values in parts.values())
    assert model.core.fused == (CELLS[arch].fused is not None)  # the fused module is back after the traced pass


def test_lstm_gates_and_lower_layer_equal_torchs_own_computation():
    """Layer 0 against a one-layer nn.LSTM with its weights, and the gates from the weights by hand."""
    torch.manual_seed(1)
    model = LanguageModel(ModelConfig(arch="lstm", hidden=5, layers=2, embedding=3), VOCAB).eval()
    x = torch.randint(0, VOCAB, (1, 8))
    parts = trace(model, {"x": x})[0]["core"]
    lower = nn.LSTM(3, 5, batch_first=True)
    lower.load_state_dict({f"{name}_l0": model.core.rnn.state_dict()[f"{name}_l0"]
                           for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    with torch.no_grad():
        e = model.embed(x)
        h_seq, _ = lower(e)
        assert torch.allclose(parts["h"][0].T, h_seq[0], atol=1e-6)
        h_prev = torch.cat([torch.zeros(1, 5), h_seq[0, :-1]])  # (T, H)
        pre = e[0] @ lower.weight_ih_l0.T + lower.bias_ih_l0 + h_prev @ lower.weight_hh_l0.T + lower.bias_hh_l0
        i, f, _, o = pre.chunk(4, dim=1)
    for name, gate in (("input", i), ("forget", f), ("output", o)):
        assert torch.allclose(parts[name][0].T, torch.sigmoid(gate), atol=1e-6)


def test_translator_encoder_and_decoder_traced_as_they_run():
    torch.manual_seed(2)
    cfg = ModelConfig(arch="gru", hidden=6, embedding=4, bidirectional=True, attention="bahdanau")
    model = Seq2Seq(cfg, {"source_vocab_size": VOCAB, "target_vocab_size": VOCAB}).eval()
    batch = {"src": torch.randint(4, VOCAB, (1, 5)), "src_len": torch.tensor([5]),
             "tgt_in": torch.tensor([[1, 5, 6, 7]]), "tgt_out": torch.tensor([[5, 6, 7, 2]])}
    traces, _ = trace(model, batch)
    with torch.no_grad():
        enc = model.encode(batch["src"], batch["src_len"])
        state, tops = enc.state, []
        for t in range(4):
            _, state, _ = model.step(batch["tgt_in"][:, t], state, enc)
            tops.append(state[-1, 0])
    assert torch.allclose(traces["core"]["h"][0].T, enc.memory[0], atol=1e-5)
    assert torch.allclose(traces["decoder"]["h"][0].T, torch.stack(tops), atol=1e-5)


def test_correlations_equal_numpys():
    rng = np.random.default_rng(0)
    activations, mask = rng.normal(size=(4, 30)), (rng.random(30) > 0.6).astype(float)
    expected = [np.corrcoef(row, mask)[0, 1] for row in activations]
    assert np.allclose(correlations(activations, mask), expected)
    assert correlations(np.ones((1, 30)), mask)[0] == 0.0  # a unit that never changes


def test_pattern_masks():
    text = 'f("a b", (x))\n  y = 12'
    assert "".join(c for c, m in zip(text, PRESETS["quotes"].mask(text)) if m) == "a b"
    assert "".join(c for c, m in zip(text, PRESETS["parentheses"].mask(text)) if m) == '"a b", x'
    assert "".join(c for c, m in zip(text, PRESETS["indentation"].mask(text)) if m) == "  "
    assert "".join(c for c, m in zip(text, PRESETS["digits"].mask(text)) if m) == "12"
    assert "".join(c for c, m in zip(text, mask_for(text, span=(2, 7))) if m) == '"a b"'
    with pytest.raises(DataError, match="not valid"):
        mask_for(text, regex="(")


class _Text:
    """A stand-in task: the explorer reads `text` one character per position."""

    def __init__(self, symbols):
        self.symbols = symbols

    def inspection(self, model, text=None):
        from playground.tasks.base import Inspection

        ids = torch.tensor([[self.symbols.index(c) for c in text]])
        return Inspection({"x": ids}, {"core": list(text)}, text)


def test_a_unit_built_to_copy_a_pattern_ranks_first():
    """Unit 3 of a tanh RNN is wired to be on exactly at digits; the others are random. Finding digits ranks it
    first, far above the shuffled baseline."""
    symbols = list("ab 0123()")
    torch.manual_seed(3)
    model = LanguageModel(ModelConfig(arch="rnn-tanh", hidden=8, embedding=4, init="xavier"), len(symbols)).eval()
    digit = torch.tensor([1.0 if c.isdigit() else 0.0 for c in symbols])
    with torch.no_grad():
        model.embed.weight[:, 0] = digit  # embedding coordinate 0: "this is a digit"
        model.core.rnn.weight_ih_l0[3] = torch.tensor([6.0, 0, 0, 0])
        model.core.rnn.weight_hh_l0[3] = 0.0
        model.core.rnn.bias_ih_l0[3], model.core.rnn.bias_hh_l0[3] = -3.0, 0.0
    rng = np.random.default_rng(0)
    text = "".join(rng.choice(symbols, size=120))
    exploration = explore(model, _Text(symbols), text)
    ranked, baseline = exploration.find(regex=r"\d")
    assert (ranked[0].part, ranked[0].layer, ranked[0].unit) == ("h", 0, 3)
    assert ranked[0].correlation > 0.99
    assert baseline["p95"] < 0.6 < ranked[0].correlation


def test_rank_units_refuses_an_empty_pattern():
    with pytest.raises(DataError, match="every character or none"):
        rank_units({"core": {"h": np.zeros((1, 2, 5))}}, np.zeros(5), "core")


def test_cli_inspect_writes_activations_and_units(tmp_path, capsys):
    out = tmp_path / "inspect.json"
    assert cli.main(["inspect", "char-tiny", "--text", "the cat sat on the mat.", "--find", "at", "--units", "3",
                     "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    h = np.array(data["cores"]["core"]["parts"]["h"])
    assert h.shape[2] == len("the cat sat on the mat.") and data["cores"]["core"]["positions"][:3] == ["t", "h", "e"]
    assert len(data["find"]["best"]) == 3 and {"mean", "p95"} <= set(data["find"]["shuffled_baseline"])
    best = data["find"]["best"][0]
    table = data["find"]["correlation"][best["part"]]
    assert table[best["layer"]][best["unit"]] == best["correlation"]
    assert max(abs(v) for row in table for v in row) == abs(best["correlation"])
    assert "units following 'at'" in capsys.readouterr().out
    assert cli.main(["inspect", "char-tiny", "--text", "zé", "--json", str(out)]) == 2
    assert "never saw" in capsys.readouterr().err


@pytest.mark.parametrize("task_name, arch", [("adding", "lstm"), ("copy", "esn"), ("temporal-order", "mgu"),
                                             ("translation", "lstm"), ("captioning", "gru")])
def test_every_task_family_explores(task_name, arch):
    """Each task's input: every core's positions are labelled, one per traced step."""
    from playground import models, tasks
    from playground.config import TaskConfig

    torch.manual_seed(0)
    task = tasks.build(TaskConfig(name=task_name, dataset=tasks.task_spec(task_name).default_dataset or "tiny", pairs=2000))
    cfg = ModelConfig(arch=arch, hidden=8, embedding=4, attention={"translation": "luong-dot",
                                                                     "captioning": "soft"}.get(task_name, "none"))
    model = models.build(cfg, task.spec)
    exploration = explore(model, task)
    for core, parts in exploration.traces.items():
        assert parts["h"].shape[2] == len(exploration.inspection.positions[core]) > 0
    with pytest.raises(DataError):
        exploration.find(regex="x") if exploration.text is None else exploration.find(span=(0, 10**6))


def test_the_shuffled_baseline_matches_one_correlation_per_shifted_mask():
    """All shifts are scored in one matrix product; checked against scoring each np.roll-ed mask on its own."""
    rng = np.random.default_rng(1)
    activations = rng.normal(size=(40, 120))
    activations[3] = 0.5  # a unit that never changes scores 0, as in `correlations`
    mask = (rng.random(120) < 0.2).astype(float)
    baseline = patterns.shuffled_baseline(activations, mask, shuffles=50, seed=7)
    shifts = np.random.default_rng(7).integers(1, 120, size=50)
    best = [np.abs(patterns.correlations(activations, np.roll(mask, int(s)))).max() for s in shifts]
    assert baseline["shuffles"] == 50
    assert baseline["mean"] == pytest.approx(np.mean(best), abs=1e-12)
    assert baseline["p95"] == pytest.approx(np.percentile(best, 95), abs=1e-12)
