"""The text tasks' shared fixtures."""
from __future__ import annotations

import pytest

from playground.config import ModelConfig, TrainConfig
from text_helpers import langid_config, train


@pytest.fixture(scope="session")
def trained_langid():
    """A small GRU trained for a few seconds on four languages' words."""
    return train(langid_config(), ModelConfig(arch="gru", hidden=48, embedding=16),
                 TrainConfig(steps=150, batch_size=64, lr=5e-3, eval_every=1000, eval_in_background=False, seed=0))
