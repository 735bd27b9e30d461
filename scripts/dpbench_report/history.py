"""History: a series of runs ordered by date, per-point trends, change points, a markdown summary.

Runs of the same dpbench revision are repeats of one history entry (their spread is the noise band);
entries are ordered by when they started (invocation.started_at, else the earliest point's started_at),
because git revisions name code, not order. Each point's series of entry centres (geometric mean of the
repeat medians) is scanned for one step: the split that best separates an earlier level from a later one.
The step is flagged when it exceeds the threshold and its t statistic exceeds the Bonferroni critical
value over every split of every point: a history of 40 points x 20 runs holds 760 candidate steps, and a
CI comment that cries wolf is not read twice. One step per point is enough for CI: the question is
"did something change, and at which revision", not a full segmentation.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence, cast

import numpy as np
from scipy.stats import norm

from . import regression_stats as rs
from .load import ResultsFile, load_many
from .repeats import PRIMARY_STATISTIC, build_side


@dataclass
class Entry:
    """One revision of dpbench (its files are repeats), placed in time."""

    revision: str
    version: str
    started_at: str
    files: list[str]


@dataclass
class ChangePoint:
    """A step in one point's series: the level before and after entry `index`."""

    index: int
    revision: str
    before: float
    after: float
    change_pct: float
    t_stat: float
    verdict: str


@dataclass
class Series:
    """One point's history: repeat medians per entry (empty where it failed or was absent)."""

    id: str
    kind: str
    statistic: str
    unit: str
    lower_is_better: bool
    values: list[list[float]]
    statuses: list[str]
    noise_pct: float = 0.0
    change: ChangePoint | None = None
    plot: str | None = None

    def centres(self) -> list[float | None]:
        return [math.exp(float(np.mean(np.log(v)))) if v else None for v in self.values]


@dataclass
class History:
    entries: list[Entry]
    series: list[Series]
    threshold_pct: float
    alpha: float
    noise_floor_pct: float
    critical_t: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[Series]:
        return [s for s in self.series if s.change is not None]

    def to_json(self) -> dict[str, Any]:
        from .compare_result import json_safe
        return cast(dict[str, Any], json_safe(asdict(self)))


def started_at(f: ResultsFile) -> str:
    stamp = f.invocation.get("started_at")
    if isinstance(stamp, str) and stamp:
        return stamp
    stamps = [str(p["started_at"]) for p in f.points if p.get("started_at")]
    return min(stamps) if stamps else ""


def group_entries(files: Sequence[ResultsFile]) -> list[tuple[Entry, list[ResultsFile]]]:
    """Files grouped by dpbench revision (an unknown revision stays alone), ordered by start time."""
    groups: dict[str, tuple[Entry, list[ResultsFile]]] = {}
    for f in files:
        rev = str(f.dpbench.get("git_revision") or "")
        key = rev if rev and rev not in ("?", "unknown") else f"file:{f.path}"
        entry, members = groups.setdefault(key, (Entry(rev or "?", str(f.dpbench.get("version", "?")),
                                                       started_at(f), []), []))
        entry.files.append(str(f.path))
        entry.started_at = min(entry.started_at, started_at(f)) if entry.started_at else started_at(f)
        members.append(f)
    return sorted(groups.values(), key=lambda g: (g[0].started_at, g[0].files[0]))


def build_series(groups: Sequence[tuple[Entry, list[ResultsFile]]]) -> list[Series]:
    commands = sorted({f.command for _, files in groups for f in files})
    if len(commands) != 1:
        raise ValueError(f"history needs results of one command, got: {', '.join(commands)}")
    if commands[0] not in PRIMARY_STATISTIC:
        raise ValueError(f"'{commands[0]}' results have no timing statistic to follow")
    stat, lower_is_better = PRIMARY_STATISTIC[commands[0]]
    sides = [build_side(e.revision, files) for e, files in groups]
    out: dict[str, Series] = {}
    for i, side in enumerate(sides):
        for p in side.points.values():
            s = out.get(p.id)
            if s is None:
                s = out[p.id] = Series(p.id, p.kind, stat, p.first.stat_units.get(stat, ""), lower_is_better,
                                       [[] for _ in sides], ["absent"] * len(sides))
            s.statuses[i] = "ok" if p.ok else p.failures[-1].status
            s.values[i] = [r.median for r in p.repeats if math.isfinite(r.median) and r.median > 0] if p.ok else []
    return list(out.values())


