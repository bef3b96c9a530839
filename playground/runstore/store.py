"""The run store: one SQLite file (configs, status, metrics, events, live controls) plus a
checkpoint folder per run. Safe while one process writes a run and others read it: every call
opens its own connection, and the database runs in WAL mode (readers never block the writer).
"""
from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..config import ConfigError, RunConfig
from ..paths import home
from . import packing
from .processes import alive

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    status TEXT NOT NULL,            -- queued | running | completed | stopped | diverged | failed
    config TEXT NOT NULL,            -- RunConfig as JSON
    step INTEGER NOT NULL DEFAULT 0,
    total_steps INTEGER NOT NULL DEFAULT 0,
    device TEXT NOT NULL DEFAULT '',
    pid INTEGER,
    message TEXT NOT NULL DEFAULT '', -- why it failed or diverged, or what it waits for
    summary TEXT NOT NULL DEFAULT '{}',
    owner TEXT NOT NULL DEFAULT '',  -- who started it ('' : nobody named, a single user or the command line)
    executor TEXT NOT NULL DEFAULT 'local',  -- local | ray
    node TEXT NOT NULL DEFAULT '',   -- the machine it trains on
    lesson TEXT NOT NULL DEFAULT '', -- the lesson it was started from
    started REAL NOT NULL DEFAULT 0, -- when it got a slot (0: not yet); the fair queue reads it
    driver TEXT NOT NULL DEFAULT ''  -- a Ray run's sender, "host pid": Ray ends a job's tasks when that process exits
);
CREATE TABLE IF NOT EXISTS metric_layouts (  -- a block's column names and types (packing.py), kept once
    id INTEGER PRIMARY KEY,
    layout TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS metric_blocks (   -- one row per flush: typed columns, compressed (packing.py)
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,              -- train (every step) | eval (every eval_every steps)
    first_step INTEGER NOT NULL,
    last_step INTEGER NOT NULL,
    layout INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_blocks_by_run ON metric_blocks (run_id, kind, last_step);
CREATE TABLE IF NOT EXISTS lessons (         -- a teacher's preset: settings, which of them are locked, caps
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL               -- {"values": {url key: value}, "locked": [url keys]}
);
CREATE TABLE IF NOT EXISTS settings (        -- the class's settings (max live runs per student, ...)
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS owners (          -- who uploaded or imported a file (runs keep theirs in runs.owner)
    kind TEXT NOT NULL,              -- dataset | checkpoint
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (kind, name)
);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    time REAL NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS controls (
    run_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (run_id, key)
);
"""

LIVE = ("queued", "running")
# columns added after the first version: an older store gets them on opening, with these defaults
ADDED_COLUMNS = {"owner": "TEXT NOT NULL DEFAULT ''", "executor": "TEXT NOT NULL DEFAULT 'local'",
                 "node": "TEXT NOT NULL DEFAULT ''", "lesson": "TEXT NOT NULL DEFAULT ''",
                 "started": "REAL NOT NULL DEFAULT 0", "driver": "TEXT NOT NULL DEFAULT ''"}
MIGRATION_CHUNK = 512  # steps per packed block when a store of JSON rows is migrated, or a run's blocks compacted
PAGE_SIZE = 16384
RUN_NAME_LIMIT = 80  # characters: a name must fit a legend entry and one line of a list


@dataclass
class RunRecord:
    id: str
    name: str
    created: float
    updated: float
    status: str
    config: RunConfig
    step: int
    total_steps: int
    device: str
    pid: int | None
    message: str
    summary: dict = field(default_factory=dict)
    owner: str = ""
    executor: str = "local"
    node: str = ""
    lesson: str = ""
    started: float = 0.0
    driver: str = ""

    @property
    def live(self) -> bool:
        return self.status in LIVE


class DamagedRunError(ConfigError):
    """A run's row in the store cannot be read (edited by hand, written by a broken version)."""


@dataclass
class DamagedRun:
    """A row `list_runs` could not read: listed with its id and why, so it never hides the other runs."""
    id: str
    status: str
    reason: str


class RunLiveError(ConfigError):
    """A run that is still queued or training cannot be deleted: stop it first."""


def dumps(value) -> str:
    return json.dumps(packing.finite(value), allow_nan=False)


class RunStore:
    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else home()
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "playground.db"
        self._layouts: dict[str, int] = {}
        with self._connect() as db:
            # a new file gets 16 KB pages: a flush's block (1-3 KB) then shares a page with others instead of
            # leaving half of a 4 KB page empty (an existing file keeps its pages: this is a no-op there)
            db.execute(f"PRAGMA page_size={PAGE_SIZE}")
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            self._migrate(db)

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring a store written by an older version up to date: new run columns, and step metrics
        moved from one JSON row a step (about 550 bytes) into packed blocks. Reads stay the same."""
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        missing = [name for name in ADDED_COLUMNS if name not in columns]
        if not missing and not self._has_table(db, "metrics"):
            return
        db.execute("BEGIN IMMEDIATE")  # another process may be migrating the same file: one does it
        try:
            columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
            for name, kind in ADDED_COLUMNS.items():
                if name not in columns:
                    db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
            if self._has_table(db, "metrics"):
                keys = db.execute("SELECT DISTINCT run_id, kind FROM metrics").fetchall()
                for run_id, kind in keys:
                    rows = db.execute("SELECT data FROM metrics WHERE run_id = ? AND kind = ? ORDER BY step",
                                      (run_id, kind)).fetchall()
                    records = [json.loads(r[0]) for r in rows]
                    for start in range(0, len(records), MIGRATION_CHUNK):
                        self._insert_block(db, run_id, kind, records[start:start + MIGRATION_CHUNK])
                db.execute("DROP TABLE metrics")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @staticmethod
    def _has_table(db: sqlite3.Connection, name: str) -> bool:
        return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA synchronous=NORMAL")
        try:
            yield db
        finally:
            db.close()

    # -- runs -----------------------------------------------------------------------------------
    def create_run(self, cfg: RunConfig, status: str = "queued", owner: str = "", lesson: str = "",
                   executor: str = "local") -> str:
        cfg.validate()
        now = time.time()
        with self._connect() as db:
            while True:  # 4 hex digits: two runs of one sweep, made in the same second, can draw the same id
                run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{cfg.model.arch}-{secrets.token_hex(2)}"
                try:
                    db.execute(
                        "INSERT INTO runs (id, name, created, updated, status, config, total_steps, owner, lesson,"
                        " executor) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (run_id, cfg.label(), now, now, status, cfg.to_json(), cfg.train.steps, owner, lesson, executor))
                    break
                except sqlite3.IntegrityError:
                    continue
        self.checkpoint_dir(run_id).mkdir(parents=True, exist_ok=True)
        return run_id

    def _record(self, row: sqlite3.Row) -> RunRecord:
        """The row as a RunRecord, or DamagedRunError saying what cannot be read."""
        data = dict(row)
        try:
            data["config"] = RunConfig.from_json(data["config"])
            summary = json.loads(data["summary"] or "{}")
            if not isinstance(summary, dict):
                raise ValueError("its summary is not a JSON object")
            data["summary"] = summary
            for name, kind in (("step", int), ("total_steps", int), ("created", float), ("updated", float)):
                if not isinstance(data[name], (int, float)) or isinstance(data[name], bool):
                    raise ValueError(f"its {name} is not a number")
                data[name] = kind(data[name])
            if data["pid"] is not None and not isinstance(data["pid"], int):
                raise ValueError("its process id is not a number")
            for name in ("name", "status", "device", "message", "owner", "executor", "node", "lesson", "driver"):
                data[name] = str(data[name])
        except (ConfigError, ValueError, TypeError) as exc:
            raise DamagedRunError(f"run {data.get('id')!s} is damaged in the store: {exc}") from None
        return RunRecord(**data)

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run, None when there is none, DamagedRunError when its row cannot be read."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return self._record(row) if row else None

    def list_runs(self, statuses: tuple[str, ...] | None = None, limit: int | None = None,
                  group_prefix: str | None = None, lesson: str | None = None) -> list[RunRecord]:
        """Runs newest first; a row that cannot be read is left out (`damaged_runs` lists those).
        `group_prefix` and `lesson` filter in SQL: a page looking for a few runs never parses a class's hundreds."""
        return [r for r in self._rows(statuses, limit, group_prefix, lesson) if isinstance(r, RunRecord)]

    def damaged_runs(self, limit: int | None = None) -> list[DamagedRun]:
        """Rows that cannot be read, with their id and why (newest first)."""
        return [r for r in self._rows(None, limit) if isinstance(r, DamagedRun)]

    def list_runs_and_damaged(self, limit: int | None = None) -> list[RunRecord | DamagedRun]:
        """Every row newest first: a RunRecord, or a DamagedRun for a row that cannot be read."""
        return self._rows(None, limit)

    def _rows(self, statuses: tuple[str, ...] | None, limit: int | None, group_prefix: str | None = None,
              lesson: str | None = None) -> list[RunRecord | DamagedRun]:
        query, args, conditions = "SELECT * FROM runs", [], []
        if statuses:
            conditions.append(f"status IN ({','.join('?' * len(statuses))})")
            args.extend(statuses)
        if group_prefix is not None:  # json_valid first: a damaged row's text must not fail the whole query
            conditions.append("json_valid(config) AND substr(json_extract(config, '$.group'), 1, ?) = ?")
            args.extend([len(group_prefix), group_prefix])
        if lesson is not None:
            conditions.append("lesson = ?")
            args.append(lesson)
        if conditions:
            query += " WHERE " + " AND ".join(conditions)
        query += " ORDER BY created DESC"
        if limit:
            query += f" LIMIT {int(limit)}"
        with self._connect() as db:
            rows = db.execute(query, args).fetchall()
        out: list[RunRecord | DamagedRun] = []
        for row in rows:  # one by one: one bad row must not hide the others
            try:
                out.append(self._record(row))
            except DamagedRunError as exc:
                out.append(DamagedRun(str(row["id"]), str(row["status"]), str(exc)))
        return out

    def update_run(self, run_id: str, **fields) -> None:
        if "summary" in fields:
            fields["summary"] = dumps(fields["summary"])
        fields["updated"] = time.time()
        columns = ", ".join(f"{k} = ?" for k in fields)
        with self._connect() as db:
            db.execute(f"UPDATE runs SET {columns} WHERE id = ?", (*fields.values(), run_id))

    def rename_run(self, run_id: str, name: str) -> str:
        """Give a run the name lists, legends and the gallery show (its settings stay as they were); returns
        the name as stored: one line, at most RUN_NAME_LIMIT characters. ConfigError for an empty name."""
        cleaned = " ".join(str(name).split())  # newlines and tabs would break a one-line list or a legend
        if not cleaned:
            raise ConfigError("a run's name cannot be empty")
        if len(cleaned) > RUN_NAME_LIMIT:
            raise ConfigError(f"a run's name can be at most {RUN_NAME_LIMIT} characters (this one has {len(cleaned)})")
        with self._connect() as db:
            changed = db.execute("UPDATE runs SET name = ?, updated = ? WHERE id = ?",
                                 (cleaned, time.time(), run_id)).rowcount
        if not changed:
            raise ConfigError(f"there is no run {run_id!r} in {self.root}")
        return cleaned

    def claim_slot(self, run_id: str, cap: int) -> bool:
        """Atomically move a queued run to running if fewer than `cap` runs are running and it is among the
        next in the fair order (`queue_order`): each owner's runs take turns, so one sweep cannot starve a class."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                running = db.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0]
                free = cap - running
                ok = free > 0 and run_id in self._queue_order(db)[:free]
                if ok:
                    now = time.time()
                    db.execute("UPDATE runs SET status = 'running', message = '', updated = ?, started = ? WHERE id = ?",
                               (now, now, run_id))
            finally:
                db.execute("COMMIT")
        return ok

    def queue_order(self) -> list[str]:
        """Queued run ids in the order slots go to them."""
        with self._connect() as db:
            return self._queue_order(db)

    def queue_position(self, run_id: str) -> int | None:
        """1 for the next run to start, None when the run is not queued."""
        order = self.queue_order()
        return order.index(run_id) + 1 if run_id in order else None

    @staticmethod
    def _queue_order(db: sqlite3.Connection) -> list[str]:
        """Fair order. A run's turn is how many runs its owner has training plus how many of the owner's runs
        were queued before it; among equal turns, the owner served longest ago goes first, then the older run.
        Two owners' queued runs therefore alternate, whoever queued more first.
        (Computed on each claim: a queue holds tens of runs, not thousands.)"""
        last_start = dict(db.execute("SELECT owner, MAX(started) FROM runs GROUP BY owner").fetchall())
        rows = db.execute("SELECT id, owner, status, pid, executor FROM runs WHERE status IN ('queued', 'running') "
                          "ORDER BY created, rowid").fetchall()
        # only runs whose process waits for a slot: one recorded but never started must not block the queue
        rows = [r for r in rows if r["status"] == "running" or (
            r["pid"] is not None and (r["executor"] != "local" or alive(r["pid"])))]
        turns: dict[str, int] = {}
        for row in rows:
            if row["status"] == "running":
                turns[row["owner"]] = turns.get(row["owner"], 0) + 1
        order = []
        for position, row in enumerate(rows):
            if row["status"] == "queued":
                turn = turns.get(row["owner"], 0)
                turns[row["owner"]] = turn + 1
                order.append((turn, last_start.get(row["owner"]) or 0.0, position, row["id"]))
        return [run_id for *_, run_id in sorted(order)]

    def delete_run(self, run_id: str) -> None:
        """Delete a run's rows and files. RunLiveError while it is queued or training and its process is
        alive (jobs.delete can stop it first): a deleted run's process would keep writing orphan rows."""
        with self._connect() as db:
            row = db.execute("SELECT status, pid FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise ConfigError(f"there is no run {run_id!r} in {self.root}")
        if row["status"] in LIVE and row["pid"] and alive(row["pid"]):
            raise RunLiveError(f"run {run_id} is {row['status']}: stop it before deleting it")
        with self._connect() as db:
            for table in ("runs", "metric_blocks", "events", "controls"):
                db.execute(f"DELETE FROM {table} WHERE {'id' if table == 'runs' else 'run_id'} = ?", (run_id,))
        shutil.rmtree(self.checkpoint_dir(run_id), ignore_errors=True)

    # -- metrics and events ----------------------------------------------------------------------
    def append_metrics(self, run_id: str, kind: str, records: list[dict]) -> None:
        """Records of one kind (each with a "step"), written as one packed block: one flush, one row."""
        if not records:
            return
        with self._connect() as db:
            self._insert_block(db, run_id, kind, records)

    def append_metric_blocks(self, run_id: str, kind: str, blocks: list[list[dict]]) -> None:
        """Several flushes' records at once, one block each, in one transaction (imports, benchmarks)."""
        with self._connect() as db:
            db.execute("BEGIN")
            for records in blocks:
                if records:
                    self._insert_block(db, run_id, kind, records)
            db.execute("COMMIT")

    def _insert_block(self, db: sqlite3.Connection, run_id: str, kind: str, records: list[dict]) -> None:
        layout, data = packing.pack(records)
        steps = [int(r["step"]) for r in records]
        db.execute("INSERT INTO metric_blocks (run_id, kind, first_step, last_step, layout, data) VALUES (?,?,?,?,?,?)",
                   (run_id, kind, min(steps), max(steps), self._layout_id(db, layout), data))

    def _layout_id(self, db: sqlite3.Connection, layout: str) -> int:
        if layout not in self._layouts:
            db.execute("INSERT OR IGNORE INTO metric_layouts (layout) VALUES (?)", (layout,))
            self._layouts[layout] = db.execute("SELECT id FROM metric_layouts WHERE layout = ?", (layout,)).fetchone()[0]
        return self._layouts[layout]

    def metrics(self, run_id: str, kind: str = "train", after_step: int = 0) -> list[dict]:
        """Records of one kind with step > after_step, in step order (non-finite values come back as None)."""
        with self._connect() as db:
            rows = db.execute("SELECT l.layout, b.data FROM metric_blocks b JOIN metric_layouts l ON l.id = b.layout "
                              "WHERE b.run_id = ? AND b.kind = ? AND b.last_step > ? ORDER BY b.first_step, b.rowid",
                              (run_id, kind, after_step)).fetchall()
        records = [r for layout, data in rows for r in packing.unpack(layout, data) if r["step"] > after_step]
        records.sort(key=lambda r: r["step"])  # stable: a block written out of order reads back in step order
        return records

    def compact_metrics(self, run_id: str, kind: str = "train") -> None:
        """Repack a finished run's flushes into blocks of MIGRATION_CHUNK steps: fewer, fuller rows (smaller
        on disk, faster to read). Reads are the same before and after; one transaction, so no reader sees half."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                rows = db.execute("SELECT l.layout, b.data FROM metric_blocks b JOIN metric_layouts l ON l.id = b.layout "
                                  "WHERE b.run_id = ? AND b.kind = ? ORDER BY b.first_step, b.rowid", (run_id, kind)).fetchall()
                if len(rows) > 1:
                    records = sorted((r for layout, data in rows for r in packing.unpack(layout, data)),
                                     key=lambda r: r["step"])
                    db.execute("DELETE FROM metric_blocks WHERE run_id = ? AND kind = ?", (run_id, kind))
                    for start in range(0, len(records), MIGRATION_CHUNK):
                        self._insert_block(db, run_id, kind, records[start:start + MIGRATION_CHUNK])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def metrics_bytes(self) -> int:
        """Bytes the packed step metrics take (data and row keys; for benchmarks/store_size.py)."""
        with self._connect() as db:
            return db.execute("SELECT COALESCE(SUM(LENGTH(data) + LENGTH(run_id) + LENGTH(kind) + 24), 0) "
                              "FROM metric_blocks").fetchone()[0]

    def add_event(self, run_id: str, step: int, kind: str, message: str) -> None:
        with self._connect() as db:
            db.execute("INSERT INTO events (run_id, step, time, kind, message) VALUES (?,?,?,?,?)",
                       (run_id, step, time.time(), kind, message))

    def events(self, run_id: str) -> list[dict]:
        with self._connect() as db:
            rows = db.execute("SELECT step, time, kind, message FROM events WHERE run_id = ? ORDER BY time",
                              (run_id,)).fetchall()
        return [dict(r) for r in rows]

    # -- live controls (the app writes, the training process reads) -------------------------------
    def set_control(self, run_id: str, key: str, value) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO controls (run_id, key, value, updated) VALUES (?,?,?,?)",
                       (run_id, key, json.dumps(value), time.time()))

    def controls(self, run_id: str) -> dict:
        with self._connect() as db:
            rows = db.execute("SELECT key, value FROM controls WHERE run_id = ?", (run_id,)).fetchall()
        return {r["key"]: json.loads(r["value"]) for r in rows}

    # -- the class: settings, lessons, owners of files ------------------------------------------------
    def setting(self, key: str, default=None):
        with self._connect() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, key: str, value) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def save_lesson(self, lesson_id: str, title: str, owner: str, created: float, data: str) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO lessons (id, title, created, owner, data) VALUES (?,?,?,?,?)",
                       (lesson_id, title, created, owner, data))

    def lesson_row(self, lesson_id: str) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM lessons WHERE id = ?", (lesson_id,)).fetchone()
        return dict(row) if row else None

    def lesson_rows(self) -> list[dict]:
        with self._connect() as db:
            return [dict(r) for r in db.execute("SELECT * FROM lessons ORDER BY created DESC").fetchall()]

    def set_owner(self, kind: str, name: str, owner: str) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO owners (kind, name, owner) VALUES (?,?,?)", (kind, name, owner))

    def owner_of(self, kind: str, name: str) -> str:
        with self._connect() as db:
            row = db.execute("SELECT owner FROM owners WHERE kind = ? AND name = ?", (kind, name)).fetchone()
        return row[0] if row else ""

    def forget_owner(self, kind: str, name: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM owners WHERE kind = ? AND name = ?", (kind, name))

    # -- files ---------------------------------------------------------------------------------------
    def checkpoint_dir(self, run_id: str) -> Path:
        return self.root / "checkpoints" / run_id

    def log_path(self, run_id: str) -> Path:
        return self.checkpoint_dir(run_id) / "log.txt"
