"""The progress charts and the dashboards that gather them.

Each chart comes with a data table and a one-sentence text alternative, and is drawn
into SVG on the server (see :mod:`reconnect.progress.drawing`). A dashboard is
everything on one progress page: its charts, and the markers from
``reconnect.domain.progress``. The questionnaire charts are in
:mod:`reconnect.progress.scores`. The inputs are the domain's plain points; nothing
here reads a database or a request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from operator import attrgetter
from typing import Any

from matplotlib.axes import Axes

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
    SharedExperience,
    TierPoint,
    setbacks,
)
from reconnect.domain.progress.policy import ProgressPolicy
from reconnect.progress.drawing import (
    BLUE,
    DRAWING,
    FONT_PX,
    GREY,
    INK,
    LAVENDER,
    MIN_DAYS,
    NUMBERS,
    PLOT_HEIGHT_PX,
    ROSE,
    SAGE,
    SAND,
    WIDTH_PX,
    Chart,
    Margins,
    Parts,
    date_ticks,
    fmt,
    plural,
    render,
    spread,
    too_few,
    waiting,
)
from reconnect.progress.scores import pair_score_chart, score_chart

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
    "kept_chart",
    "pair_score_chart",
    "person_dashboard",
    "qualities_chart",
    "ritual_chart",
    "score_chart",
    "tier_chart",
    "urgency_readiness_chart",
]

# Up to this many days of history a chart shows one point per day; beyond it, one
# point per week, which keeps a three-year chart small and quick to draw.
DAILY_SPAN_DAYS = 56


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


def _step(number: int) -> Tier:
    return load_catalogue().tier(number)


def _lines_template(
    labels: Sequence[str], colours: Sequence[str], top: float, yticks: Sequence[int]
) -> Callable[[Axes], Parts]:
    styles = ("-", "--", "-.", ":")

    def build(axes: Axes) -> Parts:
        lines = []
        for i, (label, colour) in enumerate(zip(labels, colours, strict=True)):
            line = axes.plot([], [], styles[i], color=colour, label=label, linewidth=2.2)[0]
            # Each line's name at its end, in its colour: no legend to decode.
            name = axes.text(
                1.03,
                0,
                label,
                transform=axes.get_yaxis_transform(),
                color=INK[colour],
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


def _lines_update(series: list[tuple[date, tuple[float, ...]]]) -> Callable[[Axes, Parts], None]:
    def update(axes: Axes, parts: Parts) -> None:
        xs = list(range(len(series)))
        low, high = axes.get_ylim()
        gap = (high - low) * (FONT_PX * 1.2) / PLOT_HEIGHT_PX
        ends = spread([series[-1][1][i] for i in range(len(parts))], gap, low, high)
        for index, (line, name) in enumerate(parts):
            line.set_data(xs, [values[index] for _, values in series])
            name.set_y(ends[index])
        date_ticks(axes, [k for k, _ in series])

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
        return waiting(key, title, ("Day", *headers), _CHECK_INS_TO_COME)
    weekly, first_header = _bucket(p.day for p in points)
    series = _means(points, fields, weekly)
    rows = tuple((k.isoformat(), *(fmt(v) for v in values)) for k, values in series)
    if too_few((p.day for p in points), len(series)):
        return waiting(key, title, (first_header, *headers), _CHECK_INS_TO_COME, rows)
    text = describe(series, weekly)
    build = _lines_template(labels, (BLUE, SAGE), 10.4, (0, 5, 10))
    draw = partial(render, key, text, NUMBERS, build, _lines_update(series))
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
            f"({fmt(a0)} to {fmt(a1)}) and felt safety {_trend_words(s0, s1)} "
            f"({fmt(s0)} to {fmt(s1)})."
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
_STEP_NAMES: Margins = (124.0, 16.0)


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
        return waiting(key, title, ("Day", *headers), sentence)
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
        return waiting(key, title, (first_header, *headers), sentence, rows)
    total = sum(counts)
    began, now = _step(ordered[0].tier).name, _step(reached[-1]).name
    text = f"Now at {now}" if began == now else f"From {began} at the start to {now} now"
    if total:
        text += f", with {plural(total, 'step')} back along the way, part of the path"
    text += "."
    top = min(6, max(reached) + 1)

    def build(axes: Axes) -> Parts:
        line = axes.plot([], [], drawstyle="steps-mid", color=BLUE, linewidth=2.4)[0]
        marks = axes.plot([], [], "v", color=ROSE, markersize=9, linestyle="none")[0]
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

    def update(axes: Axes, parts: Parts) -> None:
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
        date_ticks(axes, keys)

    draw = partial(render, key, text, _STEP_NAMES, build, update)
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
        return waiting(key, title, headers, _EXPERIENCES_TO_COME)
    safe_days: dict[date, set[date]] = defaultdict(set)
    for item in experiences:
        if item.safe:
            safe_days[_week_of(item.day)].add(item.day)
    first = _week_of(min(e.day for e in experiences))
    last = _week_of(max(e.day for e in experiences))
    keys = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    counts = [len(safe_days.get(k, ())) for k in keys]
    rows = tuple((k.isoformat(), str(c)) for k, c in zip(keys, counts, strict=True))
    if too_few((e.day for e in experiences), len(keys)):
        return waiting(key, title, headers, _EXPERIENCES_TO_COME, rows)
    recent = counts[-4:]
    text = (
        f"{sum(1 for c in counts if c)} of {len(keys)} weeks had at least one safe "
        f"shared experience; the last {plural(len(recent), 'week')} "
        f"had {plural(sum(recent), 'safe day')} in all."
    )
    # One stepped outline rather than a bar per week: the same picture, and a single
    # SVG path however long the history is.
    return _weekly_days(key, title, headers, rows, keys, counts, text, "safe days")


def _weekly_days(
    key: str,
    title: str,
    headers: tuple[str, ...],
    rows: tuple[tuple[str, ...], ...],
    weeks: Sequence[date],
    counts: Sequence[int],
    text: str,
    word: str,
) -> Chart:
    """Days per week as one stepped outline, named ``word`` at its end."""

    def build(axes: Axes) -> Parts:
        bars = axes.stairs([0], [-0.5, 0.5], fill=True, color=SAGE)
        name = axes.text(
            1.03, 0, word, transform=axes.get_yaxis_transform(), color=GREY, va="center"
        )
        axes.set_ylim(0, 7)
        axes.set_yticks([0, 3, 5, 7])
        return [bars, name]

    def update(axes: Axes, parts: Parts) -> None:
        parts[0].set_data(list(counts), [x - 0.5 for x in range(len(weeks) + 1)])
        parts[1].set_y(max(0.4, min(6.6, counts[-1] / 2)))
        date_ticks(axes, weeks)

    draw = partial(render, key, text, NUMBERS, build, update)
    return Chart(key, title, draw, headers, rows, text)


_WEEKS_TO_COME = "Once a few days are recorded, the weeks show here."


def kept_chart(key: str, title: str, weeks: Sequence[tuple[date, int, int, int]]) -> Chart:
    """A commitment's days kept, week by week (Monday, kept, not kept, noticed): a
    record of consistency over time, never a score of the person."""
    headers = ("Week of", "Days kept", "Days not kept", "Kept days noticed")
    rows = tuple((w.isoformat(), str(k), str(n), str(s)) for w, k, n, s in weeks)
    if len(weeks) < 2:
        return waiting(key, title, headers, _WEEKS_TO_COME, rows)
    kept, recorded = sum(w[1] for w in weeks), sum(w[1] + w[2] for w in weeks)
    noticed = sum(w[3] for w in weeks)
    text = (
        f"Over {plural(len(weeks), 'week')}, kept on {kept} of the {plural(recorded, 'day')} "
        f"recorded; {plural(noticed, 'kept day')} noticed by the other partner."
    )
    mondays, counts = [w[0] for w in weeks], [w[1] for w in weeks]
    return _weekly_days(key, title, headers, rows, mondays, counts, text, "days kept")


def ritual_chart(key: str, title: str, weeks: Sequence[tuple[date, int]]) -> Chart:
    """A ritual's days done, week by week (Monday, days done)."""
    headers = ("Week of", "Days done")
    rows = tuple((w.isoformat(), str(n)) for w, n in weeks)
    if len(weeks) < 2:
        return waiting(key, title, headers, _WEEKS_TO_COME, rows)
    done = sum(n for _, n in weeks)
    text = f"Over {plural(len(weeks), 'week')}, done on {plural(done, 'day')}."
    mondays, counts = [w[0] for w in weeks], [w[1] for w in weeks]
    return _weekly_days(key, title, headers, rows, mondays, counts, text, "days done")


