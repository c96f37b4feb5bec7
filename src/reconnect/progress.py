"""Progress you can see: charts, the P6 markers, a weekly summary and reminders.

Plain functions over plain inputs. The storage layer assembles the inputs (one
person's own check-ins and ratings, or the couple's shared data) and the web layer
shows the results; nothing here reads a database or a request.

Charts are drawn by matplotlib into SVG on the server, through the object-oriented
``Figure`` API with the SVG canvas, so no interactive backend and no pyplot state is
involved. Each chart comes with a data table and a one-sentence text alternative.
"""

from __future__ import annotations

import io
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from functools import cached_property, partial
from html import escape
from itertools import pairwise
from operator import attrgetter
from typing import Any, ClassVar, Protocol, cast

import matplotlib as mpl
from icalendar import Alarm, Calendar, Event
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D

from reconnect import localtime
from reconnect.domain.checkins import CheckIn, State
from reconnect.domain.experiences import ExperienceRating
from reconnect.domain.pacing import Decision

__all__ = [
    "DAILY_SPAN_DAYS",
    "PROTECTION_MIN_CHECKINS",
    "PROTECTION_TREND_MARGIN",
    "PROTECTION_WINDOW_DAYS",
    "SEEN_SAFE_MIN_SAFETY",
    "Chart",
    "CheckInPoint",
    "CoupleDashboard",
    "ExperiencePoint",
    "Marker",
    "PersonDashboard",
    "ScorePoint",
    "SharedExperience",
    "TierPoint",
    "Trend",
    "WeeklySummary",
    "activation_safety_chart",
    "checkin_point",
    "consistency_chart",
    "couple_dashboard",
    "experience_point",
    "pain_without_losing_connection",
    "person_dashboard",
    "protection_less_often",
    "qualities_chart",
    "reminders_ics",
    "score_chart",
    "seen_and_still_safe",
    "setbacks",
    "tier_changes",
    "tier_chart",
    "tier_points",
    "urgency_readiness_chart",
    "weekly_summary",
]

# Up to this many days of history a chart shows one point per day; beyond it, one
# point per week, which keeps a three-year chart small and quick to draw.
DAILY_SPAN_DAYS = 56
# "Was seen and still felt safe": safety rated at least this after a vulnerable share.
SEEN_SAFE_MIN_SAFETY = 6
# "Protection less often the default": two windows of this many days are compared,
# each needs this many check-ins, and the share must move by at least the margin.
PROTECTION_WINDOW_DAYS = 28
PROTECTION_MIN_CHECKINS = 4
PROTECTION_TREND_MARGIN = 0.10

HARD_CONVERSATION_TIER = 4
TRANSPARENCY_TIER = 3
HIGH_ACTIVATION = 7

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


# --- inputs -------------------------------------------------------------------


