"""Home's one-click "Train it" on a long-memory task must show the lesson: at the form's defaults an LSTM ended
at chance on adding, temporal order and copy (benchmarks/time_to_insight.py). Each task's first run
(TaskSpec.first_run) trains here, in the page's own settings, and must be solved."""
from __future__ import annotations

import pytest
import torch

from playground import models, options, tasks
from playground.tasks import TASK_SPECS
from playground.train.trainer import Trainer
from ui import train_form

pytestmark = pytest.mark.slow


def test_every_first_run_names_real_settings_and_makes_a_valid_run():
    for name, spec in TASK_SPECS.items():
        assert set(spec.first_run) <= set(options.BY_KEY), name
        cfg = train_form.task_defaults(name)  # validates
        for key, value in spec.first_run.items():
            assert options.BY_KEY[key].get(cfg) == value, (name, key)
        query = train_form.task_query(name)  # "Set it up" opens the same run
        assert all(train_form._from_url(options.BY_KEY[k], query[k]) == v for k, v in spec.first_run.items())


@pytest.mark.parametrize("task", [name for name, spec in TASK_SPECS.items() if spec.generates_sequences])
def test_a_memory_tasks_first_run_solves_it(task):
    cfg = train_form.task_defaults(task)
    torch.manual_seed(cfg.train.seed)
    built = tasks.build(cfg.task)
    model = models.build(cfg.model, built.spec)
    result = Trainer(cfg.train, "cpu").fit(model, built)
    assert result.status == "completed"
    assert result.evals and result.evals[-1]["solved"], (task, result.evals[-1])
    assert result.steps < cfg.train.steps  # stopped early, once solved
