"""The one table `make bench` prints, and the JSON it writes under bench/results/.

Every figure stands beside a raw baseline measured in the same run (the machines are shared
and noisy, so an absolute number says little; a ratio to what the same machine did a minute
earlier says more), with its target and whether the target was met. A figure measured over
several runs is their median; ``runs`` says how many.
"""

from __future__ import annotations

import json
import math
import platform
import statistics
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    """One row: ``value`` (in ``unit``) beside ``baseline`` (what ``baseline_name`` did)."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    # The target: (what, comparison, threshold), ``what`` being "value" or "ratio";
    # e.g. ("ratio", ">=", 0.30). None: the figure is information.
    goal: tuple[str, str, float] | None = None
    runs: int = 1
    notes: dict = field(default_factory=dict)

    @property
    def target(self) -> str:
        if self.goal is None:
            return ""
        what, comparison, threshold = self.goal
        shown = f"{threshold:.0%}" if what == "ratio" else _number(threshold, self.unit)
        return f"{what} {comparison} {shown}"

    @property
    def met(self) -> bool | None:
        if self.goal is None:
            return None
        what, comparison, threshold = self.goal
        measured = self.ratio if what == "ratio" else self.value
        if _nan(measured):
            return False
        return measured >= threshold if comparison == ">=" else measured <= threshold

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline or _nan(self.value) or _nan(self.baseline):
            return None
        return self.value / self.baseline


def _nan(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def median_of(runs: list[list[Figure]]) -> list[Figure]:
    """One figure per name: the median value and baseline over the runs; met only when the
    median meets it (each run's own verdict is kept in notes)."""
    by_name: dict[str, list[Figure]] = {}
    for figures in runs:
        for figure in figures:
            by_name.setdefault(figure.name, []).append(figure)
    merged = []
    for name, same in by_name.items():
        first = same[-1]
        values = [f.value for f in same if not _nan(f.value)]
        baselines = [f.baseline for f in same if not _nan(f.baseline)]
        merged.append(Figure(
            name=name, value=statistics.median(values) if values else math.nan, unit=first.unit,
            baseline=statistics.median(baselines) if baselines else None, baseline_name=first.baseline_name,
            goal=first.goal, runs=len(same),
            notes={**first.notes, **({"values": [f.value for f in same]} if len(same) > 1 else {})},
        ))
    return merged


def _number(value: float | None, unit: str = "") -> str:
    if _nan(value):
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    return f"{text} {unit}".strip()


def table(figures: list[Figure]) -> str:
    """The table as text: figure, value, baseline, ratio, target, met?, runs."""
    header = ("figure", "value", "baseline", "ratio", "target", "met?", "runs")
    rows = [header]
    for f in figures:
        baseline = f"{_number(f.baseline, f.unit)} ({f.baseline_name})" if f.baseline is not None else "-"
        ratio = f"{f.ratio:.1%}" if f.ratio is not None else "-"
        met = "-" if f.met is None else ("yes" if f.met else "NO")
        rows.append((f.name, _number(f.value, f.unit), baseline, ratio, f.target or "-", met, str(f.runs)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_results(figures: list[Figure], *, quick: bool, started: datetime, extra: dict, latest: bool) -> Path:
    """bench/results/<UTC time>.json, and with ``latest`` (a whole run: every benchmark, not
    quick, none failed) latest.json beside it, the one kept in git."""
    RESULTS.mkdir(exist_ok=True)
    document = {
        "started": started.isoformat(), "finished": datetime.now(UTC).isoformat(), "quick": quick,
        "machine": {"cpus": _cpus(), "python": platform.python_version(), "platform": platform.platform(),
                    "commit": _commit()},
        "figures": [{**asdict(f), "ratio": f.ratio, "target": f.target, "met": f.met} for f in figures], **extra,
    }
    text = json.dumps(document, indent=2, default=str) + "\n"
    path = RESULTS / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    if latest:
        (RESULTS / "latest.json").write_text(text)
    return path


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _commit() -> str | None:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=RESULTS.parent, check=False)
    return result.stdout.strip() or None
