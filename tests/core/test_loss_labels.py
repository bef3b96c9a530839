"""A loss is labelled with what it measures, as its task says: never "nats per character" for a regression."""
from __future__ import annotations

from playground.viz import charts
from playground.tasks import TASKS


def test_each_task_names_its_loss():
    assert "MSE" in TASKS["adding"].loss_unit and "nats" not in TASKS["adding"].loss_unit
    assert TASKS["char"].loss_unit.startswith("nats per character")
    for name in ("temporal-order", "copy", "translation", "captioning"):
        assert "character" not in TASKS[name].loss_unit and "cross-entropy" in TASKS[name].loss_unit


def test_the_loss_chart_is_titled_with_the_unit():
    figure = charts.loss_figure([1, 2], [0.3, 0.2], unit=TASKS["adding"].loss_unit)
    assert figure.layout.title.text == f"Loss ({TASKS['adding'].loss_unit})"
