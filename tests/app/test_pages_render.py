"""Every page renders without an exception, with an empty store and with finished runs in it."""
import pytest

from app_helpers import no_exception, open_page, texts

PAGES = ["views/home.py", "views/train.py", "views/gradients.py", "views/compare.py", "views/data.py",
         "views/try.py"]
TITLES = {"views/home.py": "Sequence Playground", "views/train.py": "Train", "views/gradients.py": "Gradients",
          "views/compare.py": "Compare", "views/data.py": "Data", "views/try.py": "Try"}


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_an_empty_store(home, page):
    at = open_page(page)
    no_exception(at)
    assert TITLES[page] in texts(at.title)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_finished_runs(populated, page):
    at = open_page(page)
    no_exception(at)
    assert TITLES[page] in texts(at.title)


def test_home_says_where_training_runs_and_offers_two_ways_in(home):
    at = open_page("views/home.py")
    captions = texts(at.caption)
    assert "Training runs on" in captions and ("CPU" in captions or "GPU" in captions)
    markdown = texts(at.markdown)
    assert "Train your first model" in markdown and "Try a pretrained model" in markdown
    assert "Nothing is training right now" in captions


def test_train_page_shows_the_equations_of_every_cell(home):
    at = open_page("views/train.py")
    labels = [e.label for e in at.expander]
    for cell in ("Vanilla RNN (tanh)", "Vanilla RNN (ReLU)", "LSTM", "GRU"):
        assert any(cell in label for label in labels), labels
    assert any(r"c_t = f_t \odot c_{t-1} + i_t \odot g_t" in latex.value for latex in at.latex)