def noise_sd(values: Sequence[Sequence[float]], floor_pct: float) -> float:
    """Run-to-run SD of log medians: the larger of the spread inside entries and of successive entries.

    Successive differences are robust to one step (MAD), and they see day-to-day drift that repeats
    taken minutes apart do not.
    """
    logs = [np.log(v) for v in values if v]
    within = [float(np.var(v, ddof=1)) * (len(v) - 1) for v in logs if len(v) > 1]
    dof = sum(len(v) - 1 for v in logs if len(v) > 1)
    sd_within = math.sqrt(sum(within) / dof) if dof else 0.0
    centres = np.asarray([float(v.mean()) for v in logs])
    sd_steps = 0.0
    if len(centres) >= 3:
        diffs = np.diff(centres)
        sd_steps = float(np.median(np.abs(diffs - np.median(diffs)))) * 1.4826 / math.sqrt(2.0)
    return max(sd_within, sd_steps, math.log1p(floor_pct / 100.0))


def best_step(s: Series, sd: float) -> tuple[int, float, float, float] | None:
    """(first index after the step, level before, level after, t) for the split with the largest |t|."""
    idx = [i for i, v in enumerate(s.values) if v]
    if len(idx) < 3:
        return None
    logs = [np.log(s.values[i]) for i in idx]
    best: tuple[int, float, float, float] | None = None
    for k in range(1, len(idx)):
        a, b = np.concatenate(logs[:k]), np.concatenate(logs[k:])
        t = float(b.mean() - a.mean()) / (sd * math.sqrt(1.0 / len(a) + 1.0 / len(b)))
        if best is None or abs(t) > abs(best[3]):
            best = (idx[k], float(a.mean()), float(b.mean()), t)
    return best


def analyse(files: Sequence[ResultsFile], settings: rs.Settings) -> History:
    settings.check()
    groups = group_entries(files)
    series = build_series(groups)
    entries = [e for e, _ in groups]
    splits = sum(max(len([v for v in s.values if v]) - 1, 0) for s in series)
    crit = float(norm.ppf(1.0 - settings.alpha / max(splits, 1) / 2.0))
    tau = math.log1p(settings.threshold_pct / 100.0)
    history = History(entries, series, settings.threshold_pct, settings.alpha, settings.noise_floor_pct, crit)
    if len(entries) < 3:
        history.notes.append(f"{len(entries)} revision(s): at least 3 are needed to place a change point")
    for s in series:
        sd = noise_sd(s.values, settings.noise_floor_pct)
        s.noise_pct = rs.pct(sd)
        step = best_step(s, sd)
        if step is None:
            continue
        index, before, after, t = step
        worse = (after - before) if s.lower_is_better else (before - after)
        if abs(t) > crit and abs(after - before) > tau:
            s.change = ChangePoint(index, entries[index].revision, math.exp(before), math.exp(after),
                                   rs.pct(after - before), t, rs.REGRESSION if worse > 0 else rs.IMPROVEMENT)
    return history


def add_history_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", nargs="+",
                   help="results files of one command, any order (several of one revision are its repeats)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="writes history.md, history.json, plots/")
    p.add_argument("--threshold", type=float, default=rs.DEFAULT_THRESHOLD_PCT, metavar="PCT",
                   help="smallest step (percent) worth flagging (default %(default)s)")
    p.add_argument("--alpha", type=float, default=rs.DEFAULT_ALPHA,
                   help="chance of any false change point in the whole history (default %(default)s)")
    p.add_argument("--noise-floor", type=float, default=rs.DEFAULT_NOISE_FLOOR_PCT, metavar="PCT",
                   help="least run-to-run noise ever assumed (default %(default)s)")
    p.add_argument("--plots", choices=("all", "changed", "none"), default="all",
                   help="trend plots for every point, only flagged ones, or none (default %(default)s)")
    p.add_argument("--fail-on-regression", action="store_true",
                   help="exit 1 when a flagged step is a slowdown")
    p.add_argument("--no-print", action="store_true", help="do not print the markdown to stdout")


def run_history(args: argparse.Namespace) -> int:
    from .compare_cli import write_text
    from .history_format import to_markdown
    history = analyse(load_many(args.results), rs.Settings(args.threshold, args.alpha, args.noise_floor))
    if args.plots != "none":
        from .history_plot import plot_series
        for s in history.series:
            if args.plots == "all" or s.change is not None:
                s.plot = str(plot_series(history, s, args.out / "plots"))
    markdown = to_markdown(history, args.out)
    write_text(args.out / "history.md", markdown, "history markdown")
    write_text(args.out / "history.json", json.dumps(history.to_json(), indent=2) + "\n", "history JSON")
    if not args.no_print:
        print(markdown)
    slowdowns = [s for s in history.changes if s.change is not None and s.change.verdict == rs.REGRESSION]
    return 1 if args.fail_on_regression and slowdowns else 0
