"""The progress charts, drawn by matplotlib, and the dashboards that gather them.

Each chart comes with a data table and a one-sentence text alternative, and is drawn
into SVG on the server through the object-oriented ``Figure`` API with the SVG canvas,
so no interactive backend and no pyplot state is involved. A dashboard is everything
on one progress page: its charts, and the markers from ``reconnect.domain.progress``.
The inputs are the domain's plain points; nothing here reads a database or a request.
"""

from __future__ import annotations

import io
import re
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

from reconnect.domain.pacing.catalogue import Tier, load_catalogue
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
    "FONT_PX",
    "MIN_DAYS",
    "WIDTH_PX",
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

# Charts are drawn for a phone: 360 units wide, shown at 360 CSS pixels wide (and
# no wider on a large screen), so one unit is one CSS pixel and no text is smaller
# than FONT_PX. Each line is named at its end, in its own colour.
WIDTH_PX = 360
HEIGHT_PX = 230
FONT_PX = 12.0

# Fewer days of data than this, and a chart says a friendly sentence instead of
# showing a line of one or two dots; a weekly chart also needs two weeks.
MIN_DAYS = 3

# Calm, distinguishable colours (also readable in greyscale by line style).
_BLUE = "#4f7cac"
_SAGE = "#6a9a78"
_SAND = "#c9a66b"
_LAVENDER = "#8e7cc3"
_ROSE = "#b5656b"
_GREY = "#5f6b73"
# A line's name is written in a darker shade of its colour, readable on white.
_INK = {_BLUE: "#3d6591", _SAGE: "#46744f", _SAND: "#7f6128", _LAVENDER: "#65559c"}

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
    request draws the SVG. ``draw`` is ``None`` (and ``svg`` too) while there is too
    little data to draw (fewer than ``MIN_DAYS`` days, or a single point): ``text`` is
    then a friendly sentence the page shows instead of a chart, and ``rows`` holds the
    few numbers there are.
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


def _plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def _step(number: int) -> Tier:
    return load_catalogue().tier(number)


def _waiting(
    key: str,
    title: str,
    headers: tuple[str, ...],
    sentence: str,
    rows: tuple[tuple[str, ...], ...] = (),
) -> Chart:
    """A chart with too little data to draw yet: a friendly sentence, and the few
    numbers there are (if any) for the table."""
    return Chart(key, title, None, headers, rows, sentence)


def _too_few(days: Iterable[date], points: int) -> bool:
    """Too little to draw: fewer than ``MIN_DAYS`` days, or a single point."""
    return len(set(days)) < MIN_DAYS or points < 2


# Drawing a chart with matplotlib costs most of its time in building the figure, the
# axes and their ticks, so one figure per kind of chart is kept and only the data is
# swapped in. Drawing holds a lock: the figures are shared, and the settings the SVG
# writer reads (rcParams) are process-wide, so two threads must never draw at once.
# Drawing is pure Python under the GIL anyway, so the lock costs no throughput.
# One lock for all matplotlib drawing in the process (its settings are global).
DRAWING = threading.Lock()
_TEMPLATES: dict[str, tuple[Figure, Axes, list[Any]]] = {}

# Room around the plot, in pixels: left for the y-axis ticks, right for the names
# written at the ends of the lines.
_Margins = tuple[float, float]
_NUMBERS: _Margins = (30.0, 110.0)
_TOP_PX, _BOTTOM_PX = 12.0, 26.0
_PLOT_HEIGHT_PX = HEIGHT_PX - _TOP_PX - _BOTTOM_PX


def _figure(margins: _Margins) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_PX / 72, HEIGHT_PX / 72), dpi=72)  # SVG's own resolution
    FigureCanvasSVG(figure)
    left, right = margins
    axes = figure.add_axes(
        (
            left / WIDTH_PX,
            _BOTTOM_PX / HEIGHT_PX,
            (WIDTH_PX - left - right) / WIDTH_PX,
            _PLOT_HEIGHT_PX / HEIGHT_PX,
        )
    )
    axes.spines[["top", "right"]].set_visible(False)
    axes.spines[["left", "bottom"]].set_color("#b9c2c8")
    # Labels without tick marks: as readable here, and fewer SVG elements to write.
    axes.tick_params(colors=_GREY, labelsize=FONT_PX, bottom=False, left=False, pad=3)
    # Fixed (unused) axis-label positions spare a layout pass over the tick labels.
    axes.xaxis.set_label_coords(0.5, -0.15)
    axes.yaxis.set_label_coords(-0.06, 0.5)
    return figure, axes