def _check_scale(name: str, value: int, top: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise ValueError(f"{name} must be a whole number from 0 to {top}, not {value!r}")


@dataclass(frozen=True)
class CheckInPoint:
    """One check-in, reduced to what the charts need (a person's own data)."""

    day: date
    activation: int
    safety: int
    urgency: int
    readiness: int
    state: State

    def __post_init__(self) -> None:
        for name in ("activation", "safety", "urgency", "readiness"):
            _check_scale(name, getattr(self, name), 10)
        object.__setattr__(self, "state", State(self.state))


@dataclass(frozen=True)
class ExperiencePoint:
    """One person's rating of a shared practice, reduced to what the charts need.

    ``safe`` is whether the rating counted as safe under the pacing policy (the
    storage layer decides, from the policy); ``safety`` is the rating itself (0–10).
    ``vulnerable_share`` is only meaningful at tier 3 and refused elsewhere.
    """

    day: date
    tier: int
    safe: bool
    safety: int
    authenticity: int
    vulnerability: int
    transparency: int
    presence: int
    left: bool
    vulnerable_share: bool = False

    def __post_init__(self) -> None:
        _check_scale("tier", self.tier, 6)
        _check_scale("safety", self.safety, 10)
        for name in ("authenticity", "vulnerability", "transparency", "presence"):
            _check_scale(name, getattr(self, name), 4)
        if self.vulnerable_share and self.tier != TRANSPARENCY_TIER:
            raise ValueError("vulnerable_share applies only to tier-3 experiences")


@dataclass(frozen=True)
class SharedExperience:
    """A shared practice seen from the couple's side, with nothing private in it.

    ``safe``: both partners rated it safe. ``left``: at least one partner left
    (emotionally or physically).
    """

    day: date
    tier: int
    safe: bool
    left: bool

    def __post_init__(self) -> None:
        _check_scale("tier", self.tier, 6)


@dataclass(frozen=True)
class TierPoint:
    """The permitted tier from one stored decision."""

    at: datetime
    tier: int

    def __post_init__(self) -> None:
        _check_scale("tier", self.tier, 6)


@dataclass(frozen=True)
class ScorePoint:
    """One questionnaire result: its total, and the reliable change since the one
    before (``"improved"``, ``"worse"``, ``"no reliable change"``, or ``None`` for the
    first result or an instrument without reliable-change data)."""

    day: date
    score: float
    change: str | None = None


class _Dated(Protocol):
    @property
    def day(self) -> date: ...


class _SafeDay(_Dated, Protocol):
    @property
    def safe(self) -> bool: ...


class _TierLeft(_Dated, Protocol):
    @property
    def tier(self) -> int: ...

    @property
    def left(self) -> bool: ...


def checkin_point(checkin: CheckIn, zone: localtime.Zone = UTC) -> CheckInPoint:
    """The chart point for a stored check-in (its date in ``zone``; the note stays out)."""
    return CheckInPoint(
        day=localtime.local_day(checkin.recorded_at, zone),
        activation=checkin.activation,
        safety=checkin.safety,
        urgency=checkin.urgency,
        readiness=checkin.readiness,
        state=checkin.state,
    )


def experience_point(
    rating: ExperienceRating,
    *,
    safe: bool,
    vulnerable_share: bool = False,
    zone: localtime.Zone = UTC,
) -> ExperiencePoint:
    """The chart point for a stored rating (its date in ``zone``); ``safe`` comes from
    the pacing policy."""
    return ExperiencePoint(
        day=localtime.local_day(rating.occurred_at, zone),
        tier=rating.tier,
        safe=safe,
        safety=rating.safety,
        authenticity=rating.authenticity,
        vulnerability=rating.vulnerability,
        transparency=rating.transparency,
        presence=rating.presence,
        left=rating.left,
        vulnerable_share=vulnerable_share,
    )


def tier_points(decisions: Iterable[Decision]) -> tuple[TierPoint, ...]:
    """The permitted tier over time from stored decisions, oldest first."""
    points = (TierPoint(at=d.decided_at, tier=d.permitted_tier) for d in decisions)
    return tuple(sorted(points, key=lambda p: p.at))


def tier_changes(tiers: Iterable[TierPoint]) -> tuple[TierPoint, ...]:
    """The first permitted tier and every later change of it, oldest first.

    A decision is stored after each check-in, so the time of every decision would
    tell whoever sees them when a partner checked in. Only the changes are shared.
    """
    changes: list[TierPoint] = []
    for point in sorted(tiers, key=lambda p: p.at):
        if not changes or point.tier != changes[-1].tier:
            changes.append(point)
    return tuple(changes)


def setbacks(tiers: Sequence[TierPoint]) -> tuple[TierPoint, ...]:
    """The points where the tier went down from the one before."""
    ordered = sorted(tiers, key=lambda p: p.at)
    return tuple(b for a, b in pairwise(ordered) if b.tier < a.tier)


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


def consistency_chart(experiences: Sequence[_SafeDay]) -> Chart:
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


# --- P6 markers -----------------------------------------------------------------


class Trend(Enum):
    LESS_OFTEN = "less_often"
    ABOUT_THE_SAME = "about_the_same"
    MORE_OFTEN = "more_often"
    NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True)
class Marker:
    """One P6 marker as a plain sentence, with the count or trend and its dates."""

    key: str
    sentence: str
    count: int
    dates: tuple[date, ...]
    trend: Trend | None = None


def seen_and_still_safe(experiences: Sequence[ExperiencePoint]) -> Marker:
    """Tier-3 experiences with a vulnerable share, rated safety ≥ 6."""
    days = tuple(
        sorted(
            e.day
            for e in experiences
            if e.tier == TRANSPARENCY_TIER
            and e.vulnerable_share
            and e.safety >= SEEN_SAFE_MIN_SAFETY
        )
    )
    if days:
        times = "once" if len(days) == 1 else f"{len(days)} times"
        sentence = f"You shared something vulnerable and still felt safe {times}."
    else:
        sentence = "Sharing something vulnerable and still feeling safe has not happened yet."
    return Marker("seen-and-still-safe", sentence, len(days), days)


