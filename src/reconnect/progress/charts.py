"""The progress charts, drawn by matplotlib, and the dashboards that gather them.

Each chart comes with a data table and a one-sentence text alternative, and is drawn
into SVG on the server through the object-oriented ``Figure`` API with the SVG canvas,
so no interactive backend and no pyplot state is involved. A dashboard is everything
on one progress page: its charts, and the markers from ``reconnect.domain.progress``.
The inputs are the domain's plain points; nothing here reads a database or a request.
"""

from __future__ import annotations

import io
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, partial
from html import escape
from operator import attrgetter
from typing import Any, ClassVar, cast

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D

from reconnect.domain.progress.markers import (
    Marker,
    pain_without_losing_connection,
    protection_less_often,
    seen_and_still_safe,
)
from reconnect.domain.progress.points import (
    CheckInPoint,
    ExperiencePoint,
    SafeDay,
    ScorePoint,
    SharedExperience,
    TierPoint,
    setbacks,
)
from reconnect.domain.progress.policy import ProgressPolicy

__all__ = [
    "DAILY_SPAN_DAYS",
    "DRAWING",
    "Chart",
    "CoupleDashboard",
    "PersonDashboard",
    "activation_safety_chart",
    "consistency_chart",
    "couple_dashboard",
    "person_dashboard",
    "qualities_chart",
    "score_chart",
    "tier_chart",
    "urgency_readiness_chart",
]

# Up to this many days of history a chart shows one point per day; beyond it, one
# point per week, which keeps a three-year chart small and quick to draw.
DAILY_SPAN_DAYS = 56

# Calm, distinguishable colours (also readable in greyscale by line style).
_BLUE = "#4f7cac"
_SAGE = "#6a9a78"
_SAND = "#c9a66b"
_LAVENDER = "#8e7cc3"
_ROSE = "#b5656b"
_GREY = "#5f6b73"

_NO_METADATA: dict[str, str | None] = {
    "Creator": None,
    "Date": None,
    "Format": None,
    "Type": None,
}


class _MeasuringSVGRenderer(RendererSVG):
    """matplotlib's SVG renderer, with the size of each plain text measured once per
    process.

    matplotlib caches text sizes per renderer, and ``savefig`` makes a new renderer
    each time, so every tick label was measured with FreeType again for every chart:
    about a quarter of drawing a dashboard. A size depends only on the text and its
    font properties (SVG is always 72 dpi), so it is kept here, and :func:`_render`
    draws the kept figures with this renderer directly.
    """

    _sizes: ClassVar[dict[tuple[str, int], tuple[float, float, float]]] = {}
    _SIZES_MAX: ClassVar[int] = 4096

    def get_text_width_height_descent(
        self, s: str, prop: FontProperties, ismath: bool | str
    ) -> tuple[float, float, float]:
        key = (s, hash(prop))  # FontProperties compare equal exactly when hashes do
        size = None if ismath else self._sizes.get(key)
        if size is None:
            measure = super().get_text_width_height_descent
            size = cast(tuple[float, float, float], measure(s, prop, ismath))  # type: ignore[no-untyped-call]
            # Only under DRAWING (one thread at a time), so no lock of its own.
            if not ismath:
                if len(self._sizes) >= self._SIZES_MAX:
                    self._sizes.clear()
                self._sizes[key] = size
        return size


# --- charts -------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """A chart with its data table and text alternative, drawn when first asked for.

    A page shows the title, text and table and links the image; only the image's own
    request draws the SVG. ``draw`` is ``None`` (and ``svg`` too) when there is no data
    yet; ``text`` then says so, and the page shows that sentence instead of a chart.
    Two charts are equal when they say the same: key, title, table and text.
    """

    key: str
    title: str
    draw: Callable[[], str] | None = field(repr=False, compare=False)
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    text: str

    @cached_property
    def svg(self) -> str | None:
        return None if self.draw is None else self.draw()

    @property
    def empty(self) -> bool:
        return self.draw is None


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _bucket(days: Iterable[date]) -> tuple[bool, str]:
    """Whether to group by week for these days, and the first column's header."""
    listed = list(days)
    weekly = (max(listed) - min(listed)).days >= DAILY_SPAN_DAYS
    return weekly, ("Week of" if weekly else "Day")


