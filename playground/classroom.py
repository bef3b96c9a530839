"""A class on one server: who may change a run, lessons (presets with locked settings), the gallery,
and the cap on live runs per student. Plain library code: the app says who is asking (ui/identity.py).

Outside a classroom (no teacher key and no login configured) nobody is named and everybody may do
everything, as on a laptop. In a classroom everybody may watch and compare every run; only its owner,
or the teacher, may stop, change or delete it.
"""
from __future__ import annotations

import json
import math
import secrets
import time
from dataclasses import dataclass, field

from .config import ConfigError
from .runstore.store import LIVE, RunRecord, RunStore
from .runstore.summaries import headline_spec

CAP_KEY = "max_runs_per_student"  # the settings table's key for the teacher's cap (0 or missing: no cap)


@dataclass(frozen=True)
class Identity:
    name: str = ""  # "" : nobody named (a single user, or a student who has not typed a name yet)
    teacher: bool = False
    classroom: bool = False  # False: no teacher key or login is configured, so there is nothing to enforce


class NotYoursError(ConfigError):
    """Someone other than a run's (or an upload's) owner, and not the teacher, tried to change it."""


def may_manage(identity: Identity, owner: str) -> bool:
    """Whether `identity` may stop, change, delete or rename what `owner` made."""
    if not identity.classroom or identity.teacher:
        return True
    return bool(identity.name) and identity.name == owner


def check_may_manage(identity: Identity, owner: str, what: str = "this run") -> None:
    if not may_manage(identity, owner):
        by = f"{owner} started {what}" if owner else f"{what} was started from the command line"
        raise NotYoursError(f"{by}: only they or the teacher can change it")


def owner_label(owner: str) -> str:
    return owner or "the command line"


# -- the cap on live runs per student --------------------------------------------------------------
def cap(store: RunStore) -> int:
    value = store.setting(CAP_KEY)
    return int(value) if isinstance(value, int) and value > 0 else 0


def set_cap(store: RunStore, value: int) -> None:
    store.set_setting(CAP_KEY, max(int(value), 0))


def check_cap(store: RunStore, identity: Identity) -> None:
    """A clear message when a student already has as many queued or training runs as the teacher allows."""
    limit = cap(store)
    if not identity.classroom or identity.teacher or not limit:
        return
    live = sum(1 for r in store.list_runs(LIVE) if r.owner == identity.name)
    if live >= limit:
        raise ConfigError(f"you have {live} runs queued or training and the teacher allows {limit} at once: "
                          "stop one, or wait for one to finish")


# -- lessons ---------------------------------------------------------------------------------------
@dataclass
class Lesson:
    id: str
    title: str
    values: dict  # the Train form's values (URL keys), as the teacher set them
    locked: list[str] = field(default_factory=list)  # the URL keys students cannot change
    owner: str = ""
    created: float = 0.0

    def apply(self, values: dict) -> dict:
        """`values` with every locked setting put back to the lesson's value (whatever a student sent)."""
        return {**values, **{key: self.values[key] for key in self.locked if key in self.values}}


def create_lesson(store: RunStore, title: str, values: dict, locked: list[str], owner: str = "") -> Lesson:
    title = title.strip()
    if not title:
        raise ConfigError("a lesson needs a title")
    unknown = [key for key in locked if key not in values]
    if unknown:
        raise ConfigError(f"cannot lock {', '.join(unknown)}: the lesson does not set them")
    lesson = Lesson(secrets.token_hex(3), title, dict(values), list(locked), owner, time.time())
    store.save_lesson(lesson.id, title, owner, lesson.created, json.dumps({"values": values, "locked": locked}))
    return lesson


def get_lesson(store: RunStore, lesson_id: str) -> Lesson | None:
    row = store.lesson_row(lesson_id)
    return _lesson(row) if row else None


def list_lessons(store: RunStore) -> list[Lesson]:
    return [_lesson(row) for row in store.lesson_rows()]


def _lesson(row: dict) -> Lesson:
    data = json.loads(row["data"])
    return Lesson(row["id"], row["title"], data.get("values", {}), data.get("locked", []), row["owner"], row["created"])


# -- the gallery -----------------------------------------------------------------------------------
@dataclass
class GalleryEntry:
    rank: int
    record: RunRecord
    value: float | None  # the task's headline metric, None while it has none


def gallery(store: RunStore, lesson_id: str) -> list[GalleryEntry]:
    """The lesson's runs, best first by their task's headline metric (in its own direction); runs without
    a value yet come last, unranked."""
    records = store.list_runs(lesson=lesson_id)
    scored, unscored = [], []
    for record in records:
        value = record.summary.get(headline_spec(record).name)
        if isinstance(value, (int, float)) and math.isfinite(value):
            scored.append((record, float(value)))
        else:
            unscored.append(record)
    scored.sort(key=lambda pair: -pair[1] if headline_spec(pair[0]).higher_is_better else pair[1])
    return ([GalleryEntry(i + 1, record, value) for i, (record, value) in enumerate(scored)]
            + [GalleryEntry(0, record, None) for record in unscored])
