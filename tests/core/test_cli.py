"""`python -m playground ...` as people run it: real child processes with their own PLAYGROUND_HOME."""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from playground import cli
from playground.runstore import checkpoint
from playground.runstore.store import RunStore

ROOT = Path(__file__).resolve().parents[2]

SEQ_LEN, STEPS, THRESHOLD = 12, 30, 0.5


def _env(home):
    env = {**os.environ, "PLAYGROUND_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def _playground(*args):
    return [sys.executable, "-m", "playground", *map(str, args)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small run trained through the CLI; then `runs`, `eval` and `sample` on it, all three at once."""
    home = tmp_path_factory.mktemp("cli-home")
    out = home / "metrics.json"
    train = subprocess.run(_playground(
        "train", "--arch", "rnn-tanh", "--init", "spectral", "--spectral-radius", 0.5, "--hidden", 16,
        "--embedding", 8, "--steps", STEPS, "--batch-size", 4, "--seq-len", SEQ_LEN, "--lr", 0.01, "--clip", "norm",
        "--clip-threshold", THRESHOLD, "--eval-every", 10, "--device", "cpu", "--metrics-out", out, "--quiet"),
        env=_env(home), cwd=home, capture_output=True, text=True, timeout=180)
    assert train.returncode == 0, train.stderr
    metrics = json.loads(out.read_text())
    run_id = metrics["run_id"]
    eval_out = home / "eval.json"
    commands = {
        "runs": _playground("runs"),
        "eval": _playground("eval", run_id, "--device", "cpu", "--metrics-out", eval_out),
        "sample": _playground("sample", run_id, "--length", 50, "--prime", "The ", "--device", "cpu", "--seed", 3),
    }
    procs = {name: subprocess.Popen(cmd, env=_env(home), cwd=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True) for name, cmd in commands.items()}
    results = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=180)
        results[name] = (proc.returncode, stdout, stderr)
    return {"home": home, "train": train, "metrics": metrics, "run_id": run_id, "eval_out": eval_out, **results}


def test_train_metrics_out(trained):
    m = trained["metrics"]
    assert trained["train"].stderr.startswith(f"run {m['run_id']}:")
    assert m["status"] == "completed" and m["steps"] == STEPS and m["device"] == "cpu"
    for key in ("train_loss", "val_loss", "bits_per_char", "tokens_per_s"):
        assert isinstance(m[key], float) and math.isfinite(m[key]) and m[key] > 0, key
    assert m["bits_per_char"] == pytest.approx(m["val_loss"] / math.log(2))
    assert m["bits_per_char"] < m["uniform_bits_per_char"]
    assert len(m["grad_norm"]) == STEPS and all(isinstance(g, float) and g > 0 for g in m["grad_norm"])
    assert len(m["loss"]) == STEPS
    assert m["clipped_steps"] == sum(g > THRESHOLD for g in m["grad_norm"])
    assert all(c <= THRESHOLD * (1 + 1e-6) for c in m["grad_norm_clipped"])
    flow = m["gradient_flow"]
    assert len(flow) == SEQ_LEN and all(v > 0 for v in flow)
    assert flow[-1] > flow[0] * 10, "oldest time step first: the tanh RNN's gradient vanishes with lag"
    assert m["config"]["model"]["arch"] == "rnn-tanh" and m["config"]["train"]["clip_threshold"] == THRESHOLD
    assert set(m["spectral_radius"]) == {"l0"} and m["sample"]
    # the state Jacobian's readouts beside the block radius; a tanh RNN at radius 0.5 forgets within a few steps
    assert set(m["jacobian_radius"]) == set(m["gradient_growth_per_step"]) == set(m["block_singular_value"]) == {"l0"}
    assert m["block_radius"] == m["spectral_radius"]
    assert 0 < m["jacobian_radius"]["l0"] <= m["jacobian_norm"]["l0"] + 1e-9
    assert 0 < m["gradient_growth_per_step"]["l0"] < 1 and 0 < m["effective_memory"]["l0"] < 20


def test_train_is_recorded_in_the_store(trained):
    store = RunStore(trained["home"])
    record = store.get_run(trained["run_id"])
    assert (record.status, record.step, record.total_steps) == ("completed", STEPS, STEPS)
    assert [r["step"] for r in store.metrics(record.id)] == list(range(1, STEPS + 1))
    assert [r["step"] for r in store.metrics(record.id, "eval")] == [1, 10, 20, 30]
    assert checkpoint.weights_file(store.checkpoint_dir(record.id)).is_file()


def test_runs_lists_it(trained):
    code, out, err = trained["runs"]
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith(trained["run_id"]))
    assert "completed" in line and f"{STEPS}/{STEPS}" in line and "bpc" in line


def test_eval_metrics_out(trained):
    code, out, err = trained["eval"]
    assert code == 0, err
    data = json.loads(trained["eval_out"].read_text())
    assert data["ref"] == trained["run_id"] and data["step"] == STEPS and data["device"] == "cpu"
    assert data["bits_per_char"] == pytest.approx(data["val_loss"] / math.log(2))
    assert 0 < data["bits_per_char"] < data["uniform_bits_per_char"]
    assert data["eval_characters"] > 1000
    assert "bits_per_char" in out
    assert set(data["block_radius"]) == set(data["jacobian_radius"]) == set(data["gradient_growth_per_step"]) == {"l0"}
    assert 0 < data["gradient_growth_per_step"]["l0"] < 1 and "jacobian_radius" in out


def test_sample_with_prime(trained):
    code, out, err = trained["sample"]
    assert code == 0, err
    assert out.startswith("The ") and out.endswith("\n")
    assert len(out) == len("The ") + 50 + 1


@pytest.mark.parametrize("argv, words", [
    (["eval", "no-such-run"], "neither a pretrained model"),
    (["sample", "no-such-run", "--length", "5"], "neither a pretrained model"),
    (["train", "--steps", "0"], "steps must be at least 1"),
    (["train", "--bidirectional", "--steps", "2"], "bidirectional"),
    (["pretrain", "--only", "char-huge"], "unknown pretrained recipe"),
])
def test_cli_errors_are_one_line(store, capsys, argv, words, restore_signals):
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert err.strip().splitlines() == [err.strip()] and err.startswith("error: ") and words in err
    assert store.list_runs() == []


def test_cli_diverged_run_exit_code(store, tmp_path, capsys, restore_signals):
    out = tmp_path / "m.json"
    code = cli.main(["train", "--arch", "rnn-relu", "--hidden", "16", "--embedding", "8", "--optimizer", "sgd",
                     "--lr", "10000", "--clip", "none", "--steps", "20", "--batch-size", "4", "--seq-len", "16",
                     "--device", "cpu", "--quiet", "--metrics-out", str(out)])
    assert code == 3
    data = json.loads(out.read_text())
    assert data["status"] == "diverged" and f"step {data['steps']}" in data["message"]
    assert len(data["loss"]) == data["steps"]
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.slow
def test_sigterm_stops_training_cleanly(store, subprocess_env, tmp_path, wait):
    out = tmp_path / "m.json"
    proc = subprocess.Popen(_playground(
        "train", "--hidden", 16, "--embedding", 8, "--steps", 1_000_000, "--batch-size", 4, "--seq-len", 16,
        "--eval-every", 1_000_000, "--device", "cpu", "--quiet", "--metrics-out", out),
        env=subprocess_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        record = wait(lambda: next((r for r in store.list_runs() if r.step >= 5), None), timeout=120,
                          what="the run to report progress")
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    record = store.get_run(record.id)
    assert record.status == "stopped" and 5 <= record.step < 1_000_000
    assert len(store.metrics(record.id)) == record.step
    meta = json.loads((store.checkpoint_dir(record.id) / "config.json").read_text())
    assert meta["step"] == record.step
    assert json.loads(out.read_text())["status"] == "stopped"
    assert store.events(record.id)[-1]["kind"] == "stopped"
