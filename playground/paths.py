"""Where the playground keeps its files: the run store, checkpoints and uploaded datasets.

Everything lives under one folder: `$PLAYGROUND_HOME`, or `runs/` beside the code by default.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PRETRAINED_DIR = PROJECT_ROOT / "pretrained"


def home() -> Path:
    path = Path(os.environ.get("PLAYGROUND_HOME", PROJECT_ROOT / "runs"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def datasets_dir() -> Path:
    path = home() / "datasets"
    path.mkdir(parents=True, exist_ok=True)
    return path
