"""The report's chart: hallucination rate per suite per model, with 95% interval bars (matplotlib, Agg)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: label -> category -> (rate, lo, hi); a missing category or a nan rate draws no bar
Series = dict[str, dict[str, tuple[float, float, float]]]


def hallucination_chart(series: Series, categories: list[str], out: Path,
                        title: str = "Hallucination rate per suite (95% Wilson interval)") -> Path:
    """Grouped bars: one group per category (suite or suite·mode), one bar per model. Deterministic PNG."""
    labels = list(series)
    width = 0.8 / max(1, len(labels))
    fig = Figure(figsize=(max(6.0, 1.3 * len(categories) * max(1, len(labels)) ** 0.5 + 2), 4.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for i, label in enumerate(labels):
        xs, ys, lower, upper = [], [], [], []
        for j, cat in enumerate(categories):
            rate, lo, hi = series[label].get(cat, (math.nan, math.nan, math.nan))
            if math.isnan(rate):
                continue
            xs.append(j - 0.4 + width * (i + 0.5))
            ys.append(rate)
            lower.append(max(0.0, rate - lo))
            upper.append(max(0.0, hi - rate))
        ax.bar(xs, ys, width=width * 0.92, label=label, yerr=[lower, upper], capsize=3,
               error_kw={"elinewidth": 1, "ecolor": "#333333"})
    ax.set_xticks(range(len(categories)))
    ax.set_xticklabels([c.replace("·", "\n") for c in categories], fontsize="small")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("hallucination rate (incorrect / scored)")
    return _finish(fig, ax, title, bool(labels), out, grid_axis="y")


#: label -> list of (coverage, risk) points, highest threshold first (evals.calibration.risk_coverage)
Curves = dict[str, list[tuple[float, float]]]


def risk_coverage_chart(curves: Curves, out: Path,
                        title: str = "Risk–coverage: abstain below a confidence threshold") -> Path:
    """One step line per label (a suite of a run): hallucination rate among the answers kept against the
    share of attempted answers kept, as the threshold on the confidence falls. Deterministic PNG."""
    fig = Figure(figsize=(7.5, 4.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for label, points in curves.items():
        if not points:
            continue
        xs = [0.0] + [c for c, _ in points]
        ys = [points[0][1]] + [r for _, r in points]
        ax.step(xs, ys, where="post", label=label, linewidth=1.4)
        ax.plot([points[-1][0]], [points[-1][1]], marker="o", markersize=4, color=ax.lines[-1].get_color())
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("coverage (share of attempted answers kept)")
    ax.set_ylabel("risk (hallucination rate among kept)")
    return _finish(fig, ax, title, bool(curves), out, grid_axis="both")


def _finish(fig: Figure, ax: Any, title: str, legend: bool, out: Path, grid_axis: str) -> Path:
    """Title, light grid, legend beside the plot, deterministic PNG (no software/date metadata)."""
    ax.set_title(title)
    ax.grid(axis=grid_axis, alpha=0.3)
    ax.set_axisbelow(True)
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", metadata={"Software": None})
    return out
