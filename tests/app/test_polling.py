"""Live pages poll less often when a class has many tabs open (every tab polls on its own)."""
from __future__ import annotations

import pytest

from ui import polling


@pytest.mark.parametrize("tabs, slower", [(1, 1), (10, 1), (11, 2), (30, 3), (40, 4), (300, 4)])
def test_polling_slows_by_one_interval_every_ten_tabs(monkeypatch, tabs, slower):
    monkeypatch.setattr(polling, "open_tabs", lambda: tabs)
    assert polling.slower() == slower


def test_without_a_server_it_polls_as_for_one_tab():
    assert polling.open_tabs() == 1 and polling.slower() == 1  # no Streamlit runtime in a test process
