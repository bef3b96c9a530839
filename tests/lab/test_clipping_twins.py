"""Clipping twins: the same model, seed and batches three times; clipping by norm bounds every step's norm."""
from __future__ import annotations

import math

import pytest

from playground.experiments import lab
from playground.runstore.history import RunHistory


def test_twins_differ_only_in_clipping(config):
    base = config(model={"arch": "gru"}, train={"clip": "norm", "clip_threshold": 3.0})
    twins = lab.clipping_twins(base, norm_threshold=0.5, value_threshold=0.01)
    assert [(t.train.clip, t.train.clip_threshold) for t in twins] == [("none", 3.0), ("norm", 0.5), ("value", 0.01)]
    assert len({t.group for t in twins}) == 1 and twins[0].group.startswith("twins-")
    assert len({t.name for t in twins}) == 3
    for twin in twins:
        data, reference = twin.to_dict(), base.to_dict()
        for key in ("name", "group"):
            data.pop(key), reference.pop(key)
        for key in ("clip", "clip_threshold"):
            data["train"].pop(key), reference["train"].pop(key)
        assert data == reference  # same task, model, seed, steps, batches


@pytest.fixture(scope="module")
def demo_twins(tmp_path_factory):
    """The demo's three twins with its defaults, trained in this process (about 10 s: the unclipped one stops early)."""
    from playground.runstore.store import RunStore

    store = RunStore(tmp_path_factory.mktemp("twins-home"))
    configs = lab.clipping_twins(lab.twins_demo_config())
    run_ids = lab.run_in_process(store, configs)
    return store, run_ids, configs


def test_unclipped_twin_diverges_and_clipped_twins_survive(demo_twins):
    store, run_ids, configs = demo_twins
    none, norm, value = lab.summarize_twins(store, run_ids)
    assert [t.clip for t in (none, norm, value)] == ["none", "norm", "value"]
    assert none.diverged and none.status == "diverged" and none.diverged_at <= 20
    assert none.clipped_steps == 0 and none.clip_steps == [] and none.value is None
    steps = configs[0].train.steps
    for twin in (norm, value):
        assert not twin.diverged and twin.status == "completed" and twin.steps == steps
        assert twin.clipped_steps > 30 and len(twin.clip_steps) == twin.clipped_steps
        assert math.isfinite(twin.final_loss) and twin.max_grad_norm > 10  # the raw gradients did explode
    assert [r.id for r in lab.runs_in_group(store, configs[0].group)] == run_ids


def test_the_norm_clipped_twin_learns_what_the_unclipped_one_could_not(demo_twins):
    """Pascanu et al. 2013: clipping by norm keeps the step's direction and bounds its length, so the model
    survives the gradient explosion and goes on learning. Held-out metric against the task's chance."""
    store, run_ids, _ = demo_twins
    none, norm, value = lab.summarize_twins(store, run_ids)
    assert norm.metric == "accuracy" and norm.chance == pytest.approx(0.25)
    assert norm.value >= 0.9 > norm.chance + 0.5  # solved, far above chance
    assert value.value is not None and value.chance == norm.chance


def test_twins_refuse_a_forward_pass_that_overflows_at_initialisation(config):
    from playground.config import ConfigError

    blown = config(task="adding", seq_len=50, model={"arch": "rnn-relu", "init": "spectral", "spectral_radius": 2.0,
                                                     "hidden": 32}, train={"optimizer": "sgd"})
    assert "forward pass overflows" in lab.forward_overflow(blown)
    with pytest.raises(ConfigError, match="clipping gradients cannot help"):
        lab.clipping_twins(blown)
    assert lab.forward_overflow(lab.twins_demo_config()) is None


def test_same_seed_same_batches_same_start(demo_twins):
    store, run_ids, _ = demo_twins
    first = [RunHistory.load(store, run_id).steps[0] for run_id in run_ids]
    assert first[0]["loss"] == first[1]["loss"] == first[2]["loss"]  # same weights, same first batch
    assert first[0]["grad_norm"] == first[1]["grad_norm"] == first[2]["grad_norm"]


def test_clip_by_norm_keeps_every_step_at_or_below_the_threshold(demo_twins):
    store, run_ids, _ = demo_twins
    steps = RunHistory.load(store, run_ids[1]).steps
    assert steps and all(r["clip"] == "norm" for r in steps)
    threshold = lab.TWINS_NORM_THRESHOLD
    for record in steps:
        assert record["grad_norm_clipped"] <= threshold + 1e-6, record["step"]
        assert record["clipped"] == (record["grad_norm"] > threshold)
        if not record["clipped"]:
            assert record["grad_norm_clipped"] == record["grad_norm"]
    # clipping by value bounds every element instead, so the global norm may stay above its threshold
    value_steps = RunHistory.load(store, run_ids[2]).steps
    assert max(r["grad_norm_clipped"] for r in value_steps) > 0.1
