"""The report's chart: hallucination rate per suite per model, with 95% interval bars (matplotlib, Agg)."""

from __future__ import annotations

import math
from pathlib import Path

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
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    if labels:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", metadata={"Software": None})
    return out
