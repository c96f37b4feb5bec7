"""The questionnaire charts: one person's scores, and both partners' side by side.

Each result is a point; a reliable change (Jacobson–Truax) since that person's result
before is marked on it: a diamond for a reliable improvement, a square for a reliable
worsening. Whether higher is better depends on the instrument, so the marks carry the
meaning, not the line's direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from matplotlib.axes import Axes

from reconnect.domain.progress.points import ScorePoint
from reconnect.progress.drawing import (
    BLUE,
    FONT_PX,
    INK,
    NUMBERS,
    PLOT_HEIGHT_PX,
    ROSE,
    SAGE,
    SAND,
    Chart,
    Margins,
    Parts,
    date_ticks,
    fmt,
    plural,
    render,
    render_png,
    spread,
    waiting,
)

__all__ = ["pair_score_chart", "score_chart"]

_CHANGE_WORDS = {
    "improved": "reliable improvement",
    "worse": "reliable worsening",
    "no reliable change": "no reliable change",
}
_SCORES: Margins = (30.0, 40.0)
_MARK_WORDS = (("improved", "#3f6e4c"), ("worsened", ROSE))


def _marks(axes: Axes) -> tuple[tuple[Any, Any], list[Any]]:
    """The reliable-change marks (a diamond for a reliable improvement, a square for a
    reliable worsening), empty, and the words that name the newest of each kind."""
    improved = axes.plot([], [], "D", color=SAGE, markersize=9, linestyle="none")[0]
    worsened = axes.plot([], [], "s", color=ROSE, markersize=9, linestyle="none")[0]
    words = [
        axes.annotate(
            word,
            (0, 0),
            xytext=(0, 9),
            textcoords="offset points",
            color=colour,
            fontsize=FONT_PX,
            annotation_clip=False,
        )
        for word, colour in _MARK_WORDS
    ]
    return (improved, worsened), words


def score_chart(key: str, title: str, points: Sequence[ScorePoint], top: float) -> Chart:
    """A questionnaire's total over time, each reliable change (Jacobson–Truax) since
    the result before marked: a diamond for a reliable improvement, a square for a
    reliable worsening, each named beside the newest of its kind.

    One point per result, oldest first; ``top`` is the scale's highest total. Whether
    higher is better depends on the instrument, so the marks carry the meaning, not
    the line's direction. A single result is a sentence and its row, not a dot.
    """
    headers = ("Date", "Score", "Reliable change")
    sentence = "Answer this again in a few weeks and your answers show here as a line."
    if not points:
        return waiting(key, title, headers, sentence)
    ordered = sorted(points, key=lambda p: p.day)
    rows = tuple(
        (p.day.isoformat(), fmt(p.score), _CHANGE_WORDS.get(p.change or "", "")) for p in ordered
    )
    if len(ordered) < 2:
        return waiting(key, title, headers, sentence, rows)
    better = [i for i, p in enumerate(ordered) if p.change == "improved"]
    worse = [i for i, p in enumerate(ordered) if p.change == "worse"]
    text = (
        f"{plural(len(ordered), 'result')}, from "
        f"{fmt(ordered[0].score)} to {fmt(ordered[-1].score)}; "
        f"{plural(len(better), 'reliable improvement')} and "
        f"{plural(len(worse), 'reliable worsening')} between one result and the next."
    )

    def build(axes: Axes) -> Parts:
        line = axes.plot([], [], color=BLUE, linewidth=2.2, marker="o", markersize=4)[0]
        (improved, worsened), names = _marks(axes)
        return [line, improved, worsened, *names]

    def update(axes: Axes, parts: Parts) -> None:
        line, improved, worsened, *names = parts
        line.set_data(range(len(ordered)), [p.score for p in ordered])
        improved.set_data(better, [ordered[i].score for i in better])
        worsened.set_data(worse, [ordered[i].score for i in worse])
        for name, marked in zip(names, (better, worse), strict=True):
            name.set_visible(bool(marked))
            if marked:
                x = marked[-1]
                name.xy = (x, ordered[x].score)
                name.set_horizontalalignment("right" if x > len(ordered) * 0.7 else "center")
        axes.set_ylim(0, top * 1.12)
        axes.set_yticks([0, round(top / 2), round(top)])  # few ticks: they cost the most
        date_ticks(axes, [p.day for p in ordered])

    draw = partial(render, key, text, _SCORES, build, update)
    return Chart(key, title, draw, headers, rows, text)


# The partners' lines: the first solid, the second dashed, so they differ in greyscale.
_PAIR_STYLES = ((BLUE, "-"), (SAND, "--"))


def _changes(points: Sequence[ScorePoint], change: str) -> int:
    return sum(1 for p in points if p.change == change)


def pair_score_chart(
    key: str,
    title: str,
    partners: Sequence[tuple[str, Sequence[ScorePoint]]],
    top: float,
) -> Chart:
    """Two people's totals on one questionnaire, on one chart, over the same dates.

    ``partners`` are up to two ``(name, points)``, each person's results with the
    reliable change since their own result before. Each line is named at its end;
    the marks are those of :func:`score_chart`. With fewer than two results in all,
    a sentence and the table stand in for the chart.
    """
    if len(partners) > len(_PAIR_STYLES):
        raise ValueError("a side-by-side chart holds two people")
    headers = ("Date", "Partner", "Score", "Reliable change")
    people = [(name, sorted(points, key=lambda p: p.day)) for name, points in partners]
    rows = tuple(
        (p.day.isoformat(), name, fmt(p.score), _CHANGE_WORDS.get(p.change or "", ""))
        for p, name in sorted(
            ((p, name) for name, points in people for p in points),
            key=lambda pair: (pair[0].day, pair[1]),
        )
    )
    if len(rows) < 2:
        sentence = "When the partners have answered this a few times, their results show here."
        return waiting(key, title, headers, sentence, rows)
    days = sorted({p.day for _, points in people for p in points})
    place = {day: x for x, day in enumerate(days)}
    said = [
        f"{name}: {plural(len(points), 'result')}"
        + (f", from {fmt(points[0].score)} to {fmt(points[-1].score)}" if len(points) > 1 else "")
        + f", {plural(_changes(points, 'improved'), 'reliable improvement')} and "
        f"{plural(_changes(points, 'worse'), 'reliable worsening')}"
        for name, points in people
        if points
    ]
    text = "; ".join(said[:1] + [s[0].lower() + s[1:] for s in said[1:]]) + "."

    def build(axes: Axes) -> Parts:
        lines = []
        for colour, style in _PAIR_STYLES:
            line = axes.plot([], [], style, color=colour, linewidth=2.2, marker="o", markersize=4)
            name = axes.text(
                1.03,
                0,
                "",
                transform=axes.get_yaxis_transform(),
                color=INK[colour],
                fontsize=FONT_PX,
                va="center",
                ha="left",
                clip_on=False,
            )
            lines.append((line[0], name))
        marks, words = _marks(axes)
        return [lines, marks, words]

    def update(axes: Axes, parts: Parts) -> None:
        lines, marks, words = parts
        axes.set_ylim(0, top * 1.12)
        axes.set_yticks([0, round(top / 2), round(top)])
        low, high = axes.get_ylim()
        gap = (high - low) * (FONT_PX * 1.2) / PLOT_HEIGHT_PX
        drawn = [(name, points) for name, points in people if points]
        ends = spread([points[-1].score for _, points in drawn], gap, low, high)
        for index, (line, label) in enumerate(lines):
            shown = index < len(drawn)
            name, points = drawn[index] if shown else ("", [])
            line.set_data([place[p.day] for p in points], [p.score for p in points])
            label.set_text(name)
            label.set_visible(shown)
            if shown:
                label.set_y(ends[index])
        everyone = [p for _, points in drawn for p in points]
        for mark, word, change in zip(marks, words, ("improved", "worse"), strict=True):
            marked = sorted((p for p in everyone if p.change == change), key=lambda p: p.day)
            mark.set_data([place[p.day] for p in marked], [p.score for p in marked])
            word.set_visible(bool(marked))
            if marked:
                x = place[marked[-1].day]
                word.xy = (x, marked[-1].score)
                word.set_horizontalalignment("right" if x > len(days) * 0.7 else "center")
        date_ticks(axes, days)

    return Chart(
        key,
        title,
        partial(render, key, text, NUMBERS, build, update),
        headers,
        rows,
        text,
        draw_png=partial(render_png, key, NUMBERS, build, update),
    )
