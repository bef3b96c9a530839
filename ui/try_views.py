"""The Try page's view for each way a task's model is put to work (`TaskSpec.try_view`) beyond sampling
text: one place maps a view to the module that draws it (each module has `draw(loaded)`)."""
from __future__ import annotations

from . import try_captioning, try_classify, try_forecast, try_tag, try_translation

VIEWS = {"translate": try_translation, "caption": try_captioning, "forecast": try_forecast, "classify": try_classify,
         "tag": try_tag}