def _means(
    items: Sequence[Any], fields: Sequence[str], weekly: bool
) -> list[tuple[date, tuple[float, ...]]]:
    """Mean of each field per day (or per Monday-started week), oldest first."""
    groups: dict[date, list[Any]] = defaultdict(list)
    for item in items:
        day: date = item.day
        groups[day - timedelta(days=day.weekday()) if weekly else day].append(item)
    getters = [attrgetter(field) for field in fields]
    return [
        (key, tuple(sum(map(get, groups[key])) / len(groups[key]) for get in getters))
        for key in sorted(groups)
    ]


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _empty(key: str, title: str, headers: tuple[str, ...], what: str) -> Chart:
    return Chart(key, title, None, headers, (), f"No data yet: {what}")


# Drawing a chart with matplotlib costs most of its time in building the figure, the
# axes and their ticks, so one figure per kind of chart is kept and only the data is
# swapped in. Drawing holds a lock: the figures are shared, and the settings the SVG
# writer reads (rcParams) are process-wide, so two threads must never draw at once.
# Drawing is pure Python under the GIL anyway, so the lock costs no throughput.
# One lock for all matplotlib drawing in the process (its settings are global).
DRAWING = threading.Lock()
_TEMPLATES: dict[str, tuple[Figure, Axes, list[Any]]] = {}


def _figure(caption: str) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(6.4, 2.6), dpi=72)  # SVG's own resolution
    FigureCanvasSVG(figure)
    axes = figure.add_axes((0.08, 0.17, 0.9, 0.72))
    axes.spines[["top", "right"]].set_visible(False)
    # Labels without tick marks: as readable here, and fewer SVG elements to write.
    axes.tick_params(colors=_GREY, labelsize=8, bottom=False, left=False)
    # Fixed (unused) axis-label positions spare a layout pass over the tick labels.
    axes.xaxis.set_label_coords(0.5, -0.15)
    axes.yaxis.set_label_coords(-0.06, 0.5)
    # An explicit y skips matplotlib's title placement pass on every draw.
    axes.set_title(caption, loc="left", fontsize=8, color=_GREY, y=1.0)
    return figure, axes


