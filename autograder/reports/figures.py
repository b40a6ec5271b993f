"""The class report's plots, drawn with matplotlib (Agg) and embedded in the page as SVG."""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Sequence

OK, BAD, GREY, ACCENT = "#1a7f37", "#cf222e", "#8c959f", "#0969da"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _svg(fig) -> str:
    """The figure as a data URI (SVG: sharp at any zoom, a few tens of kB)."""
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=9)


def score_distribution(scores: Sequence[float], max_score: float, title: str = "") -> str:
    """Students per total score, with the mean and the median."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    counts = Counter(round(s * 2) / 2 for s in scores)
    values = sorted(set(counts) | {0.0, float(max_score)})
    width = 0.8 if all(float(v).is_integer() for v in values) else 0.4
    colors = [OK if v >= max_score else (BAD if v == 0 else ACCENT) for v in values]
    ax.bar(values, [counts.get(v, 0) for v in values], width=width, color=colors)
    if scores:
        mean = sum(scores) / len(scores)
        ordered = sorted(scores)
        mid = len(ordered) // 2
        median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        ax.axvline(mean, color="#24292f", linestyle="--", linewidth=1, label=f"mean {mean:.1f}")
        ax.axvline(median, color=GREY, linestyle=":", linewidth=1.5, label=f"median {median:g}")
        ax.legend(frameon=False, fontsize=9)
    ax.set_xlabel(f"total score (out of {max_score:g})", fontsize=9)
    ax.set_ylabel("students", fontsize=9)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlim(-0.6, max_score + 0.6)
    if title:
        ax.set_title(title, fontsize=10)
    _style(ax)
    return _svg(fig)


def failure_rates(labels: Sequence[str], failed: Sequence[int], total: int) -> str:
    """A bar per grade cell: the share of students who lost points there."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(labels) + 0.9))
    rates = [100.0 * f / total if total else 0.0 for f in failed]
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, rates, color=[BAD if r >= 50 else ACCENT for r in rates], height=0.6)
    for y, rate, count in zip(positions, rates, failed, strict=True):
        ax.text(rate + 1, y, f"{count} of {total}", va="center", fontsize=8.5)
    ax.set_yticks(positions, labels)
    ax.set_xlim(0, 115)
    ax.set_xlabel("students who lost points (%)", fontsize=9)
    _style(ax)
    return _svg(fig)


def ranked_mistakes(labels: Sequence[str], counts: Sequence[int], total: int) -> str:
    """The most common mistakes, most common at the top."""
    plt = _pyplot()
    shown = list(zip(labels, counts, strict=True))[:12]
    fig, ax = plt.subplots(figsize=(6.4, 0.42 * max(1, len(shown)) + 0.9))
    positions = list(range(len(shown)))[::-1]
    ax.barh(positions, [c for _, c in shown], color=BAD, height=0.6)
    for y, (_, count) in zip(positions, shown, strict=True):
        ax.text(count + max(total, 1) * 0.01, y, f"{count} of {total}", va="center", fontsize=8.5)
    ax.set_yticks(positions, [label for label, _ in shown])
    ax.set_xlim(0, max(total, 1) * 1.15)
    ax.set_xlabel("students", fontsize=9)
    _style(ax)
    return _svg(fig)


def assignment_means(labels: Sequence[str], means: Sequence[float], maxima: Sequence[float],
                     submitted: Sequence[int]) -> str:
    """The course: mean score (as a share of the points) of each assignment."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    shares = [100.0 * m / x if x else 0.0 for m, x in zip(means, maxima, strict=True)]
    ax.bar(range(len(labels)), shares, color=ACCENT, width=0.6)
    for x, (share, n) in enumerate(zip(shares, submitted, strict=True)):
        ax.text(x, share + 2, f"{share:.0f}%\n({n} graded)", ha="center", fontsize=8)
    ax.set_xticks(range(len(labels)), labels, fontsize=8.5)
    ax.set_ylim(0, 120)
    ax.set_ylabel("mean score (% of the points)", fontsize=9)
    _style(ax)
    return _svg(fig)
