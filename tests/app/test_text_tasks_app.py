"""The text lessons in the app: Try classifies typed text (class probabilities, the prediction as the network
reads) and spaces pasted text; Train and Compare draw the confusion matrix; Data takes labelled uploads
(a bad line named) and says how much of a text falls outside a word vocabulary."""
from __future__ import annotations

import pytest

from playground import tasks
from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from playground.runstore import runner
from playground.runstore.store import RunStore

from app_helpers import no_exception, open_page, texts

GOOD = "text,label\n" + "".join(f"{w} is great,pos\n{w} is awful,neg\n" for w in ("food", "film", "book", "song"))


@pytest.fixture
def text_runs(home):
    """A finished spaces run and a langid run, trained in this process on tiny settings."""
    store = RunStore(home)
    ids = {}
    for name, task, bidirectional in (("spaces", TaskConfig(name="spaces", dataset="tiny"), True),
                                      ("langid", TaskConfig(name="langid", dataset="wordfreq"), False)):
        if name == "langid":
            task.langid.languages, task.langid.words_per_language, task.langid.test_examples = "en,pl", 300, 40
        cfg = RunConfig(task=task, model=ModelConfig(arch="gru", hidden=16, embedding=8, bidirectional=bidirectional),
                        train=TrainConfig(steps=20, batch_size=16, seq_len=32, eval_every=10))
        ids[name] = store.create_run(cfg)
        runner.execute(store, ids[name], handle_signals=False)
    return ids


def plotly_specs(at) -> str:
    return "\n".join(chart.proto.spec for chart in at.get("plotly_chart"))


def test_try_tags_pasted_text_and_classifies_typed_text(text_runs):
    at = open_page("views/try.py", query={"model": f"run:{text_runs['spaces']}"})
    no_exception(at)
    assert "As the model spaces it" in texts(at.markdown)
    at.text_area(key="tag_text_spaces").set_value("thecatsees").run()
    no_exception(at)
    assert at.code[0].value.replace(" ", "") == "thecatsees"
    assert "a space follows" in plotly_specs(at)

    at = open_page("views/try.py", query={"model": f"run:{text_runs['langid']}"})
    no_exception(at)
    at.text_input(key="classify_text_langid_wordfreq").set_value("zdrowie").run()
    no_exception(at)
    assert "Answer:" in texts(at.markdown)
    specs = plotly_specs(at)
    assert "characters read so far" in specs and "Probability of each class" in specs
    at.text_input(key="classify_text_langid_wordfreq").set_value("   ").run()
    assert "type some text" in texts(at.error)


def test_train_and_compare_draw_confusion_matrices(text_runs):
    at = open_page("views/train.py", query={"run": text_runs["langid"]})
    no_exception(at)
    assert "Confusion matrix at step 20" in plotly_specs(at)
    at = open_page("views/compare.py", query={"runs": f"{text_runs['langid']},{text_runs['spaces']}"})
    no_exception(at)
    assert "Confusion matrices" in texts(at.subheader)
    assert "bidirectional" in at.dataframe[0].value.columns


def test_data_takes_labelled_text_and_names_a_bad_line(home):
    at = open_page("views/data.py")
    at.file_uploader(key="labelled_uploads").set_value(("reviews.csv", GOOD.encode(), "text/csv")).run()
    no_exception(at)
    assert "8 texts in 2 classes" in texts(at.success)
    assert at.selectbox(key="labelled_dataset").value == "reviews"
    at.file_uploader(key="labelled_uploads").set_value(
        ("ragged.csv", b"good,pos\nbad,neg,extra\n", "text/csv")).run()
    no_exception(at)
    assert "line 2 of ragged.csv has 3 columns" in texts(at.error)
    train = open_page("views/train.py", query={"task": "langid"})
    no_exception(train)
    assert "reviews" in train.selectbox(key="dataset").options


def test_data_says_how_much_text_falls_outside_the_word_vocabulary(home):
    at = open_page("views/data.py", query={"dataset": "pydoc"})
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    facts = tasks.build(TaskConfig(name="words", dataset="pydoc")).describe()
    assert metrics["Vocabulary kept"] == f"{facts['vocab_size']:,}" and facts["vocab_size"] > 1000
    assert metrics["Out of vocabulary"] == f"{facts['out_of_vocabulary']:.1%}" and facts["out_of_vocabulary"] > 0
