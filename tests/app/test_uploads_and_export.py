"""Uploaded datasets persist under safe names; metrics export as CSV; checkpoints round-trip as zip."""
import io
import zipfile

import pandas as pd
import pytest

from playground.runstore import checkpoint, export
from playground.runstore.checkpoint import CheckpointError
from playground.data.errors import DataError
from playground.data.uploads import dataset_choices, dataset_name, delete_upload, load_dataset, save_upload
from playground.runstore.history import RunHistory
from playground.runstore.store import RunStore

TEXT = "Sing, O goddess, the anger of Achilles son of Peleus. " * 50


def test_dataset_names_are_safe_and_never_clash(home):
    assert dataset_name("../../etc/My Story (v2).TXT") == "my-story-v2"
    assert dataset_name("???.txt") == "upload"
    assert save_upload(TEXT.encode(), "tiny.txt").name == "tiny-2"  # a built-in corpus keeps its name
    assert save_upload(("Book 2. " + TEXT).encode(), "iliad.txt").name == "iliad"
    assert save_upload(("Book 3. " + TEXT).encode(), "iliad.txt").name == "iliad-2"
    assert dataset_choices()[:3] == ["tiny", "pydoc", "stdlib"] and "iliad-2" in dataset_choices()


def test_the_same_text_uploaded_again_is_not_copied(home):
    first = save_upload(TEXT.encode(), "iliad.txt")
    again = save_upload(TEXT.encode(), "copy of iliad")  # another name, the same text
    assert not first.existing and again.existing and again.name == first.name
    assert dataset_choices().count(first.name) == 1 and "copy-of-iliad" not in dataset_choices()
    assert not save_upload((TEXT + "!").encode(), "iliad.txt").existing  # one character more is another dataset


def test_files_without_a_txt_extension_are_read_by_their_content(home):
    assert save_upload(TEXT.encode(), "GPL-3").name == "gpl-3"
    assert save_upload(("x = 1\n" + TEXT).encode(), "textwrap.py").name == "textwrap"


def test_an_upload_can_be_read_back_and_deleted(home):
    saved = save_upload(("\ufeff" + TEXT.replace("\n", "\r\n")).encode(), "iliad.txt")
    loaded = load_dataset(saved.name)
    assert loaded.text == TEXT and loaded.source == "uploaded"
    assert 0 < loaded.frequency_loss() < loaded.uniform_loss
    delete_upload(saved.name)
    with pytest.raises(DataError):
        load_dataset(saved.name)


def test_metrics_csv_has_a_row_per_step_with_layers_and_evaluations(populated):
    store = RunStore()
    frame = pd.read_csv(io.BytesIO(export.metrics_csv(store, populated["lstm"])))
    assert len(frame) == 30 and list(frame["step"]) == list(range(1, 31))
    assert {"loss", "grad_norm", "grad_norm_clipped", "clipped", "layer_norm/rnn l0", "val_loss"} <= set(frame.columns)
    assert frame["val_loss"].notna().sum() == len(RunHistory.load(store, populated["lstm"]).evals)


def test_a_checkpoint_zip_round_trips_and_a_foreign_one_is_refused(populated, tmp_path):
    raw = export.checkpoint_zip(RunStore(), populated["lstm"])
    assert set(zipfile.ZipFile(io.BytesIO(raw)).namelist()) == {"config.json", "model.pt", "metrics.csv"}
    folder = export.unpack_checkpoint_zip(raw, tmp_path / "back")
    assert checkpoint.load(folder).config.model.arch == "lstm"

    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w") as archive:
        archive.writestr("config.json", '{"format": "someone-else/1"}')
        archive.writestr("model.pt", b"\x00" * 10)
    with pytest.raises(CheckpointError, match="not a Sequence Playground checkpoint"):
        export.unpack_checkpoint_zip(forged.getvalue(), tmp_path / "forged")