def pain_without_losing_connection(
    experiences: Sequence[_TierLeft], *, own: bool = False
) -> Marker:
    """Tier-4 hard conversations where nobody left.

    For the couple pass :class:`SharedExperience` (``left``: either partner left).
    For one person's page pass their :class:`ExperiencePoint` with ``own=True``:
    their rating only says whether *they* stayed, and the sentence says just that.
    """
    days = tuple(
        sorted(e.day for e in experiences if e.tier == HARD_CONVERSATION_TIER and not e.left)
    )
    times = "once" if len(days) == 1 else f"{len(days)} times"
    if days and own:
        sentence = f"You stayed present through a hard conversation {times}."
    elif days:
        sentence = f"Pain was expressed in a hard conversation and nobody left, {times}."
    elif own:
        sentence = "Staying present through a hard conversation has not happened yet."
    else:
        sentence = "A hard conversation where nobody left has not happened yet."
    return Marker("pain-without-losing-connection", sentence, len(days), days)


def protection_less_often(checkins: Sequence[CheckInPoint], today: date) -> Marker:
    """Share of check-ins outside the settled state: the latest 4 weeks against the 4 before.

    The latest window is the 28 days ending ``today``. Each window needs at least
    :data:`PROTECTION_MIN_CHECKINS` check-ins; the share has to move by at least
    :data:`PROTECTION_TREND_MARGIN` to count as a change. ``count`` is the number of
    check-ins outside the settled state in the latest window; ``dates`` are their days.
    """
    window = timedelta(days=PROTECTION_WINDOW_DAYS)
    latest_start, previous_start = (
        today - window + timedelta(days=1),
        today - 2 * window + timedelta(days=1),
    )
    latest = [c for c in checkins if latest_start <= c.day <= today]
    previous = [c for c in checkins if previous_start <= c.day < latest_start]
    unsettled = sorted(c.day for c in latest if c.state is not State.SETTLED)
    key = "protection-less-often"
    if len(latest) < PROTECTION_MIN_CHECKINS or len(previous) < PROTECTION_MIN_CHECKINS:
        sentence = "It is too early to say whether protection is less often the default."
        return Marker(key, sentence, len(unsettled), tuple(unsettled), Trend.NOT_ENOUGH_DATA)
    share_now = len(unsettled) / len(latest)
    share_before = sum(1 for c in previous if c.state is not State.SETTLED) / len(previous)
    percent = f"{round(share_now * 100)}% of check-ins (from {round(share_before * 100)}%)"
    # Rounded so that exactly the margin counts (0.6 - 0.5 is not 0.1 in floats).
    change = round(share_now - share_before, 9)
    if change <= -PROTECTION_TREND_MARGIN:
        trend = Trend.LESS_OFTEN
        sentence = f"Protection is less often the default: revved up or shut down in {percent}."
    elif change >= PROTECTION_TREND_MARGIN:
        trend = Trend.MORE_OFTEN
        sentence = f"Protection has been needed more often lately: {percent}."
    else:
        trend = Trend.ABOUT_THE_SAME
        sentence = f"Protection is needed about as often as before: {percent}."
    return Marker(key, sentence, len(unsettled), tuple(unsettled), trend)


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
) -> PersonDashboard:
    """Everything on one person's progress page, from their own data only.

    ``scores`` are the questionnaire charts (see :func:`score_chart`), one for each
    instrument the person has answered.
    """
    charts = (
        activation_safety_chart(checkins),
        consistency_chart(experiences),
        qualities_chart(experiences),
        urgency_readiness_chart(checkins),
        *scores,
    )
    markers = (
        seen_and_still_safe(experiences),
        pain_without_losing_connection(experiences, own=True),
        protection_less_often(checkins, today),
    )
    return PersonDashboard(charts, markers)


def couple_dashboard(
    tiers: Sequence[TierPoint], shared: Sequence[SharedExperience]
) -> CoupleDashboard:
    """The couple's progress page, from shared data only."""
    charts = (tier_chart(tiers), consistency_chart(shared))
    return CoupleDashboard(charts, (pain_without_losing_connection(shared),))


# --- weekly summary ---------------------------------------------------------------


