"""The run store: one SQLite file (configs, status, metrics, events, live controls) plus a
checkpoint folder per run. Safe while one process writes a run and others read it: every call
opens its own connection, and the database runs in WAL mode (readers never block the writer).
"""
from __future__ import annotations

import json
import math
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
    summary TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,              -- train (every step) | eval (every eval_every steps)
    step INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_by_run ON metrics (run_id, kind, step);
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


def _finite(value):
    """JSON has no NaN or infinity: store them as null, so every reader can parse the data."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(value) -> str:
    return json.dumps(_finite(value), allow_nan=False)


class RunStore:
    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else home()
        self.root.mkdir(parents=True, exist_ok=True)
        self.path = self.root / "playground.db"
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

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
    def create_run(self, cfg: RunConfig, status: str = "queued") -> str:
        cfg.validate()
        now = time.time()
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{cfg.model.arch}-{secrets.token_hex(2)}"
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs (id, name, created, updated, status, config, total_steps) VALUES (?,?,?,?,?,?,?)",
                (run_id, cfg.label(), now, now, status, cfg.to_json(), cfg.train.steps),
            )
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
            for name in ("name", "status", "device", "message"):
                data[name] = str(data[name])
        except (ConfigError, ValueError, TypeError) as exc:
            raise DamagedRunError(f"run {data.get('id')!s} is damaged in the store: {exc}") from None
        return RunRecord(**data)

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run, None when there is none, DamagedRunError when its row cannot be read."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return self._record(row) if row else None

    def list_runs(self, statuses: tuple[str, ...] | None = None, limit: int | None = None) -> list[RunRecord]:
        """Runs newest first; a row that cannot be read is left out (`damaged_runs` lists those)."""
        return [r for r in self._rows(statuses, limit) if isinstance(r, RunRecord)]

    def damaged_runs(self, limit: int | None = None) -> list[DamagedRun]:
        """Rows that cannot be read, with their id and why (newest first)."""
        return [r for r in self._rows(None, limit) if isinstance(r, DamagedRun)]

    def list_runs_and_damaged(self, limit: int | None = None) -> list[RunRecord | DamagedRun]:
        """Every row newest first: a RunRecord, or a DamagedRun for a row that cannot be read."""
        return self._rows(None, limit)

    def _rows(self, statuses: tuple[str, ...] | None, limit: int | None) -> list[RunRecord | DamagedRun]:
        query, args = "SELECT * FROM runs", []
        if statuses:
            query += f" WHERE status IN ({','.join('?' * len(statuses))})"
            args.extend(statuses)
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

    def claim_slot(self, run_id: str, cap: int) -> bool:
        """Atomically move a queued run to running if fewer than `cap` runs are running."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            running = db.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0]
            ok = running < cap
            if ok:
                db.execute("UPDATE runs SET status = 'running', message = '', updated = ? WHERE id = ?",
                           (time.time(), run_id))
            db.execute("COMMIT")
        return ok

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
            for table in ("runs", "metrics", "events", "controls"):
                db.execute(f"DELETE FROM {table} WHERE {'id' if table == 'runs' else 'run_id'} = ?", (run_id,))
        shutil.rmtree(self.checkpoint_dir(run_id), ignore_errors=True)

    # -- metrics and events ----------------------------------------------------------------------
    def append_metrics(self, run_id: str, kind: str, records: list[dict]) -> None:
        if not records:
            return
        with self._connect() as db:
            db.executemany("INSERT INTO metrics (run_id, kind, step, data) VALUES (?,?,?,?)",
                           [(run_id, kind, r["step"], dumps(r)) for r in records])

    def metrics(self, run_id: str, kind: str = "train", after_step: int = 0) -> list[dict]:
        """Records of one kind with step > after_step, in step order (non-finite values come back as None)."""
        with self._connect() as db:
            rows = db.execute("SELECT data FROM metrics WHERE run_id = ? AND kind = ? AND step > ? ORDER BY step",
                              (run_id, kind, after_step)).fetchall()
        return [json.loads(r[0]) for r in rows]

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

    # -- files ---------------------------------------------------------------------------------------
    def checkpoint_dir(self, run_id: str) -> Path:
        return self.root / "checkpoints" / run_id

    def log_path(self, run_id: str) -> Path:
        return self.checkpoint_dir(run_id) / "log.txt"