def _day_words(day: date, long: bool) -> str:
    # Short enough for three or four ticks across a phone: "2 Mar", or "Mar 2026".
    return day.strftime("%b %Y") if long else f"{day.day} {day:%b}"


def _date_ticks(axes: Axes, keys: Sequence[date]) -> None:
    """Three or four dated ticks (cheaper than matplotlib's date locators)."""
    count = len(keys)
    step = max(1, -(-count // 3))
    positions = list(range(0, count, step))
    long = (keys[-1] - keys[0]).days > 300
    axes.set_xticks(positions, [_day_words(keys[i], long) for i in positions])
    axes.set_xlim(-0.5, count - 0.5)


def _spread(ends: Sequence[float], gap: float, low: float, high: float) -> list[float]:
    """Heights for labels at these line ends, at least ``gap`` apart, within range."""
    order = sorted(range(len(ends)), key=lambda i: ends[i])
    placed = [0.0] * len(ends)
    floor = low
    for i in order:
        placed[i] = max(ends[i], floor)
        floor = placed[i] + gap
    overflow = max(0.0, max(placed) - high)
    for i in order:
        placed[i] -= overflow
    return placed


_Parts = list[Any]


def _render(
    key: str,
    text: str,
    margins: _Margins,
    build: Callable[[Axes], _Parts],
    update: Callable[[Axes, _Parts], None],
) -> str:
    """Draw into the kept figure for ``key`` and return it as inline SVG, sized in
    pixels so that its text shows at ``FONT_PX`` when it is 360 pixels wide."""
    # Text stays text (no glyph outlines, no font files); the salt keeps element ids
    # of different charts apart when they share a page.
    with (
        DRAWING,
        mpl.rc_context(
            {
                "svg.fonttype": "none",
                "font.size": FONT_PX,
                "font.family": "sans-serif",
                "svg.hashsalt": key,
            }
        ),
    ):
        if key not in _TEMPLATES:
            figure, axes = _figure(margins)
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
    # Pixels, not points: shown at its own size, one unit is one CSS pixel.
    head = _POINTS.sub(r'\1="\2"', svg[:head_end]).replace("<svg ", '<svg role="img" ', 1)
    return f"{head}<title>{escape(text)}</title>{svg[head_end:]}"


_POINTS = re.compile(r'(width|height)="([0-9.]+)pt"')


def _lines_template(
    labels: Sequence[str], colours: Sequence[str], top: float, yticks: Sequence[int]
) -> Callable[[Axes], _Parts]:
    styles = ("-", "--", "-.", ":")

    def build(axes: Axes) -> _Parts:
        lines = []
        for i, (label, colour) in enumerate(zip(labels, colours, strict=True)):
            line = axes.plot([], [], styles[i], color=colour, label=label, linewidth=2.2)[0]
            # Each line's name at its end, in its colour: no legend to decode.
            name = axes.text(
                1.03,
                0,
                label,
                transform=axes.get_yaxis_transform(),
                color=_INK[colour],
                fontsize=FONT_PX,
                va="center",
                ha="left",
                clip_on=False,
            )
            lines.append((line, name))
        axes.set_ylim(0, top)
        axes.set_yticks(list(yticks))
        return lines

    return build


def _lines_update(series: list[tuple[date, tuple[float, ...]]]) -> Callable[[Axes, _Parts], None]:
    def update(axes: Axes, parts: _Parts) -> None:
        xs = list(range(len(series)))
        low, high = axes.get_ylim()
        gap = (high - low) * (FONT_PX * 1.2) / _PLOT_HEIGHT_PX
        ends = _spread([series[-1][1][i] for i in range(len(parts))], gap, low, high)
        for index, (line, name) in enumerate(parts):
            line.set_data(xs, [values[index] for _, values in series])
            name.set_y(ends[index])
        _date_ticks(axes, [k for k, _ in series])

    return update


_CHECK_INS_TO_COME = "A few more days of check-ins and this fills in."


def _two_lines_chart(
    key: str,
    title: str,
    points: Sequence[CheckInPoint],
    fields: tuple[str, str],
    labels: tuple[str, str],
    headers: tuple[str, str],
    describe: Callable[[list[tuple[date, tuple[float, ...]]], bool], str],
) -> Chart:
    if not points:
        return _waiting(key, title, ("Day", *headers), _CHECK_INS_TO_COME)
    weekly, first_header = _bucket(p.day for p in points)
    series = _means(points, fields, weekly)
    rows = tuple((k.isoformat(), *(_fmt(v) for v in values)) for k, values in series)
    if _too_few((p.day for p in points), len(series)):
        return _waiting(key, title, (first_header, *headers), _CHECK_INS_TO_COME, rows)
    text = describe(series, weekly)
    build = _lines_template(labels, (_BLUE, _SAGE), 10.4, (0, 5, 10))
    draw = partial(_render, key, text, _NUMBERS, build, _lines_update(series))
    return Chart(key, title, draw, (first_header, *headers), rows, text)


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
        ("Activation", "Felt safety"),
        ("Activation (0–10)", "Felt safety (0–10)"),
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
        ("Urgency", "Readiness"),
        ("Urgency (0–10)", "Readiness (0–10)"),
        describe,
    )


# Room for the steps' short names beside the y axis ("Openness offered").
_STEP_NAMES: _Margins = (124.0, 16.0)


def _reached_by_bucket(
    ordered: Sequence[TierPoint], keys: Sequence[date], weekly: bool
) -> tuple[list[int], list[int]]:
    """For each day (or week) from the first point on: the step reached at its end,
    and how many steps back happened in it."""
    back = {id(p) for p in setbacks(ordered)}
    reached: list[int] = []
    counts: list[int] = []
    index, current = 0, ordered[0].tier
    span = timedelta(days=7 if weekly else 1)
    for key in keys:
        count = 0
        while index < len(ordered) and ordered[index].at.date() < key + span:
            current = ordered[index].tier
            count += id(ordered[index]) in back
            index += 1
        reached.append(current)
        counts.append(count)
    return reached, counts


def tier_chart(tiers: Sequence[TierPoint], today: date | None = None, *, who: str = "you") -> Chart:
    """(b) Where the couple has reached on the ladder over time, steps back marked.

    ``tiers`` are the changes of the tier the couple has reached (the decisions'
    ``ladder_tier``), on the clock of the person looking; the line runs on to
    ``today`` when given. One row per day (or per week for long histories): the step
    reached at its end, by its short name, and how many steps back happened in it.
    ``who`` is "you" for the couple and "they" for their therapist.
    """
    key, title = "tier", f"Where {who} have reached together"
    headers = ("Step reached", "Steps back")
    sentence = f"A few more days and this shows where {who} have reached together, step by step."
    if not tiers:
        return _waiting(key, title, ("Day", *headers), sentence)
    ordered = sorted(tiers, key=lambda p: p.at)
    first = ordered[0].at.date()
    last = max(ordered[-1].at.date(), today or first)
    weekly, first_header = _bucket((first, last))
    start = _week_of(first) if weekly else first
    span = 7 if weekly else 1
    keys = [start + timedelta(days=span * i) for i in range((last - start).days // span + 1)]
    reached, counts = _reached_by_bucket(ordered, keys, weekly)
    rows = tuple(
        (k.isoformat(), _step(t).short, str(c))
        for k, t, c in zip(keys, reached, counts, strict=True)
    )
    if (last - first).days + 1 < MIN_DAYS:
        return _waiting(key, title, (first_header, *headers), sentence, rows)
    total = sum(counts)
    began, now = _step(ordered[0].tier).name, _step(reached[-1]).name
    text = f"Now at {now}" if began == now else f"From {began} at the start to {now} now"
    if total:
        text += f", with {_plural(total, 'step')} back along the way, part of the path"
    text += "."
    top = min(6, max(reached) + 1)

    def build(axes: Axes) -> _Parts:
        line = axes.plot([], [], drawstyle="steps-mid", color=_BLUE, linewidth=2.4)[0]
        marks = axes.plot([], [], "v", color=_ROSE, markersize=9, linestyle="none")[0]
        note = axes.annotate(
            "step back",
            (0, 0),
            xytext=(7, 0),
            textcoords="offset points",
            color="#9a4a50",
            fontsize=FONT_PX,
            va="center",
            annotation_clip=False,
        )
        return [line, marks, note]

    def update(axes: Axes, parts: _Parts) -> None:
        line, marks, note = parts
        xs = list(range(len(keys)))
        line.set_data(xs, reached)
        line.set_marker("o" if len(xs) == 1 else "")
        marked = [(x, t) for x, t, c in zip(xs, reached, counts, strict=True) if c]
        marks.set_data([x for x, _ in marked], [t + 0.4 for _, t in marked])
        # The newest step back is named beside its mark (a triangle pointing down),
        # on the side away from the chart's edge.
        note.set_visible(bool(marked))
        if marked:
            x, t = marked[-1]
            right = x > len(xs) * 0.6
            note.xy = (x, t + 0.4)
            note.set_position((-7 if right else 7, 0))
            note.set_horizontalalignment("right" if right else "left")
        axes.set_ylim(-0.4, top + 0.6)
        axes.set_yticks(range(top + 1), [_step(n).short for n in range(top + 1)])
        _date_ticks(axes, keys)

    draw = partial(_render, key, text, _STEP_NAMES, build, update)
    return Chart(key, title, draw, (first_header, *headers), rows, text)


_EXPERIENCES_TO_COME = "After a couple of weeks of shared practices, this fills in."


def consistency_chart(experiences: Sequence[SafeDay]) -> Chart:
    """(c) Distinct days per week with a safe shared experience (P5).

    Takes the couple's :class:`SharedExperience` (safe for both) or one person's
    :class:`ExperiencePoint` (their own safe ratings). Weeks without one show 0.
    """
    key, title = "consistency", "Days with a safe shared experience, per week"
    headers = ("Week of", "Days with a safe experience")
    if not experiences:
        return _waiting(key, title, headers, _EXPERIENCES_TO_COME)
    safe_days: dict[date, set[date]] = defaultdict(set)
    for item in experiences:
        if item.safe:
            safe_days[_week_of(item.day)].add(item.day)
    first = _week_of(min(e.day for e in experiences))
    last = _week_of(max(e.day for e in experiences))
    keys = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    counts = [len(safe_days.get(k, ())) for k in keys]
    rows = tuple((k.isoformat(), str(c)) for k, c in zip(keys, counts, strict=True))
    if _too_few((e.day for e in experiences), len(keys)):
        return _waiting(key, title, headers, _EXPERIENCES_TO_COME, rows)
    recent = counts[-4:]
    text = (
        f"{sum(1 for c in counts if c)} of {len(keys)} weeks had at least one safe "
        f"shared experience; the last {_plural(len(recent), 'week')} "
        f"had {_plural(sum(recent), 'safe day')} in all."
    )

    def build(axes: Axes) -> _Parts:
        # One stepped outline rather than a bar per week: the same picture, and a
        # single SVG path however long the history is.
        bars = axes.stairs([0], [-0.5, 0.5], fill=True, color=_SAGE)
        name = axes.text(
            1.03, 0, "safe days", transform=axes.get_yaxis_transform(), color=_GREY, va="center"
        )
        axes.set_ylim(0, 7)
        axes.set_yticks([0, 3, 5, 7])
        return [bars, name]

    def update(axes: Axes, parts: _Parts) -> None:
        parts[0].set_data(counts, [x - 0.5 for x in range(len(keys) + 1)])
        parts[1].set_y(max(0.4, min(6.6, counts[-1] / 2)))
        _date_ticks(axes, keys)

    draw = partial(_render, key, text, _NUMBERS, build, update)
    return Chart(key, title, draw, headers, rows, text)


_QUALITIES = ("authenticity", "vulnerability", "transparency", "presence")
_RATINGS_TO_COME = "After a couple of weeks of rating your shared practices, this fills in."


def qualities_chart(experiences: Sequence[ExperiencePoint]) -> Chart:
    """(d) The four qualities (0–4), weekly means of one person's ratings."""
    key, title = "qualities", "The four qualities, weekly average"
    headers = ("Week of", *(q.capitalize() for q in _QUALITIES))
    if not experiences:
        return _waiting(key, title, headers, _RATINGS_TO_COME)
    series = _means(experiences, _QUALITIES, weekly=True)
    rows = tuple((k.isoformat(), *(_fmt(v) for v in values)) for k, values in series)
    if _too_few((e.day for e in experiences), len(series)):
        return _waiting(key, title, headers, _RATINGS_TO_COME, rows)
    latest = dict(zip(_QUALITIES, series[-1][1], strict=True))
    strongest = max(_QUALITIES, key=lambda q: latest[q])
    text = (
        f"Across {_plural(len(series), 'week')} of ratings, "
        f"{strongest} was the strongest quality in the latest week "
        f"({_fmt(latest[strongest])} of 4)."
    )
    build = _lines_template(headers[1:], (_BLUE, _SAGE, _SAND, _LAVENDER), 4.6, (0, 1, 2, 3, 4))
    draw = partial(_render, key, text, _NUMBERS, build, _lines_update(series))
    return Chart(key, title, draw, headers, rows, text)


_CHANGE_WORDS = {
    "improved": "reliable improvement",
    "worse": "reliable worsening",
    "no reliable change": "no reliable change",
}
_SCORES: _Margins = (30.0, 40.0)


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
        return _waiting(key, title, headers, sentence)
    ordered = sorted(points, key=lambda p: p.day)
    rows = tuple(
        (p.day.isoformat(), _fmt(p.score), _CHANGE_WORDS.get(p.change or "", "")) for p in ordered
    )
    if len(ordered) < 2:
        return _waiting(key, title, headers, sentence, rows)
    better = [i for i, p in enumerate(ordered) if p.change == "improved"]
    worse = [i for i, p in enumerate(ordered) if p.change == "worse"]
    text = (
        f"{_plural(len(ordered), 'result')}, from "
        f"{_fmt(ordered[0].score)} to {_fmt(ordered[-1].score)}; "
        f"{_plural(len(better), 'reliable improvement')} and "
        f"{_plural(len(worse), 'reliable worsening')} between one result and the next."
    )

    def build(axes: Axes) -> _Parts:
        line = axes.plot([], [], color=_BLUE, linewidth=2.2, marker="o", markersize=4)[0]
        improved = axes.plot([], [], "D", color=_SAGE, markersize=9, linestyle="none")[0]
        worsened = axes.plot([], [], "s", color=_ROSE, markersize=9, linestyle="none")[0]
        names = [
            axes.annotate(
                word,
                (0, 0),
                xytext=(0, 9),
                textcoords="offset points",
                color=colour,
                fontsize=FONT_PX,
                annotation_clip=False,
            )
            for word, colour in (("improved", "#3f6e4c"), ("worsened", _ROSE))
        ]
        return [line, improved, worsened, *names]

    def update(axes: Axes, parts: _Parts) -> None:
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
        _date_ticks(axes, [p.day for p in ordered])

    draw = partial(_render, key, text, _SCORES, build, update)
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
    policy when none is given. The days with a safe shared experience are the
    couple's (see :func:`couple_dashboard`), so they are charted there, once.
    """
    charts = (
        activation_safety_chart(checkins),
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
    today: date | None = None,
    policy: ProgressPolicy | None = None,
) -> CoupleDashboard:
    """The couple's progress page, from shared data only: where they have reached
    (``tiers``: the changes of the decisions' ``ladder_tier``) and their safe days."""
    charts = (tier_chart(tiers, today), consistency_chart(shared))
    return CoupleDashboard(charts, (pain_without_losing_connection(shared, policy=policy),))
