"""Issue 11 through the app's own paths (AppTest) and the CLI: malformed and malicious checkpoint zips
on Try's import, a damaged imported folder, damaged store rows, markdown in names, deleting a run."""
from __future__ import annotations

import io
import json
import pickle
import sqlite3
import zipfile

import pytest
import torch

from playground import cli

from playground.runstore import export, runner
from playground.runstore.store import RunStore

from app_helpers import no_exception, open_page, texts, tiny_config

pytestmark = pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")  # the pickled-code case


@pytest.fixture(scope="module")
def good_zip(tmp_path_factory) -> bytes:
    """A real checkpoint zip of a briefly trained tiny LSTM."""
    store = RunStore(tmp_path_factory.mktemp("zip-home"))
    run_id = store.create_run(tiny_config(steps=5))
    runner.execute(store, run_id, handle_signals=False)
    return export.checkpoint_zip(store, run_id)


def _members(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _with_meta(raw: bytes, change) -> bytes:
    members = _members(raw)
    meta = json.loads(members["config.json"])
    change(meta)
    members["config.json"] = json.dumps(meta).encode()
    return _zip(members)


def _bad_crc(raw: bytes) -> bytes:
    stored = bytearray(_zip(_members(raw), zipfile.ZIP_STORED))
    at = stored.find(b"PK\x03\x04", stored.find(b"model.pt") - 40)  # model.pt's local header
    data = at + 30 + len("model.pt") + 100  # a byte inside its data
    stored[data] ^= 0xFF
    return bytes(stored)


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def _cases(raw: bytes) -> dict[str, tuple[bytes, str]]:
    """name -> (zip bytes, words the refusal must contain)."""
    members = _members(raw)

    def hidden_20(meta):
        meta["config"]["model"]["hidden"] = 20

    return {
        "config null": (_with_meta(raw, lambda m: m.update(config=None)), "damaged configuration"),
        "vocab 5": (_with_meta(raw, lambda m: m.update(task_state={"vocab": 5})), "damaged configuration"),
        "task state a list": (_with_meta(raw, lambda m: m.update(task_state=[1])), "damaged description"),
        "unknown setting": (_with_meta(raw, lambda m: m["config"]["model"].update(colour="red")), "unknown"),
        "weights do not fit": (_with_meta(raw, hidden_20), "do not fit"),
        "names another file": (_with_meta(raw, lambda m: m.update(weights="../../etc/model.pt")), "weights file"),
        "bad CRC": (_bad_crc(raw), "damaged"),
        "truncated": (raw[: len(raw) // 2], "not a zip"),
        "not a zip": (b"PK\x03\x04 but nothing else" * 10, "not a zip"),
        "no weights": (_zip({"config.json": members["config.json"]}), "no model.pt"),
        "pickled code": (_zip({**members, "model.pt": pickle.dumps(Payload())}), "not a plain PyTorch state_dict"),
    }


def _imported_entries(home) -> list[str]:
    folder = home / "imported"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_every_bad_zip_is_a_clear_message_on_try_and_leaves_nothing(home, good_zip):
    at = open_page("views/try.py")
    before = list(at.selectbox(key="model").options)
    for name, (raw, words) in _cases(good_zip).items():
        at.file_uploader(key="checkpoint_upload").set_value((f"{name}.zip", raw, "application/zip"))
        at.run()
        no_exception(at)
        assert words in texts(at.error).replace("\\", ""), f"{name}: {texts(at.error)!r}"  # shown as text: escaped
        assert _imported_entries(home) == [], f"{name} left {_imported_entries(home)}"
        assert list(at.selectbox(key="model").options) == before, f"{name} became a choice"
    # and a good one still imports after all that
    at.file_uploader(key="checkpoint_upload").set_value(("good.zip", good_zip, "application/zip"))
    at.run()
    no_exception(at)
    assert at.selectbox(key="model").value == "imported:good"


def test_a_damaged_imported_folder_is_skipped_and_reported(home, good_zip):
    name = export.import_checkpoint(good_zip, "fine.zip")
    broken = home / "imported" / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"format": "sequence-playground/1", "config": None}))
    at = open_page("views/try.py")
    no_exception(at)
    assert "Skipped damaged uploaded checkpoints" in texts(at.warning) and "broken" in texts(at.warning)
    assert f"uploaded · {name}" in at.selectbox(key="model").options


@pytest.mark.parametrize("case", ["config null", "vocab 5"])
def test_the_cli_gives_one_line_for_a_damaged_checkpoint(home, good_zip, tmp_path, capsys, case):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    for member, data in _members(_cases(good_zip)[case][0]).items():
        (folder / member).write_bytes(data)
    assert cli.main(["sample", str(folder), "--length", "5"]) == 2
    err = capsys.readouterr().err
    assert "damaged configuration" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_pages_survive_a_damaged_live_row(populated):
    """A damaged row that is live went through reap_lost_runs on every page."""
    store = RunStore()
    run_id = store.create_run(tiny_config())
    try:
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE runs SET status = 'running', pid = 1, config = '{oops' WHERE id = ?", (run_id,))
        for page in ("views/home.py", "views/train.py", "views/compare.py", "views/gradients.py", "views/try.py"):
            at = open_page(page)
            no_exception(at)
        at = open_page("views/train.py")
        assert run_id in texts(at.warning)  # reported with its id
        assert len(at.selectbox(key="run").options) >= len(populated)  # the others are all there
    finally:
        with sqlite3.connect(store.path) as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))


MARKDOWN_NAME = "![b](http://example.invalid/x.png) **bold** :material/sync: $x$"


def test_a_run_name_is_shown_as_text_on_train_and_compare(home):
    store = RunStore()
    run_id = store.create_run(tiny_config(steps=3).__class__.from_dict({**tiny_config(steps=3).to_dict(),
                                                                         "name": MARKDOWN_NAME}))
    runner.execute(store, run_id, handle_signals=False)
    at = open_page("views/train.py", {"run": run_id})
    no_exception(at)
    heading = next(h.value for h in at.subheader if "example" in h.value)
    assert heading.startswith(r"\!\[b\](http\://example.invalid/x.png) \*\*bold\*\* \:material/sync\: \$x\$")
    at = open_page("views/compare.py", {"runs": run_id})
    no_exception(at)
    shown = [m.value for m in at.markdown if "example" in m.value]
    assert shown and all(r"\!\[b\]" in value and "![b]" not in value for value in shown)


def test_a_finished_run_can_be_deleted_in_the_app(home):
    store = RunStore()
    run_id = store.create_run(tiny_config(steps=3))
    runner.execute(store, run_id, handle_signals=False)
    at = open_page("views/train.py", {"run": run_id})
    next(b for b in at.button if b.label == "Delete the run").click().run()
    no_exception(at)
    assert store.get_run(run_id) is None and not store.checkpoint_dir(run_id).exists()
    assert not any(option.endswith(run_id[-4:]) for option in at.selectbox(key="run").options)


def test_a_bad_max_runs_setting_is_a_message_on_home_and_train(home, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_RUNS", "abc")
    at = open_page("views/home.py")
    no_exception(at)
    assert "PLAYGROUND\\_MAX\\_RUNS must be a whole number" in texts(at.caption)
    at = open_page("views/train.py", {"hidden": "16", "embedding": "8", "batch": "8", "seq_len": "16", "steps": "5"})
    next(b for b in at.button if "Start training" in b.label).click().run()
    no_exception(at)
    assert "PLAYGROUND\\_MAX\\_RUNS must be a whole number" in texts(at.error)
    assert RunStore().list_runs() == []
