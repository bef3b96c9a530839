"""Unusable text is refused with one clear DataError, and nothing is written: no run row, no file."""
from __future__ import annotations

import json
import subprocess

import pytest

from playground import cli, tasks
from playground.config import TaskConfig
from playground.data.errors import DataError
from playground.data.text import decode_text, read_text_file

LIMIT = 4000  # bytes: the upload limit these tests run with

CASES = {
    "empty": (b"", "is empty"),
    "binary": (b"some text\x00\x01\x02 more " * 200, "binary file (it contains NUL bytes)"),
    "not-utf8": ("Grüße aus Köln, déjà vu. ".encode("latin-1") * 100, "is not UTF-8 text"),
    "too-large": (b"plain ascii text. " * 400, "; the limit is "),
    "too-short": (b"hello world\n" * 5, "needs at least 170"),
}


def _write(tmp_path, case):
    raw, _ = CASES[case]
    path = tmp_path / f"{case}.txt"
    path.write_bytes(raw)
    return path


def _task_config(path):
    return TaskConfig(data_path=str(path), max_upload_bytes=LIMIT)


@pytest.mark.parametrize("case", CASES)
def test_library_refuses_bad_text(tmp_path, case):
    path = _write(tmp_path, case)
    with pytest.raises(DataError) as err:
        task = tasks.build(_task_config(path))
        task.check_size(4, 16)  # batch 4 x 16 characters
    message = str(err.value)
    assert CASES[case][1] in message
    assert "\n" not in message and "Traceback" not in message
    if case == "too-short":
        assert "has 60 characters" in message and "smaller batch size" in message


def test_decode_text_details():
    assert decode_text("\ufeffline one\r\nline two\rthree".encode()) == "line one\nline two\nthree"
    with pytest.raises(DataError, match="only whitespace"):
        decode_text(b" \n\t \r\n")
    with pytest.raises(DataError, match="position 3"):
        decode_text(b"abc\xff")
    with pytest.raises(DataError, match="no such file"):
        read_text_file("/nonexistent/file.txt")


def test_limit_is_checked_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 5000)
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("read a file over the limit"))
    with pytest.raises(DataError, match=r"big.txt is .*; the limit is .*smaller excerpt"):
        read_text_file(path, max_bytes=1000)


def _cli_args(tmp_path, path):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"task": {"max_upload_bytes": LIMIT}}))
    return ["train", "--config", str(config), "--data", str(path), "--steps", "2", "--batch-size", "4",
            "--seq-len", "16", "--hidden", "8", "--embedding", "4", "--device", "cpu", "--quiet"]


def _nothing_written(store):
    assert store.list_runs() == [], "a refused run must leave no run row"
    folder = store.root / "checkpoints"
    assert not folder.exists() or not any(folder.iterdir()), "a refused run must leave no checkpoint folder"


@pytest.mark.parametrize("case", CASES)
def test_cli_refuses_bad_text_in_one_line(store, tmp_path, case, capsys, restore_signals):
    code = cli.main(_cli_args(tmp_path, _write(tmp_path, case)))
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and CASES[case][1] in lines[0]
    assert "Traceback" not in err + out
    _nothing_written(store)


def test_cli_subprocess_exit_code_and_no_traceback(store, tmp_path, subprocess_env, python):
    proc = subprocess.run([python, "-m", "playground", *_cli_args(tmp_path, _write(tmp_path, "binary"))],
                          env=subprocess_env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: binary.txt looks like a binary file (it contains NUL bytes), not text. Upload a plain text file."]
    assert "Traceback" not in proc.stdout + proc.stderr
    _nothing_written(store)


def test_uploads_refuse_bad_bytes_and_write_nothing(store):
    uploads = pytest.importorskip("playground.data.uploads")
    from playground.paths import datasets_dir

    for case, (raw, words) in CASES.items():
        with pytest.raises(DataError) as err:
            uploads.save_upload(raw, f"{case}.txt", max_bytes=LIMIT)
        if case != "too-short":  # uploads have their own minimum length, with its own message
            assert words in str(err.value)
        assert list(datasets_dir().iterdir()) == [], f"{case}: nothing may be saved"
    saved = uploads.save_upload(b"a good text file. " * 150, "Good File.txt", max_bytes=LIMIT)
    assert (datasets_dir() / f"{saved.name}.txt").read_text() == "a good text file. " * 150
