"""Built translation data is cached on disk keyed by its content: a cached build is the build, new inputs or
code build afresh, a damaged entry is rebuilt, and two builders at once leave one readable entry."""
from __future__ import annotations

import threading

import pytest
import torch

from playground import tasks
from playground.config import TaskConfig
from playground.data import cache


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _entries(home):
    return sorted((home / "cache").glob("translation-*.pt"))


def _same_task(a, b):
    assert a.state() == b.state() and a.describe() == b.describe()
    for ours, theirs in zip(a.splits(), b.splits()):
        for name in ("src", "src_len", "tgt", "tgt_len"):
            assert torch.equal(getattr(ours, name), getattr(theirs, name)), name
        assert ours.references == theirs.references


def _build(**task):
    return tasks.build(TaskConfig(name="translation", **{"dataset": "dates", "pairs": 400, **task}))


def test_a_cached_build_is_the_build(home, monkeypatch):
    first = _build()
    assert len(_entries(home)) == 1
    calls = []
    monkeypatch.setattr(tasks.translation.TranslationTask, "_build", lambda *a: calls.append(a))  # must not run
    cached = _build()
    assert calls == []
    monkeypatch.undo()
    monkeypatch.setenv("PLAYGROUND_HOME", str(home / "elsewhere"))  # an empty cache: built from scratch
    _same_task(cached, _build())
    _same_task(cached, first)


def test_other_settings_other_file_content_or_other_code_build_afresh(home, tmp_path):
    _build()
    _build(data_seed=1)
    _build(max_len=12)
    assert len(_entries(home)) == 3
    pair_file = tmp_path / "pairs.tsv"
    pair_file.write_text("".join(f"go {i}\tva {i}\n" for i in range(60)))
    before = tasks.build(TaskConfig(name="translation", data_path=str(pair_file)))
    pair_file.write_text("".join(f"run {i}\tcours {i}\n" for i in range(60)))  # same name, new content
    after = tasks.build(TaskConfig(name="translation", data_path=str(pair_file)))
    assert len(_entries(home)) == 5
    assert "run" in after.source_vocab.symbols and "run" not in before.source_vocab.symbols
    inputs = {"a": 1}
    assert cache.entry_path("x", inputs, [cache]) != cache.entry_path("x", inputs, [cache, torch.nn.functional])


def test_a_damaged_entry_is_rebuilt(home):
    good = _build()
    (entry,) = _entries(home)
    entry.write_bytes(entry.read_bytes()[:1000])  # cut short, as by a crash without the atomic rename
    rebuilt = _build()
    _same_task(rebuilt, good)
    assert torch.load(entry, weights_only=True)["tokenization"] == list(good.state()["tokenization"])


def test_two_builders_at_once_leave_one_readable_entry(home):
    barrier = threading.Barrier(2)

    def build():
        barrier.wait()
        return {"numbers": torch.arange(100_000), "text": "x" * 10_000}

    results = [None, None]

    def worker(i):
        results[i] = cache.cached("race", {"n": 1}, [cache], build)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(torch.equal(r["numbers"], torch.arange(100_000)) for r in results)
    entries = list((home / "cache").iterdir())
    assert [p.name.startswith("race-") for p in entries] == [True]  # no temporary file left behind
    assert torch.equal(cache.cached("race", {"n": 1}, [cache], lambda: {})["numbers"], torch.arange(100_000))
