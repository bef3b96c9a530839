"""`python -m playground describe [--json]`: what every task and architecture says about itself, read
from the registries (tasks.TASK_SPECS, models.cells.CELLS) and the settings table (options.SETTINGS)."""
from __future__ import annotations

import dataclasses
import inspect
import json

from .. import options
from ..config import OPTIONS, option_packs
from ..models.cells import CELLS
from ..tasks import TASK_SPECS


def registries() -> dict:
    """Plain JSON: {"tasks": [...], "architectures": [...], "options": [...], "settings": [...]}."""
    return {"tasks": [spec.describe() for spec in TASK_SPECS.values()],
            "architectures": [cell.describe() for cell in CELLS.values()],
            "options": [{"section": section, "name": kind.__name__, "about": inspect.getdoc(kind),
                         "fields": [f.name for f in dataclasses.fields(kind)]}
                        for section, kinds in OPTIONS.items() for kind in kinds]
                       + [{"section": section, "name": kind.__name__, "pack": name, "about": inspect.getdoc(kind),
                           "fields": [f.name for f in dataclasses.fields(kind)]}
                          for section in OPTIONS for name, kind in option_packs(section).items()],
            "settings": options.describe_settings()}


def text() -> str:
    lines = ["Tasks"]
    for spec in TASK_SPECS.values():
        lines.append(f"  {spec.name}: {spec.title}")
        for m in spec.metrics:
            chance = "" if m.chance is None and not m.chance_key else (
                f", chance {m.chance:.3g}" if m.chance is not None else f", chance reported as {m.chance_key}")
            solved = f", solved at {m.solved:g}" if m.solved is not None else ""
            headline = " [headline]" if m.name == spec.headline else ""
            better = "higher" if m.higher_is_better else "lower"
            lines.append(f"    metric {m.name} ({m.unit}, {better} is better{chance}{solved}){headline}")
        lines.append("    settings: " + ", ".join(f"{path} ({label})" for path, label in spec.own_settings().items()))
        if spec.attention:
            lines.append(f"    attention: {', '.join(spec.attention)}")
    lines.append("Architectures")
    for cell in CELLS.values():
        backends = ", ".join(cell.backends) or "none (not trained by gradient)"
        lines.append(f"  {cell.name}: {cell.title}")
        lines.append(f"    backends: {backends}; state: ({', '.join(cell.state_parts)})"
                     + (f"; gates: {', '.join(cell.gates)}" if cell.gates else ""))
        lines.append(f"    settings: {', '.join(cell.settings)}")
    lines.append("Options per concern (config section: dataclass, fields)")
    for section, kinds in OPTIONS.items():
        for kind in kinds:
            lines.append(f"  {section}: {kind.__name__}: {', '.join(f.name for f in dataclasses.fields(kind))}")
        for name, kind in option_packs(section).items():
            lines.append(f"  {section}.{name}: {kind.__name__} (a task's own): "
                         f"{', '.join(f.name for f in dataclasses.fields(kind))}")
    lines.append(f"Settings common to every task: {', '.join(options.GENERIC)}")
    return "\n".join(lines)


def cmd_describe(args) -> int:
    print(json.dumps(registries(), indent=2, default=str) if args.json else text())
    return 0
