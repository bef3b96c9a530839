"""Uploaded pair files: parsing, clear one-line messages with the first bad line, tokenisation, length filter."""
from __future__ import annotations

import pytest

from playground import tasks
from playground.config import TaskConfig
from playground.data.errors import DataError
from playground.data.pair_files import decode_pairs_bytes, parse_pairs, read_pairs_file, split_by_source


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def error_of(tmp_path, name, content) -> str:
    with pytest.raises(DataError) as info:
        read_pairs_file(write(tmp_path, name, content))
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_empty_file(tmp_path):
    assert "empty" in error_of(tmp_path, "pairs.tsv", b"")
    assert "empty" in error_of(tmp_path, "pairs.tsv", "\n \n")


def test_binary_file_names_the_line(tmp_path):
    message = error_of(tmp_path, "pairs.tsv", b"go\tva\nhi\tsalut\n\x89PNG\x00\x00\x01")
    assert "binary" in message and "line 3" in message


def test_non_utf8_file_names_the_line(tmp_path):
    message = error_of(tmp_path, "pairs.tsv", "go\tva\n".encode() + "café\tcafé\n".encode("latin-1"))
    assert "UTF-8" in message and "line 2" in message


def test_one_column_file(tmp_path):
    message = error_of(tmp_path, "pairs.txt", "just one sentence\nand another\n")
    assert "line 1" in message and "one column" in message and "tab" in message


def test_one_column_line_in_a_good_file(tmp_path):
    message = error_of(tmp_path, "pairs.tsv", "go\tva\nhi\tsalut\n\nrun\tcours\nstop\n")
    assert "line 5" in message and "one column" in message


def test_ragged_file_names_the_first_bad_line(tmp_path):
    message = error_of(tmp_path, "pairs.tsv", "go\tva\tCC-BY\nhi\tsalut\tCC-BY\nrun\tcours\nstop\tarrête\n")
    assert "line 3" in message and "2 columns" in message and "line 1 has 3" in message


def test_empty_target(tmp_path):
    message = error_of(tmp_path, "pairs.tsv", "go\tva\nhi\t \n")
    assert "line 2" in message and "empty target" in message


def test_attribution_column_is_ignored_and_blank_lines_skipped(tmp_path):
    text = "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\n\r\nHi.\tSalut !\tCC-BY 2.0\n"
    assert read_pairs_file(write(tmp_path, "fra.txt", text)) == [("Go.", "Va !"), ("Hi.", "Salut !")]


def test_csv_with_quotes_and_a_header(tmp_path):
    text = 'source,target\n"hello, world","bonjour, le monde"\nyes,oui\n'
    assert read_pairs_file(write(tmp_path, "pairs.csv", text)) == [("hello, world", "bonjour, le monde"),
                                                                   ("yes", "oui")]


def test_byte_order_mark_and_windows_newlines():
    assert parse_pairs(decode_pairs_bytes("\ufeffa\tb\r\nc\td\r\n".encode())) == [("a", "b"), ("c", "d")]


def test_split_keeps_each_source_on_one_side():
    pairs = [(f"s{i % 40}", f"t{i}") for i in range(200)]  # every source has 5 translations
    train, test = split_by_source(pairs, seed=0, val_fraction=0.1)
    assert len(train) + len(test) == 200
    assert not {s for s, _ in train} & {s for s, _ in test}
    assert len({s for s, _ in test}) == 4
    with pytest.raises(DataError, match="two different source"):
        split_by_source([("a", "b"), ("a", "c")], 0, 0.1)


def pairs_file(tmp_path):
    lines = [f"I see {n} cats.\tJe vois {n} chats.\tCC-BY" for n in range(30)]
    lines += ["This sentence is far too long to be kept with a small maximum length.\tTrop long.\tCC-BY"]
    return write(tmp_path, "cats.tsv", "\n".join(lines) + "\n")


def test_word_and_character_tokenization_and_max_len(tmp_path):
    path = pairs_file(tmp_path)
    words = tasks.build(TaskConfig(name="translation", data_path=str(path), dataset="cats", tokenization="word",
                                   max_len=8))
    info = words.describe()
    assert info["source_tokenization"] == info["target_tokenization"] == "word"
    assert info["dropped_pairs"] == 1  # the long sentence (14 words) is left out
    assert info["train_pairs"] + info["test_pairs"] == 30
    assert "cats" in words.source_vocab.index and "." in words.source_vocab.index
    chars = tasks.build(TaskConfig(name="translation", data_path=str(path), dataset="cats", tokenization="char"))
    assert chars.describe()["source_tokenization"] == "char" and "c" in chars.source_vocab.index
    assert chars.describe()["dropped_pairs"] == 1  # 71 characters > the default max_len of 50


def test_nothing_left_after_the_length_filter(tmp_path):
    with pytest.raises(DataError, match="raise max_len"):
        tasks.build(TaskConfig(name="translation", data_path=str(pairs_file(tmp_path)), tokenization="char",
                               max_len=5))


def test_unknown_dataset_lists_what_exists():
    with pytest.raises(DataError, match="dates, numbers, reverse, sort"):
        tasks.build(TaskConfig(name="translation", dataset="tiny"))


def test_an_app_upload_becomes_a_dataset_by_name(tmp_path, monkeypatch):
    from playground.data.pair_files import save_upload
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))
    raw = "\n".join(f"{n} cats\t{n} chats\tCC-BY" for n in range(40)).encode()
    assert save_upload(raw, "My Cats!.csv") == ("my-cats", 40)
    assert save_upload(raw, "My Cats!.csv")[0] == "my-cats-2"  # never overwrites an earlier upload
    task = tasks.build(TaskConfig(name="translation", dataset="my-cats"))
    assert task.describe()["train_pairs"] + task.describe()["test_pairs"] == 40
    with pytest.raises(DataError, match="line 2"):
        save_upload(b"a\tb\nc\n", "bad.tsv")
    assert sorted(p.name for p in (tmp_path / "datasets").iterdir()) == ["my-cats-2.tsv", "my-cats.tsv"]
