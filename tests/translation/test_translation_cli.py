"""`python -m playground train --task translation ...` and `python -m playground translate ...`."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from playground import cli
from playground.paths import PROJECT_ROOT


def run_cli(*args, home):
    env = {**os.environ, "PLAYGROUND_HOME": str(home), "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True, text=True, env=env,
                          cwd=PROJECT_ROOT, timeout=120)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One small run through the real command line, with the issue's flags."""
    home = tmp_path_factory.mktemp("translation-cli")
    metrics = home / "metrics.json"
    done = run_cli("train", "--task", "translation", "--dataset", "reverse", "--pairs", "300", "--arch", "gru",
                   "--attention", "luong", "--bidirectional", "--teacher-forcing", "0.5", "--beam", "2",
                   "--hidden", "16", "--embedding", "8", "--steps", "8", "--batch-size", "16", "--eval-every", "8",
                   "--quiet", "--metrics-out", str(metrics), home=home)
    assert done.returncode == 0, done.stderr
    return home, json.loads(metrics.read_text())


def test_train_writes_the_translation_metrics(trained_run):
    _, metrics = trained_run
    assert metrics["status"] == "completed"
    for key in ("exact_match", "token_accuracy", "bleu", "val_loss"):
        assert isinstance(metrics[key], float), key
    model = metrics["config"]["model"]
    assert (model["attention"], model["bidirectional"]) == ("luong-general", True)
    assert (metrics["config"]["train"]["teacher_forcing"], metrics["config"]["train"]["beam"]) == (0.5, 2)
    assert len(metrics["gradient_flow"]) >= 3  # over the probe's encoder time steps
    assert "→" in metrics["sample"]


def test_translate_prints_the_output_and_the_attention_map(trained_run, capsys, monkeypatch):
    home, metrics = trained_run
    monkeypatch.setenv("PLAYGROUND_HOME", str(home))
    assert cli.main(["translate", metrics["run_id"], "abcde", "--attention-map", "--beam", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    output = lines[0]
    assert lines[1].startswith("beam of 3") and len(lines[2:5]) == 3
    header = lines[5].split()
    assert header == list("abcde")
    rows = lines[6:]
    assert len(rows) == len(output)  # one row per output character
    assert all(row.count("*") == 1 for row in rows)


def test_translate_json_has_everything_the_try_page_needs(trained_run, capsys, monkeypatch):
    home, metrics = trained_run
    monkeypatch.setenv("PLAYGROUND_HOME", str(home))
    assert cli.main(["translate", metrics["run_id"], "abc", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"output", "output_tokens", "source_tokens", "attention", "alternatives", "score", "unknown"} <= set(out)


def test_bad_pair_file_is_one_error_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))
    bad = tmp_path / "bad.tsv"
    bad.write_text("go\tva\nhello\n")
    assert cli.main(["train", "--task", "translation", "--data", str(bad), "--steps", "1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: line 2 of bad.tsv has one column: each line needs a source and a target separated by a tab."]


def test_translate_refuses_a_model_that_does_not_translate(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))
    assert cli.main(["translate", str(tmp_path / "missing"), "x"]) == 2
    assert "error:" in capsys.readouterr().err
