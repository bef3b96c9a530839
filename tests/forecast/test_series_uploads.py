"""Uploaded series are checked on the server: every bad case is one clear sentence naming the line."""
from __future__ import annotations

import numpy as np
import pytest

from playground import tasks
from playground.config import TaskConfig
from playground.data import series as series_data
from playground.data.errors import DataError

GOOD = "date,value\n" + "\n".join(f"2001-01-{d:02d},{d * 1.5}" for d in range(1, 32)) + "\n"


@pytest.mark.parametrize("text, words", [
    ("value\n1\n2\nabc\n" + "4\n" * 40, "line 4 of s.csv has 'abc' where a number should be"),
    ("value\n1\n2\n\n" + "4\n" * 40, None),  # a blank line is skipped, not a gap
    ("date,value\n2001-01-01,1\n2001-01-02,\n" + "".join(f"2001-02-{d:02d},1\n" for d in range(1, 29)),
     "line 3 of s.csv has no value (a gap)"),
    ("1\n2\n3\n", "s.csv has 3 values; a forecast needs at least 30"),
    ("value\n1\ninf\n" + "4\n" * 40, "line 3 of s.csv has 'inf': values must be finite"),
    ("a,b,c\n1,2,3\n", "line 1 of s.csv has 3 columns"),
    ("date,value\n2001-01-01,1\n2001-01-02,2,3\n", "line 3 of s.csv has 3 columns but the first line has 2"),
    ("date,value\nyesterday,1\n" + "2001-01-02,2\n" * 40, "line 2 of s.csv has 'yesterday' where a date should be"),
    ("date,value\n2001-01-02,1\n2001-01-01,2\n" + "".join(f"2001-02-{d:02d},1\n" for d in range(1, 29)),
     "line 3 of s.csv has the date '2001-01-01', not after the line above"),
])
def test_bad_uploads_name_the_line(text, words):
    if words is None:
        values, dates = series_data.parse_series(text, "s.csv")
        assert len(values) == 42 and dates == ()
        return
    with pytest.raises(DataError) as caught:
        series_data.parse_series(text, "s.csv")
    assert words in str(caught.value)


@pytest.mark.parametrize("raw, words", [(b"", "empty"), (b"1\n\x00\n", "NUL byte"), (b"1\n\xff\xfe2\n", "not UTF-8")])
def test_empty_binary_and_undecodable_files_are_refused(store, raw, words):
    with pytest.raises(DataError, match=words):
        series_data.save_upload(raw, "s.csv")
    assert series_data.uploaded_names() == []


def test_a_good_upload_is_saved_listed_and_trained_on(store):
    saved = series_data.save_upload(GOOD.encode(), "My Sales.csv")
    assert saved.name == "my-sales" and series_data.uploaded_names() == ["my-sales"]
    assert "my-sales" in tasks.task_spec("forecast").datasets()
    again = series_data.load_series("my-sales")
    assert np.allclose(again.values, [d * 1.5 for d in range(1, 32)]) and again.dates[0] == "2001-01-01"
    task = tasks.build(TaskConfig(name="forecast", dataset="my-sales"))
    assert task.split == 25 and task.describe()["points"] == 31
    assert series_data.save_upload(GOOD.encode(), "My Sales.csv").name == "my-sales-2"  # never overwritten
    series_data.delete_upload("my-sales")
    with pytest.raises(DataError, match="unknown series"):
        series_data.load_series("my-sales")