_QUALITIES = ("authenticity", "vulnerability", "transparency", "presence")
_RATINGS_TO_COME = "After a couple of weeks of rating your shared practices, this fills in."


def qualities_chart(experiences: Sequence[ExperiencePoint]) -> Chart:
    """(d) The four qualities (0–4), weekly means of one person's ratings."""
    key, title = "qualities", "The four qualities, weekly average"
    headers = ("Week of", *(q.capitalize() for q in _QUALITIES))
    if not experiences:
        return waiting(key, title, headers, _RATINGS_TO_COME)
    series = _means(experiences, _QUALITIES, weekly=True)
    rows = tuple((k.isoformat(), *(fmt(v) for v in values)) for k, values in series)
    if too_few((e.day for e in experiences), len(series)):
        return waiting(key, title, headers, _RATINGS_TO_COME, rows)
    latest = dict(zip(_QUALITIES, series[-1][1], strict=True))
    strongest = max(_QUALITIES, key=lambda q: latest[q])
    text = (
        f"Across {plural(len(series), 'week')} of ratings, "
        f"{strongest} was the strongest quality in the latest week "
        f"({fmt(latest[strongest])} of 4)."
    )
    build = _lines_template(headers[1:], (BLUE, SAGE, SAND, LAVENDER), 4.6, (0, 1, 2, 3, 4))
    draw = partial(render, key, text, NUMBERS, build, _lines_update(series))
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
    kept: Sequence[Chart] = (),
) -> CoupleDashboard:
    """The couple's progress page, from shared data only: where they have reached
    (``tiers``: the changes of the decisions' ``ladder_tier``), their safe days, and
    ``kept``: each commitment's weeks (see :func:`kept_chart`)."""
    charts = (tier_chart(tiers, today), consistency_chart(shared), *kept)
    return CoupleDashboard(charts, (pain_without_losing_connection(shared, policy=policy),))
