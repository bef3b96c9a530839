"""The class's rules in the library: who may change a run, the cap per student, lessons, the gallery's
direction, and the fair queue (two owners' runs alternate)."""
from __future__ import annotations

import os

import pytest

from playground import classroom
from playground.classroom import Identity
from playground.config import ConfigError


def test_who_may_manage_what():
    laptop = Identity()  # no classroom configured: no friction
    assert classroom.may_manage(laptop, "") and classroom.may_manage(laptop, "alice")
    alice, bob = Identity("alice", classroom=True), Identity("bob", classroom=True)
    teacher, nobody = Identity("ms smith", teacher=True, classroom=True), Identity("", classroom=True)
    assert classroom.may_manage(alice, "alice") and not classroom.may_manage(bob, "alice")
    assert classroom.may_manage(teacher, "alice") and classroom.may_manage(teacher, "")
    assert not classroom.may_manage(nobody, "") and not classroom.may_manage(alice, "")
    with pytest.raises(classroom.NotYoursError, match="alice started this run: only they or the teacher"):
        classroom.check_may_manage(bob, "alice")


def _queued(store, cfg, owner: str) -> str:
    run_id = store.create_run(cfg, owner=owner)
    store.update_run(run_id, pid=os.getpid())  # its process waits for a slot (this one)
    return run_id


def test_the_fair_queue_alternates_two_owners(store, tiny_config):
    cfg = tiny_config()
    a = [_queued(store, cfg, "alice") for _ in range(3)]  # alice queues a sweep of three first
    b = [_queued(store, cfg, "bob") for _ in range(2)]
    never_started = store.create_run(cfg, owner="carol")  # recorded, but no process waits: must not block
    assert store.queue_order() == [a[0], b[0], a[1], b[1], a[2]]
    assert never_started not in store.queue_order()

    started = []
    for _ in range(5):  # one slot: each time it frees, every waiting run tries to claim it
        for run_id in reversed(store.queue_order()):  # the last in line asks first: order, not speed, decides
            if store.claim_slot(run_id, cap=1):
                started.append(run_id)
                assert store.queue_position(run_id) is None
        store.update_run(started[-1], status="completed")
    assert started == [a[0], b[0], a[1], b[1], a[2]]

    # a run of bob's queued while alice has one training goes before alice's next
    c = [_queued(store, cfg, "alice"), _queued(store, cfg, "alice")]
    assert store.claim_slot(c[0], cap=1)
    late = _queued(store, cfg, "bob")
    assert store.queue_order() == [late, c[1]] and store.queue_position(late) == 1
    assert not store.claim_slot(c[1], cap=2) and store.claim_slot(late, cap=2)


def test_the_cap_per_student(store, tiny_config):
    alice = Identity("alice", classroom=True)
    classroom.check_cap(store, alice)  # no cap set
    classroom.set_cap(store, 2)
    assert classroom.cap(store) == 2
    for _ in range(2):
        store.create_run(tiny_config(), owner="alice")
    with pytest.raises(ConfigError, match="you have 2 runs queued or training and the teacher allows 2"):
        classroom.check_cap(store, alice)
    classroom.check_cap(store, Identity("bob", classroom=True))
    classroom.check_cap(store, Identity("ms smith", teacher=True, classroom=True))
    classroom.set_cap(store, 0)
    classroom.check_cap(store, alice)


def test_lessons_round_trip_and_lock(store):
    lesson = classroom.create_lesson(store, " Clipping ", {"clip": "norm", "lr": 0.1}, ["clip"], owner="t")
    again = classroom.get_lesson(store, lesson.id)
    assert (again.title, again.values, again.locked, again.owner) == ("Clipping", {"clip": "norm", "lr": 0.1},
                                                                      ["clip"], "t")
    assert again.apply({"clip": "none", "lr": 0.5}) == {"clip": "norm", "lr": 0.5}
    assert [x.id for x in classroom.list_lessons(store)] == [lesson.id]
    assert classroom.get_lesson(store, "nope") is None
    with pytest.raises(ConfigError, match="needs a title"):
        classroom.create_lesson(store, " ", {}, [])
    with pytest.raises(ConfigError, match="cannot lock hidden"):
        classroom.create_lesson(store, "x", {"lr": 1}, ["hidden"])


def test_the_gallery_ranks_in_the_metrics_direction(store, tiny_config):
    lesson = classroom.create_lesson(store, "mixed", {}, [])
    rows = [("char", "bits_per_char", 2.0, "a"), ("char", "bits_per_char", 1.5, "b"), ("char", "bits_per_char", None, "c")]
    for task, metric, value, owner in rows:
        run_id = store.create_run(tiny_config(), owner=owner, lesson=lesson.id)
        store.update_run(run_id, status="completed", summary={metric: value} if value is not None else {})
    entries = classroom.gallery(store, lesson.id)
    assert [(e.rank, e.record.owner, e.value) for e in entries] == [(1, "b", 1.5), (2, "a", 2.0), (0, "c", None)]

    higher = classroom.create_lesson(store, "accuracy", {}, [])
    for accuracy, owner in ((0.5, "x"), (0.9, "y")):
        cfg = tiny_config(task={"name": "copy"})
        run_id = store.create_run(cfg, owner=owner, lesson=higher.id)
        store.update_run(run_id, status="completed", summary={"accuracy": accuracy, "bits_per_char": 0})
    assert [e.record.owner for e in classroom.gallery(store, higher.id)] == ["y", "x"]
