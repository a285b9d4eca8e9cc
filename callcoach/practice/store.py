"""Practice runs and their trials in the session store's SQLite file (tables added by schema step 3).

Kept: labels, asked and shown durations, answers, reaction times, when. Never the stimulus pixels, never
anything from the user's own photos but the label and the file's name stem.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from callcoach.practice.drill import Trial
from callcoach.session.store import SessionStore

_TRIAL_FIELDS = ("n", "label", "answer", "correct", "asked_ms", "shown_ms", "measured", "rt_ms", "replayed", "face")


@dataclass(frozen=True)
class StoredTrial:
    run_id: int
    mode: str
    answered_at: float
    trial: Trial


class PracticeStore:
    """Practice reads and writes on an open ``SessionStore`` (its lock, its transactions, its migrations)."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    def begin_run(
        self,
        *,
        mode: str,
        seed: int | None,
        stimuli: str,
        presenter: str,
        planned: int,
        started_at: float | None = None,
    ) -> int:
        now = time.time() if started_at is None else started_at
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO practice_runs (started_at, mode, seed, stimuli, presenter, planned)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (now, mode, seed, stimuli, presenter, planned),
            )
        return int(cursor.lastrowid or 0)

    def add_trial(self, run_id: int, trial: Trial, answered_at: float | None = None) -> None:
        # One small transaction per trial: a drill stopped half-way keeps every answered trial.
        values = [getattr(trial, name) for name in _TRIAL_FIELDS]
        with self.store.transaction() as conn:
            conn.execute(
                f"INSERT INTO practice_trials (run_id, {', '.join(_TRIAL_FIELDS)}, answered_at)"
                f" VALUES (?, {', '.join('?' * len(_TRIAL_FIELDS))}, ?)",
                (run_id, *values, time.time() if answered_at is None else answered_at),
            )

    def end_run(self, run_id: int, ended_at: float | None = None) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE practice_runs SET ended_at = ? WHERE id = ?",
                (time.time() if ended_at is None else ended_at, run_id),
            )

    def first_day(self) -> float | None:
        """When the user first practised (Unix seconds), or None."""
        # A run with no answered trial (a window that would not open, a stop before the first answer) does
        # not start the plan.
        row = self.store._query(
            "SELECT MIN(r.started_at) FROM practice_runs r"
            " WHERE EXISTS (SELECT 1 FROM practice_trials t WHERE t.run_id = r.id)"
        )
        return None if row[0][0] is None else float(row[0][0])

    def trials(self, mode: str | None = None) -> list[StoredTrial]:
        sql = (
            f"SELECT t.run_id, r.mode, t.answered_at, {', '.join('t.' + f for f in _TRIAL_FIELDS)}"
            " FROM practice_trials t JOIN practice_runs r ON r.id = t.run_id"
        )
        params: tuple[object, ...] = ()
        if mode is not None:
            sql += " WHERE r.mode = ?"
            params = (mode,)
        out = []
        for r in self.store._query(sql + " ORDER BY t.answered_at, t.id", params):
            d = dict(r)
            fields = {name: d[name] for name in _TRIAL_FIELDS}
            for flag in ("correct", "measured", "replayed"):
                fields[flag] = bool(fields[flag])
            out.append(StoredTrial(int(d["run_id"]), str(d["mode"]), float(d["answered_at"]), Trial(**fields)))
        return out

    def runs(self) -> int:
        return int(self.store._query("SELECT COUNT(*) FROM practice_runs")[0][0])
