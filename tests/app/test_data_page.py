"""Data: uploads are checked on the server; good ones are saved and become a choice on Train."""
import pytest

from app_helpers import no_exception, open_page, texts

GOOD = ("The quick brown fox jumps over the lazy dog. " * 60).encode("utf-8")  # 2,700 characters


def upload(at, name: str, content: bytes):
    at.file_uploader(key="uploads").set_value((name, content, "text/plain"))
    return at.run()


def test_a_good_upload_is_saved_described_and_offered_on_train(home):
    at = upload(open_page("views/data.py"), "My Novel.txt", GOOD)
    no_exception(at)
    assert "Saved **My Novel.txt** as dataset `my-novel`" in texts(at.success)
    assert at.selectbox(key="data_view").value == "my-novel"
    assert (home / "datasets" / "my-novel.txt").read_bytes() == GOOD
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Characters"] == f"{len(GOOD):,}"
    assert metrics["Vocabulary V"] == str(len(set(GOOD.decode())))

    train = open_page("views/train.py")
    assert "my-novel" in train.selectbox(key="dataset").options


@pytest.mark.parametrize("name, content, message", [
    ("empty.txt", b"", "is empty"),
    ("blank.txt", b"   \n\n  ", "only whitespace"),
    ("picture.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 100, "binary file"),
    ("latin1.txt", "café crème ".encode("latin-1") * 200, "not UTF-8"),
    ("short.txt", b"Too short to learn from.", "at least 2,312"),
    ("huge.txt", b"a" * 20_000_001, "the limit is 20.0 MB"),
])
def test_a_bad_upload_gets_a_clear_message_and_is_not_saved(home, name, content, message):
    at = upload(open_page("views/data.py"), name, content)
    no_exception(at)
    assert message in texts(at.error)
    assert not list((home / "datasets").glob("*.txt"))


def test_a_second_upload_with_the_same_name_never_overwrites_the_first(home):
    at = upload(open_page("views/data.py"), "notes.txt", GOOD)
    at = upload(at, "notes.txt", GOOD.upper())
    no_exception(at)
    assert sorted(p.name for p in (home / "datasets").glob("*.txt")) == ["notes-2.txt", "notes.txt"]