@dataclass(frozen=True)
class WeeklySummary:
    """One week in four parts, as data for the summary page."""

    week_of: date
    went_well: tuple[str, ...]
    was_hard: tuple[str, ...]
    pace: str
    to_try: tuple[str, ...]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def weekly_summary(
    week_of: date,
    *,
    checkins: Sequence[CheckInPoint] = (),
    experiences: Sequence[ExperiencePoint | SharedExperience] = (),
    tiers: Sequence[TierPoint] = (),
) -> WeeklySummary:
    """The week starting on the Monday of ``week_of``.

    For one person pass their own check-ins and ratings; for the couple pass shared
    experiences and the tier history (and no check-ins).
    """
    start = _week_of(week_of)
    end = start + timedelta(days=7)
    week_checkins = [c for c in checkins if start <= c.day < end]
    week_experiences = [e for e in experiences if start <= e.day < end]
    ordered = sorted(tiers, key=lambda t: t.at)
    week_tiers = [t for t in ordered if start <= t.at.date() < end]
    before = [t for t in ordered if t.at.date() < start]

    went_well: list[str] = []
    was_hard: list[str] = []
    to_try: list[str] = []
    safe_days = {e.day for e in week_experiences if e.safe}
    if safe_days:
        went_well.append(f"Safe shared experiences on {_plural(len(safe_days), 'day')}.")
    stayed = [e for e in week_experiences if e.tier == HARD_CONVERSATION_TIER and not e.left]
    if stayed:
        went_well.append(f"{_plural(len(stayed), 'hard conversation')} without anyone leaving.")
    if any(
        isinstance(e, ExperiencePoint) and e.vulnerable_share and e.safety >= SEEN_SAFE_MIN_SAFETY
        for e in week_experiences
    ):
        went_well.append("You shared something vulnerable and still felt safe.")
    if week_checkins:
        went_well.append(f"{_plural(len(week_checkins), 'check-in')} with yourself.")

    unsafe = [e for e in week_experiences if not e.safe]
    if unsafe:
        was_hard.append(f"{_plural(len(unsafe), 'shared experience')} did not feel safe.")
    left = [e for e in week_experiences if e.left]
    if left:
        was_hard.append(f"Someone left during {_plural(len(left), 'practice')}.")
    high_days = {c.day for c in week_checkins if c.activation >= HIGH_ACTIVATION}
    if high_days:
        was_hard.append(f"High activation on {_plural(len(high_days), 'day')}.")
    week_setbacks = [p for p in setbacks([*before[-1:], *week_tiers]) if p.at.date() >= start]
    if week_setbacks:
        was_hard.append(f"The tier stepped back {_plural(len(week_setbacks), 'time')}.")

    if week_tiers:
        first = before[-1].tier if before else week_tiers[0].tier
        last = week_tiers[-1].tier
        pace = f"The permitted tier went from {first} to {last} this week."
    elif before:
        pace = f"The permitted tier stayed at {before[-1].tier} this week."
    else:
        pace = "The pace has not been worked out yet."

    if high_days or week_setbacks:
        to_try.append("Start each day with a few minutes of settling on your own (tier 0).")
    if any(c.urgency > c.readiness for c in week_checkins):
        to_try.append("When the pull to reconnect is strong, notice it and check readiness first.")
    if len(safe_days) < 2:
        to_try.append("Aim for short, safe practices on two or three separate days.")
    if not to_try:
        to_try.append("Keep the rhythm: repeated safe days matter more than big steps.")
    return WeeklySummary(start, tuple(went_well), tuple(was_hard), pace, tuple(to_try))


# --- reminders ----------------------------------------------------------------------

REMINDER_TITLE = "Reconnect: a minute for yourself"
REMINDER_DESCRIPTION = "Time for a short check-in in Reconnect."
REMINDER_MINUTES = 5


def reminders_ics(person_label: str, next_checkins: list[datetime], now: datetime) -> bytes:
    """An iCalendar file with one event (and an alarm) per upcoming check-in.

    Titles are neutral and carry nothing private; ``person_label`` only seeds the
    events' stable ids, so it never appears in the file. Times before ``now`` and
    repeats are dropped. Every time must carry a time zone; each event keeps the zone
    its time was given in (TZID, with its VTIMEZONE), so it stays at that local hour.
    """
    for moment in (now, *next_checkins):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("reminder times need a time zone")
    calendar = Calendar()
    calendar.add("prodid", "-//Reconnect//check-in reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Reconnect check-ins")
    namespace = uuid.uuid5(uuid.NAMESPACE_OID, f"reconnect:{person_label}")
    for start in sorted({t for t in next_checkins if t > now}):
        event = Event()
        stamp = start.astimezone(UTC).isoformat()  # the same id whatever the zone
        event.add("uid", f"{uuid.uuid5(namespace, stamp)}@reconnect")
        event.add("dtstamp", now)
        event.add("dtstart", start)
        event.add("duration", timedelta(minutes=REMINDER_MINUTES))
        event.add("summary", REMINDER_TITLE)
        event.add("description", REMINDER_DESCRIPTION)
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", REMINDER_TITLE)
        alarm.add("trigger", timedelta(0))
        event.add_component(alarm)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
