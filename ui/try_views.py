"""The Try page's view for each task that decodes an answer instead of sampling text: one place maps a
loaded model's task name to the module that draws it (each module has `draw(loaded)`)."""
from __future__ import annotations

from . import try_captioning, try_translation

VIEWS = {"translation": try_translation, "captioning": try_captioning}
