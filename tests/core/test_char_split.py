"""The char task's held-out text: never a line of the tiny corpus that training also holds."""
from __future__ import annotations

import pytest

from playground import tasks
from playground.config import TaskConfig
from playground.data.corpora import split_by_line, tiny_text


def _lines(text: str) -> set[str]:
    return {line for line in text.split("\n") if line}


def test_tiny_held_out_lines_never_occur_in_training():
    task = tasks.build(TaskConfig(name="char", dataset="tiny"))
    train_ids, val_ids = task.split()
    train, held = task.vocab.decode(train_ids.tolist()), task.vocab.decode(val_ids.tolist())
    assert _lines(held) and not _lines(held) & _lines(train)
    assert 0.05 < len(held) / (len(held) + len(train)) < 0.2  # about val_fraction = 0.1 of the text


def test_split_by_line_keeps_every_copy_of_a_line_on_one_side():
    text = tiny_text(20_000)
    train, held = split_by_line(text, 0.1)
    assert sorted(train.split("\n") + held.split("\n")) == sorted(text.split("\n"))
    assert not _lines(train) & _lines(held)
    assert split_by_line(text, 0.1) == (train, held)  # stable


def test_other_corpora_still_hold_out_the_end_of_the_text():
    task = tasks.build(TaskConfig(name="char", dataset="pydoc", max_chars=20_000))
    train_ids, val_ids = task.split()
    assert len(val_ids) == pytest.approx(2_000, abs=1)
    assert task.vocab.decode(val_ids.tolist()) == task.text[-len(val_ids):]