def _date_ticks(axes: Axes, keys: Sequence[date]) -> None:
    """A handful of dated ticks (cheaper than matplotlib's date locators)."""
    count = len(keys)
    step = max(1, (count + 4) // 5)
    positions = list(range(0, count, step))
    axes.set_xticks(positions, [keys[i].isoformat() for i in positions])
    axes.set_xlim(-0.5, count - 0.5)


def _show_points(line: Line2D, count: int) -> None:
    # A lone point needs a dot to be seen; longer lines stay plain and small.
    line.set_marker("o" if count == 1 else "")


_Parts = list[Any]


def _render(
    key: str,
    caption: str,
    text: str,
    build: Callable[[Axes], _Parts],
    update: Callable[[Axes, _Parts], None],
) -> str:
    """Draw into the kept figure for ``key`` and return it as inline SVG.

    ``caption`` is drawn above the plot and names each line's style: cheaper to
    draw than a legend, and it does not rely on colour alone.
    """
    # Text stays text (no glyph outlines, no font files); the salt keeps element ids
    # of different charts apart when they share a page.
    with (
        DRAWING,
        mpl.rc_context(
            {
                "svg.fonttype": "none",
                "font.size": 9.0,
                "font.family": "sans-serif",
                "svg.hashsalt": key,
            }
        ),
    ):
        if key not in _TEMPLATES:
            figure, axes = _figure(caption)
            _TEMPLATES[key] = (figure, axes, build(axes))
        figure, axes, parts = _TEMPLATES[key]
        update(axes, parts)
        buffer = io.StringIO()
        width, height = figure.get_size_inches() * 72
        renderer = _MeasuringSVGRenderer(width, height, buffer, metadata=_NO_METADATA)  # type: ignore[no-untyped-call]
        figure.draw(renderer)
        renderer.finalize()  # type: ignore[no-untyped-call]
    svg = buffer.getvalue()
    # Inline SVG needs no XML prolog or DOCTYPE (which would name an external DTD).
    svg = svg[svg.index("<svg") :]
    head_end = svg.index(">") + 1
    head = svg[:head_end].replace("<svg ", '<svg role="img" ', 1)
    return f"{head}<title>{escape(text)}</title>{svg[head_end:]}"


def _lines_template(
    labels: Sequence[str], colours: Sequence[str], top: float, yticks: Sequence[int]
) -> Callable[[Axes], _Parts]:
    styles = ("-", "--", "-.", ":")

    def build(axes: Axes) -> _Parts:
        lines = [
            axes.plot([], [], styles[i], color=colour, label=label, linewidth=1.6)[0]
            for i, (label, colour) in enumerate(zip(labels, colours, strict=True))
        ]
        axes.set_ylim(0, top)
        axes.set_yticks(list(yticks))
        return lines

    return build


def _lines_update(series: list[tuple[date, tuple[float, ...]]]) -> Callable[[Axes, _Parts], None]:
    def update(axes: Axes, lines: _Parts) -> None:
        xs = list(range(len(series)))
        for index, line in enumerate(lines):
            line.set_data(xs, [values[index] for _, values in series])
            _show_points(line, len(xs))
        _date_ticks(axes, [k for k, _ in series])

    return update


def _two_lines_chart(
    key: str,
    title: str,
    points: Sequence[CheckInPoint],
    fields: tuple[str, str],
    labels: tuple[str, str],
    what_if_empty: str,
    describe: Callable[[list[tuple[date, tuple[float, ...]]], bool], str],
) -> Chart:
    if not points:
        return _empty(key, title, ("Day", *labels), what_if_empty)
    weekly, first_header = _bucket(p.day for p in points)
    series = _means(points, fields, weekly)
    rows = tuple((k.isoformat(), *(_fmt(v) for v in values)) for k, values in series)
    text = describe(series, weekly)
    build = _lines_template(labels, (_BLUE, _SAGE), 10.4, (0, 5, 10))
    caption = f"{labels[0]}: solid line.   {labels[1]}: dashed line."
    draw = partial(_render, key, caption, text, build, _lines_update(series))
    return Chart(key, title, draw, (first_header, *labels), rows, text)


def _trend_words(first: float, last: float) -> str:
    if last < first - 0.5:
        return "went down"
    if last > first + 0.5:
        return "went up"
    return "stayed about the same"


def activation_safety_chart(points: Sequence[CheckInPoint]) -> Chart:
    """(a) Activation and felt safety over time, from one person's check-ins."""

    def describe(series: list[tuple[date, tuple[float, ...]]], weekly: bool) -> str:
        (_, (a0, s0)), (_, (a1, s1)) = series[0], series[-1]
        unit = "weekly" if weekly else "daily"
        return (
            f"Over {len(series)} {unit} points, activation {_trend_words(a0, a1)} "
            f"({_fmt(a0)} to {_fmt(a1)}) and felt safety {_trend_words(s0, s1)} "
            f"({_fmt(s0)} to {_fmt(s1)})."
        )

    return _two_lines_chart(
        "activation-safety",
        "Activation and felt safety",
        points,
        ("activation", "safety"),
        ("Activation (0–10)", "Felt safety (0–10)"),
        "activation and felt safety appear after your first check-in.",
        describe,
    )


def urgency_readiness_chart(points: Sequence[CheckInPoint]) -> Chart:
    """(e) Urgency to reconnect against readiness for closeness, over time."""

    def describe(series: list[tuple[date, tuple[float, ...]]], weekly: bool) -> str:
        ahead = sum(1 for _, (u, r) in series if u > r)
        unit = "weeks" if weekly else "days"
        return (
            f"Urgency ran ahead of readiness in {ahead} of {len(series)} {unit}; "
            "a strong pull is not the same as being ready."
        )

    return _two_lines_chart(
        "urgency-readiness",
        "Urgency and readiness",
        points,
        ("urgency", "readiness"),
        ("Urgency (0–10)", "Readiness (0–10)"),
        "urgency and readiness appear after your first check-in.",
        describe,
    )


_TIER_HEADERS = ("Highest tier", "Lowest tier", "Setbacks")


def tier_chart(tiers: Sequence[TierPoint]) -> Chart:
    """(b) The permitted tier over time, with setbacks (the tier going down) marked.

    One row per day (or per week for long histories): the highest and lowest
    permitted tier in it and how many setbacks happened.
    """
    key, title = "tier", "Permitted tier and setbacks"
    if not tiers:
        what = "the tier appears once the pace has been worked out."
        return _empty(key, title, ("Day", *_TIER_HEADERS), what)
    ordered = sorted(tiers, key=lambda p: p.at)
    weekly, first_header = _bucket(p.at.date() for p in ordered)
    back = {id(p) for p in setbacks(ordered)}
    groups: dict[date, list[TierPoint]] = defaultdict(list)
    for point in ordered:
        day = point.at.date()
        groups[_week_of(day) if weekly else day].append(point)
    keys = sorted(groups)
    highs = [max(p.tier for p in groups[k]) for k in keys]
    lows = [min(p.tier for p in groups[k]) for k in keys]
    counts = [sum(1 for p in groups[k] if id(p) in back) for k in keys]
    rows = tuple(
        (k.isoformat(), str(h), str(lo), str(c))
        for k, h, lo, c in zip(keys, highs, lows, counts, strict=True)
    )
    total = sum(counts)
    text = (
        f"The permitted tier went from {ordered[0].tier} to {ordered[-1].tier}, "
        f"with {total} setback{'s' if total != 1 else ''} along the way."
    )

    def build(axes: Axes) -> _Parts:
        high = axes.plot([], [], drawstyle="steps-mid", color=_BLUE, linewidth=1.6)[0]
        low = axes.plot([], [], ":", drawstyle="steps-mid", color=_BLUE, linewidth=1)[0]
        marks = axes.plot([], [], "v", color=_ROSE, markersize=5, linestyle="none")[0]
        high.set_label("Highest tier")
        low.set_label("Lowest tier")
        marks.set_label("Setback")
        axes.set_ylim(-0.4, 6.9)
        axes.set_yticks(range(7))
        return [high, low, marks]

    def update(axes: Axes, parts: _Parts) -> None:
        high, low, marks = parts
        xs = list(range(len(keys)))
        high.set_data(xs, highs)
        low.set_data(xs, lows)
        _show_points(high, len(xs))
        marked = [(x, lo) for x, lo, c in zip(xs, lows, counts, strict=True) if c]
        marks.set_data([x for x, _ in marked], [y for _, y in marked])
        _date_ticks(axes, keys)

    caption = "Highest tier: solid line.   Lowest tier: dotted line.   Setback: triangle."
    draw = partial(_render, key, caption, text, build, update)
    return Chart(key, title, draw, (first_header, *_TIER_HEADERS), rows, text)


def consistency_chart(experiences: Sequence[SafeDay]) -> Chart:
    """(c) Distinct days per week with a safe shared experience (P5).

    Takes the couple's :class:`SharedExperience` (safe for both) or one person's
    :class:`ExperiencePoint` (their own safe ratings). Weeks without one show 0.
    """
    key, title = "consistency", "Days with a safe shared experience, per week"
    headers = ("Week of", "Days with a safe experience")
    if not experiences:
        return _empty(key, title, headers, "this fills in after your first shared practice.")
    safe_days: dict[date, set[date]] = defaultdict(set)
    for item in experiences:
        if item.safe:
            safe_days[_week_of(item.day)].add(item.day)
    first = _week_of(min(e.day for e in experiences))
    last = _week_of(max(e.day for e in experiences))
    keys = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    counts = [len(safe_days.get(k, ())) for k in keys]
    rows = tuple((k.isoformat(), str(c)) for k, c in zip(keys, counts, strict=True))
    recent = counts[-4:]
    text = (
        f"{sum(1 for c in counts if c)} of {len(keys)} weeks had at least one safe "
        f"shared experience; the last {len(recent)} week{'s' if len(recent) != 1 else ''} "
        f"had {sum(recent)} safe day{'s' if sum(recent) != 1 else ''} in all."
    )

    def build(axes: Axes) -> _Parts:
        # One stepped outline rather than a bar per week: the same picture, and a
        # single SVG path however long the history is.
        bars = axes.stairs([0], [-0.5, 0.5], fill=True, color=_SAGE)
        axes.set_ylim(0, 7)
        axes.set_yticks([0, 3, 5, 7])
        return [bars]

    def update(axes: Axes, parts: _Parts) -> None:
        parts[0].set_data(counts, [x - 0.5 for x in range(len(keys) + 1)])
        _date_ticks(axes, keys)

    caption = "Days with a safe shared experience, each week (0–7)."
    draw = partial(_render, key, caption, text, build, update)
    return Chart(key, title, draw, headers, rows, text)


_QUALITIES = ("authenticity", "vulnerability", "transparency", "presence")


def qualities_chart(experiences: Sequence[ExperiencePoint]) -> Chart:
    """(d) The four qualities (0–4), weekly means of one person's ratings."""
    key, title = "qualities", "The four qualities, weekly average"
    headers = ("Week of", *(q.capitalize() for q in _QUALITIES))
    if not experiences:
        return _empty(key, title, headers, "the qualities appear after your first rating.")
    series = _means(experiences, _QUALITIES, weekly=True)
    rows = tuple((k.isoformat(), *(_fmt(v) for v in values)) for k, values in series)
    latest = dict(zip(_QUALITIES, series[-1][1], strict=True))
    strongest = max(_QUALITIES, key=lambda q: latest[q])
    text = (
        f"Across {len(series)} week{'s' if len(series) != 1 else ''} of ratings, "
        f"{strongest} was the strongest quality in the latest week "
        f"({_fmt(latest[strongest])} of 4)."
    )
    build = _lines_template(headers[1:], (_BLUE, _SAGE, _SAND, _LAVENDER), 4.6, (0, 1, 2, 3, 4))
    caption = (
        "Authenticity: solid.   Vulnerability: dashed.   "
        "Transparency: dash-dot.   Presence: dotted.   (0–4)"
    )
    draw = partial(_render, key, caption, text, build, _lines_update(series))
    return Chart(key, title, draw, headers, rows, text)


_CHANGE_WORDS = {
    "improved": "reliable improvement",
    "worse": "reliable worsening",
    "no reliable change": "no reliable change",
}


def score_chart(key: str, title: str, points: Sequence[ScorePoint], top: float) -> Chart:
    """A questionnaire's total over time, each reliable change (Jacobson–Truax) since
    the result before marked: a diamond for a reliable improvement, a square for a
    reliable worsening.

    One point per result, oldest first; ``top`` is the scale's highest total. Whether
    higher is better depends on the instrument, so the marks carry the meaning, not
    the line's direction.
    """
    headers = ("Date", "Score", "Reliable change")
    if not points:
        return _empty(key, title, headers, "the scores appear after the first time you answer.")
    ordered = sorted(points, key=lambda p: p.day)
    rows = tuple(
        (p.day.isoformat(), _fmt(p.score), _CHANGE_WORDS.get(p.change or "", "")) for p in ordered
    )
    better = [i for i, p in enumerate(ordered) if p.change == "improved"]
    worse = [i for i, p in enumerate(ordered) if p.change == "worse"]
    text = (
        f"{len(ordered)} result{'s' if len(ordered) != 1 else ''}, from "
        f"{_fmt(ordered[0].score)} to {_fmt(ordered[-1].score)}; "
        f"{len(better)} reliable improvement{'s' if len(better) != 1 else ''} and "
        f"{len(worse)} reliable worsening{'s' if len(worse) != 1 else ''} between one "
        "result and the next."
    )

    def build(axes: Axes) -> _Parts:
        line = axes.plot([], [], color=_BLUE, linewidth=1.6, marker="o", markersize=3)[0]
        improved = axes.plot([], [], "D", color=_SAGE, markersize=7, linestyle="none")[0]
        worsened = axes.plot([], [], "s", color=_ROSE, markersize=7, linestyle="none")[0]
        return [line, improved, worsened]

    def update(axes: Axes, parts: _Parts) -> None:
        line, improved, worsened = parts
        line.set_data(range(len(ordered)), [p.score for p in ordered])
        improved.set_data(better, [ordered[i].score for i in better])
        worsened.set_data(worse, [ordered[i].score for i in worse])
        axes.set_ylim(0, top * 1.08)
        axes.set_yticks([0, round(top / 2), round(top)])  # few ticks: they cost the most
        _date_ticks(axes, [p.day for p in ordered])

    caption = (
        "Score: line with dots.   Reliable improvement: diamond.   Reliable worsening: square."
    )
    draw = partial(_render, key, caption, text, build, update)
    return Chart(key, title, draw, headers, rows, text)


# --- dashboards -------------------------------------------------------------------


@dataclass(frozen=True)
class PersonDashboard:
    charts: tuple[Chart, ...]
    markers: tuple[Marker, ...]


@dataclass(frozen=True)
class CoupleDashboard:
    charts: tuple[Chart, ...]
    markers: tuple[Marker, ...]


def person_dashboard(
    checkins: Sequence[CheckInPoint],
    experiences: Sequence[ExperiencePoint],
    today: date,
    scores: Sequence[Chart] = (),
    *,
    policy: ProgressPolicy | None = None,
) -> PersonDashboard:
    """Everything on one person's progress page, from their own data only.

    ``scores`` are the questionnaire charts (see :func:`score_chart`), one for each
    instrument the person has answered. The markers use ``policy``, the newest progress
    policy when none is given.
    """
    charts = (
        activation_safety_chart(checkins),
        consistency_chart(experiences),
        qualities_chart(experiences),
        urgency_readiness_chart(checkins),
        *scores,
    )
    markers = (
        seen_and_still_safe(experiences, policy),
        pain_without_losing_connection(experiences, own=True, policy=policy),
        protection_less_often(checkins, today, policy),
    )
    return PersonDashboard(charts, markers)


def couple_dashboard(
    tiers: Sequence[TierPoint],
    shared: Sequence[SharedExperience],
    *,
    policy: ProgressPolicy | None = None,
) -> CoupleDashboard:
    """The couple's progress page, from shared data only."""
    charts = (tier_chart(tiers), consistency_chart(shared))
    return CoupleDashboard(charts, (pain_without_losing_connection(shared, policy=policy),))
