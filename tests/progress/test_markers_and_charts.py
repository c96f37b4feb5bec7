"""The pure core of the progress section: charts, markers, summary, reminders."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from reconnect.domain.pacing.checkins import CheckIn, State
from reconnect.domain.pacing.experiences import ExperienceRating
from reconnect.domain.progress.markers import (
    Trend,
    pain_without_losing_connection,
    protection_less_often,
    seen_and_still_safe,
)
from reconnect.domain.progress.points import (
    CheckInPoint,
    ExperiencePoint,
    ScorePoint,
    SharedExperience,
    TierPoint,
    setbacks,
    tier_changes,
)
from reconnect.progress.calendar import reminders_ics
from reconnect.progress.charts import (
    DAILY_SPAN_DAYS,
    FONT_PX,
    MIN_DAYS,
    WIDTH_PX,
    Chart,
    activation_safety_chart,
    consistency_chart,
    couple_dashboard,
    pair_score_chart,
    person_dashboard,
    qualities_chart,
    score_chart,
    tier_chart,
    urgency_readiness_chart,
)
from reconnect.progress.summary import weekly_summary
from reconnect.progress.view import checkin_point, experience_point

MONDAY = date(2026, 3, 2)
TUESDAY = MONDAY + timedelta(1)
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def checkin(
    day: date, *, activation: int = 3, state: State = State.SETTLED, **kw: int
) -> CheckInPoint:
    values = {"safety": 6, "urgency": 4, "readiness": 5, **kw}
    return CheckInPoint(day=day, activation=activation, state=state, **values)


def experience(
    day: date,
    *,
    tier: int = 2,
    safe: bool = True,
    safety: int = 7,
    left: bool = False,
    vulnerable_share: bool = False,
) -> ExperiencePoint:
    return ExperiencePoint(day, tier, safe, safety, 3, 2, 3, 4, left, vulnerable_share)


def days(count: int, start: date = MONDAY) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]


def assert_valid_chart(chart: Chart) -> ET.Element:
    assert chart.svg is not None
    root = ET.fromstring(chart.svg)  # noqa: S314 (our own output, not untrusted input)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text == chart.text
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", chart.svg))
    assert urls <= NAMESPACES, urls
    assert "@font-face" not in chart.svg and "<image" not in chart.svg
    assert "<script" not in chart.svg and "<a " not in chart.svg
    assert chart.text.endswith(".") and chart.text.count(". ") == 0
    assert all(len(row) == len(chart.headers) for row in chart.rows)
    return root


# --- charts ---------------------------------------------------------------------


def test_activation_chart_has_a_row_per_day_for_a_short_history() -> None:
    points = [checkin(d, activation=i % 10) for i, d in enumerate(days(10))]
    points.append(checkin(MONDAY, activation=5))  # a second check-in that day: averaged
    chart = activation_safety_chart(points)
    assert_valid_chart(chart)
    assert chart.headers == ("Day", "Activation (0–10)", "Felt safety (0–10)")
    assert len(chart.rows) == 10
    assert chart.rows[0] == (MONDAY.isoformat(), "2.5", "6.0")


def test_long_histories_are_grouped_by_week() -> None:
    points = [checkin(d) for d in days(DAILY_SPAN_DAYS + 1)]
    chart = activation_safety_chart(points)
    assert chart.headers[0] == "Week of"
    assert len(chart.rows) == 9
    short = activation_safety_chart(points[:DAILY_SPAN_DAYS])
    assert short.headers[0] == "Day" and len(short.rows) == DAILY_SPAN_DAYS


def test_urgency_chart_names_days_where_urgency_ran_ahead() -> None:
    points = [checkin(MONDAY, urgency=9, readiness=2), *(checkin(d) for d in days(2, TUESDAY))]
    chart = urgency_readiness_chart(points)
    assert_valid_chart(chart)
    assert chart.rows == (
        (MONDAY.isoformat(), "9.0", "2.0"),
        (TUESDAY.isoformat(), "4.0", "5.0"),
        ((TUESDAY + timedelta(1)).isoformat(), "4.0", "5.0"),
    )
    assert "1 of 3 days" in chart.text


def test_the_reached_chart_names_each_step_and_marks_steps_back() -> None:
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    tiers = [TierPoint(start + timedelta(days=i), t) for i, t in enumerate([1, 2, 2, 1, 3])]
    assert [p.tier for p in setbacks(tiers)] == [1]
    chart = tier_chart(tiers, today=MONDAY + timedelta(days=6))
    root = assert_valid_chart(chart)
    assert chart.title == "Where you have reached together"
    assert chart.headers == ("Day", "Step reached", "Steps back")
    # Every day up to today, with the step reached by its short name.
    assert [row[1] for row in chart.rows] == [
        "Near each other",
        "Daily check-ins",
        "Daily check-ins",
        "Near each other",
        "Openness offered",
        "Openness offered",
        "Openness offered",
    ]
    assert [row[2] for row in chart.rows] == ["0", "0", "0", "1", "0", "0", "0"]
    assert chart.text == (
        "From Being near each other at the start to Transparency that is offered now, "
        "with 1 step back along the way, part of the path."
    )
    words = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"Near each other", "Openness offered", "step back"} <= words
    assert not any("tier" in w.lower() for w in words if w)


def test_only_tier_changes_are_kept_so_decision_times_stay_private() -> None:
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    decided = [1, 1, 2, 2, 2, 1, 1, 3]
    tiers = [TierPoint(start + timedelta(hours=7 * i), t) for i, t in enumerate(decided)]
    changes = tier_changes(reversed(tiers))
    assert [(p.at, p.tier) for p in changes] == [(tiers[i].at, tiers[i].tier) for i in (0, 2, 5, 7)]
    # A decision at the same tier on a day of its own changes nothing anyone sees.
    extra = TierPoint(start + timedelta(days=30), 3)
    assert tier_changes([*tiers, extra]) == changes
    assert tier_chart(tier_changes([*tiers, extra])) == tier_chart(changes)
    assert [p.tier for p in setbacks(changes)] == [1]


def test_the_score_chart_marks_each_reliable_change() -> None:
    points = [
        ScorePoint(MONDAY, 24),
        ScorePoint(MONDAY + timedelta(weeks=3), 22, "no reliable change"),
        ScorePoint(MONDAY + timedelta(weeks=6), 12, "improved"),
        ScorePoint(MONDAY + timedelta(weeks=9), 21, "worse"),
    ]
    chart = score_chart("scores-phq-9", "PHQ-9", points, 27)
    root = assert_valid_chart(chart)
    assert chart.headers == ("Date", "Score", "Reliable change")
    assert [row[2] for row in chart.rows] == [
        "",
        "no reliable change",
        "reliable improvement",
        "reliable worsening",
    ]
    assert chart.text == (
        "4 results, from 24.0 to 21.0; 1 reliable improvement and 1 reliable worsening "
        "between one result and the next."
    )
    # Drawn: a dot per result, then one diamond and one square.
    assert root is not None and chart.svg is not None
    assert chart.svg.count("<use ") == 4 + 1 + 1
    again = score_chart("scores-phq-9", "PHQ-9", points[:2], 27)
    assert again.svg != chart.svg, "the kept figure is redrawn with the new data"
    assert "0 reliable improvements and 0 reliable worsenings" in again.text


def test_both_partners_scores_share_one_chart_on_the_same_dates() -> None:
    hurt = [
        ScorePoint(MONDAY, 24),
        ScorePoint(MONDAY + timedelta(weeks=2), 8, "improved"),
    ]
    involved = [
        ScorePoint(MONDAY + timedelta(days=1), 0),
        ScorePoint(MONDAY + timedelta(weeks=2, days=3), 16, "worse"),
    ]
    partners = [("Hurt partner", hurt), ("Involved partner", involved)]
    chart = pair_score_chart("scores-phq-9", "PHQ-9", partners, 27)
    root = assert_valid_chart(chart)
    assert chart.headers == ("Date", "Partner", "Score", "Reliable change")
    assert [row[1:] for row in chart.rows] == [
        ("Hurt partner", "24.0", ""),
        ("Involved partner", "0.0", ""),
        ("Hurt partner", "8.0", "reliable improvement"),
        ("Involved partner", "16.0", "reliable worsening"),
    ]
    assert chart.text == (
        "Hurt partner: 2 results, from 24.0 to 8.0, 1 reliable improvement and "
        "0 reliable worsenings; involved partner: 2 results, from 0.0 to 16.0, "
        "0 reliable improvements and 1 reliable worsening."
    )
    # Each line named at its end; a dot per result, then one diamond and one square.
    words = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"Hurt partner", "Involved partner", "improved", "worsened"} <= set(words)
    assert chart.svg is not None and chart.svg.count("<use ") == 4 + 1 + 1
    # The same drawing for a PDF.
    assert chart.draw_png is not None and chart.draw_png().startswith(b"\x89PNG")
    # One partner alone still draws, with one name; a single result in all does not.
    alone = pair_score_chart("scores-phq-9", "PHQ-9", partners[:1], 27)
    alone_words = {"".join(t.itertext()) for t in assert_valid_chart(alone).iter()}
    assert "Hurt partner" in alone_words and "Involved partner" not in alone_words
    first = pair_score_chart("scores-phq-9", "PHQ-9", [("Hurt partner", hurt[:1])], 27)
    assert first.empty and first.rows == ((MONDAY.isoformat(), "Hurt partner", "24.0", ""),)


def test_consistency_counts_distinct_safe_days_and_keeps_empty_weeks() -> None:
    items = [
        experience(MONDAY),
        experience(MONDAY),  # same day twice counts once
        experience(MONDAY + timedelta(1)),
        experience(MONDAY + timedelta(2), safe=False),
        experience(MONDAY + timedelta(15)),
    ]
    chart = consistency_chart(items)
    assert_valid_chart(chart)
    assert chart.rows == (
        (MONDAY.isoformat(), "2"),
        ((MONDAY + timedelta(7)).isoformat(), "0"),
        ((MONDAY + timedelta(14)).isoformat(), "1"),
    )
    shared = [SharedExperience(MONDAY, 2, safe=True, left=False)]
    assert consistency_chart(shared).rows == ((MONDAY.isoformat(), "1"),)


def test_qualities_chart_gives_weekly_means() -> None:
    items = [experience(d) for d in days(10)]
    chart = qualities_chart(items)
    assert_valid_chart(chart)
    assert chart.headers == ("Week of", "Authenticity", "Vulnerability", "Transparency", "Presence")
    assert chart.rows[0] == (MONDAY.isoformat(), "3.0", "2.0", "3.0", "4.0")
    assert len(chart.rows) == 2
    assert "presence" in chart.text


@pytest.mark.parametrize(
    "chart",
    [
        activation_safety_chart([]),
        urgency_readiness_chart([]),
        tier_chart([]),
        consistency_chart([]),
        qualities_chart([]),
        score_chart("scores-phq-9", "PHQ-9", [], 27),
    ],
    ids=lambda c: c.key,
)
def test_no_data_gives_a_sentence_not_an_empty_chart(chart: Chart) -> None:
    assert chart.empty and chart.svg is None
    assert chart.rows == ()
    assert "fills in" in chart.text or "show" in chart.text
    assert chart.headers


def test_charts_on_one_page_do_not_share_element_ids() -> None:
    dashboard = person_dashboard(
        [checkin(d) for d in days(5)], [experience(d) for d in days(9)], MONDAY
    )
    seen: set[str] = set()
    for chart in dashboard.charts:
        assert chart.svg is not None
        ids = set(re.findall(r'id="([^"]+)"', chart.svg)) - {
            "figure_1",
            "axes_1",
            "patch_1",
            "patch_2",
        }
        clip_and_marks = {i for i in ids if re.fullmatch(r"[pm][0-9a-f]{8,}", i)}
        assert not clip_and_marks & seen
        seen |= clip_and_marks


def test_three_years_stay_small() -> None:
    many = [checkin(d, activation=d.toordinal() % 11) for d in days(3 * 365)]
    chart = activation_safety_chart(many)
    assert chart.svg is not None and len(chart.svg) < 40_000
    assert len(chart.rows) <= 160


def test_points_come_from_stored_entries_without_the_note() -> None:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    stored = CheckIn(5, State.REVVED_UP, 6, 7, 3, at, note="private words")
    assert checkin_point(stored) == CheckInPoint(MONDAY, 5, 6, 7, 3, State.REVVED_UP)
    rating = ExperienceRating(
        "share-one-thing", 3, at, 8, 4, 3, "left_emotionally", False, 3, 4, 2, 3, note="x"
    )
    point = experience_point(rating, safe=True, vulnerable_share=True)
    assert point.left and point.tier == 3 and point.vulnerable_share


def test_bad_points_are_refused() -> None:
    with pytest.raises(ValueError, match="activation"):
        checkin(MONDAY, activation=11)
    with pytest.raises(ValueError, match="tier-3"):
        experience(MONDAY, tier=4, vulnerable_share=True)
    with pytest.raises(ValueError, match="tier"):
        TierPoint(datetime(2026, 3, 2, tzinfo=UTC), 7)


# --- markers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "share", "safety", "counted"),
    [
        (3, True, 6, True),
        (3, True, 5, False),
        (3, False, 9, False),
        (2, False, 9, False),
    ],
)
def test_seen_and_still_safe_needs_a_tier3_share_rated_at_least_6(
    tier: int, share: bool, safety: int, counted: bool
) -> None:
    marker = seen_and_still_safe(
        [experience(MONDAY, tier=tier, vulnerable_share=share, safety=safety)]
    )
    assert marker.count == int(counted)
    assert marker.dates == ((MONDAY,) if counted else ())
    assert marker.sentence.endswith(".")


@pytest.mark.parametrize(
    ("tier", "left", "counted"),
    [(4, False, True), (4, True, False), (3, False, False), (5, False, False)],
)
def test_pain_without_losing_connection_needs_tier4_and_nobody_leaving(
    tier: int, left: bool, counted: bool
) -> None:
    shared = [SharedExperience(MONDAY, tier, safe=True, left=left)]
    assert pain_without_losing_connection(shared).count == int(counted)
    assert "nobody left" in pain_without_losing_connection(shared).sentence
    own = [experience(MONDAY, tier=tier, left=left)]
    marker = pain_without_losing_connection(own, own=True)
    assert marker.dates == ((MONDAY,) if counted else ())
    assert "nobody" not in marker.sentence and "tay" in marker.sentence


def windows(
    previous_unsettled: int, latest_unsettled: int, per_window: int = 10
) -> list[CheckInPoint]:
    """Check-ins in the 4 weeks before TODAY's window and in it."""
    points = []
    for offset, unsettled in ((28, previous_unsettled), (0, latest_unsettled)):
        for i in range(per_window):
            day = TODAY - timedelta(days=offset + i)
            state = State.REVVED_UP if i < unsettled else State.SETTLED
            points.append(checkin(day, state=state))
    return points


TODAY = date(2026, 4, 30)


@pytest.mark.parametrize(
    ("before", "now", "trend"),
    [
        (6, 5, Trend.LESS_OFTEN),  # 60% -> 50%: exactly the margin
        (7, 6, Trend.LESS_OFTEN),  # 70% -> 60%: exactly the margin, where floats wobble
        (3, 2, Trend.LESS_OFTEN),
        (6, 6, Trend.ABOUT_THE_SAME),
        (6, 7, Trend.MORE_OFTEN),  # 60% -> 70%
        (5, 6, Trend.MORE_OFTEN),
    ],
)
def test_protection_trend_compares_the_latest_4_weeks_with_the_4_before(
    before: int, now: int, trend: Trend
) -> None:
    marker = protection_less_often(windows(before, now), TODAY)
    assert marker.trend is trend
    assert marker.count == now and len(marker.dates) == now


def test_protection_trend_within_the_margin_is_about_the_same() -> None:
    points = [*windows(6, 6, per_window=10), checkin(TODAY, state=State.SETTLED)]  # 60% -> 54.5%
    assert protection_less_often(points, TODAY).trend is Trend.ABOUT_THE_SAME


@pytest.mark.parametrize(
    ("per_window", "trend"), [(3, Trend.NOT_ENOUGH_DATA), (4, Trend.LESS_OFTEN)]
)
def test_protection_trend_needs_4_checkins_in_each_window(per_window: int, trend: Trend) -> None:
    marker = protection_less_often(windows(per_window, 0, per_window=per_window), TODAY)
    assert marker.trend is trend


# --- dashboards and summary ---------------------------------------------------------


def test_dashboards_hold_every_chart_and_marker() -> None:
    person = person_dashboard([], [], MONDAY)
    # The days with a safe shared experience are the couple's: charted there, once.
    assert [c.key for c in person.charts] == [
        "activation-safety",
        "qualities",
        "urgency-readiness",
    ]
    assert all(c.empty for c in person.charts)
    assert len(person.markers) == 3
    couple = couple_dashboard([], [])
    assert [c.key for c in couple.charts] == ["tier", "consistency"]
    assert [m.key for m in couple.markers] == ["pain-without-losing-connection"]


def test_weekly_summary_names_what_went_well_and_what_was_hard() -> None:
    start = datetime(2026, 3, 1, 20, tzinfo=UTC)
    tiers = [
        TierPoint(start + timedelta(days=2), 2),
        TierPoint(start, 3),
        TierPoint(start - timedelta(days=5), 1),
    ]
    summary = weekly_summary(
        MONDAY + timedelta(days=3),
        checkins=[
            checkin(MONDAY, activation=8, urgency=9, readiness=2),
            checkin(MONDAY - timedelta(1)),
        ],
        experiences=[
            experience(MONDAY, tier=3, vulnerable_share=True),
            experience(MONDAY + timedelta(1), tier=4),
            experience(MONDAY + timedelta(2), safe=False, left=True),
        ],
        tiers=tiers,
    )
    assert summary.week_of == MONDAY
    assert "Safe shared experiences on 2 days." in summary.went_well
    assert "1 hard conversation without anyone leaving." in summary.went_well
    assert "1 check-in with yourself." in summary.went_well
    assert "High activation on 1 day." in summary.was_hard
    assert "You went back a step together once." in summary.was_hard
    assert summary.pace == (
        "You went back from “Transparency that is offered” to “A daily check-in, no fixing” "
        "this week, to steady things; going back a step is part of the path."
    )
    assert len(summary.to_try) == 2


def test_a_quiet_week_still_has_a_pace_and_something_to_try() -> None:
    summary = weekly_summary(MONDAY, together=True)
    assert summary.went_well == () and summary.was_hard == ()
    assert summary.pace is not None and "once you have both checked in" in summary.pace
    assert summary.to_try


def test_ones_own_week_leaves_the_pace_to_the_couples_week() -> None:
    mine = weekly_summary(MONDAY, checkins=[checkin(MONDAY, activation=9)])
    assert mine.pace is None
    assert "Start each day with a few minutes of settling on your own." in mine.to_try
    assert not any("tier" in line for line in (*mine.went_well, *mine.was_hard, *mine.to_try))


# --- reminders ------------------------------------------------------------------------


def test_reminders_parse_back_with_one_event_per_future_checkin() -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    times = [now + timedelta(hours=h) for h in (-2, 6, 30, 30, 54)]
    ics = reminders_ics("Alice, hurting after the affair", times, now)
    calendar = Calendar.from_ical(ics)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 3
    assert [e.decoded("dtstart") for e in events] == [times[1], times[2], times[4]]
    assert all(len(e.walk("VALARM")) == 1 for e in events)
    assert len({str(e["uid"]) for e in events}) == 3
    text = ics.decode().lower()
    for word in ("alice", "affair", "hurt", "betray", "partner", "note"):
        assert word not in text
    assert all(str(e["summary"]) == "Check in" for e in events)


def test_reminders_with_nothing_ahead_is_an_empty_calendar() -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    calendar = Calendar.from_ical(reminders_ics("me", [], now))
    assert list(calendar.walk("VEVENT")) == []


def test_reminders_need_time_zones() -> None:
    with pytest.raises(ValueError, match="time zone"):
        reminders_ics("me", [datetime(2026, 3, 3, 9)], datetime(2026, 3, 2, tzinfo=UTC))


def test_a_reused_figure_keeps_nothing_from_the_last_chart() -> None:
    long = [checkin(d, activation=9) for d in days(400, MONDAY - timedelta(days=400))]
    short = [checkin(d, activation=2) for d in days(3)]
    fresh = activation_safety_chart(short).svg
    activation_safety_chart(long)
    again = activation_safety_chart(short)
    assert again.svg == fresh
    assert again.svg is not None and (MONDAY - timedelta(days=400)).isoformat() not in again.svg


def test_charts_drawn_in_parallel_threads_match_one_at_a_time() -> None:
    histories = [[checkin(d, activation=n) for d in days(20 + n)] for n in range(6)]
    expected = [activation_safety_chart(h).svg for h in histories]
    with ThreadPoolExecutor(max_workers=3) as pool:
        for _ in range(3):
            assert list(pool.map(lambda h: activation_safety_chart(h).svg, histories)) == expected


# --- drawn for a phone ------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def font_sizes(root: ET.Element) -> list[float]:
    """Every text's size in the SVG's own units, from its style."""
    sizes = []
    for node in root.iter(f"{SVG}text"):
        found = re.search(r"font-size:\s*([0-9.]+)px", node.get("style", ""))
        assert found is not None, node.get("style")
        sizes.append(float(found.group(1)))
    return sizes


@pytest.mark.parametrize(
    ("chart", "names"),
    [
        (activation_safety_chart([checkin(d) for d in days(10)]), {"Activation", "Felt safety"}),
        (
            qualities_chart([experience(d) for d in days(10)]),
            {"Authenticity", "Vulnerability", "Transparency", "Presence"},
        ),
    ],
    ids=lambda c: getattr(c, "key", ""),
)
def test_lines_are_named_at_their_ends_in_text_readable_on_a_phone(
    chart: Chart, names: set[str]
) -> None:
    root = assert_valid_chart(chart)
    # Drawn WIDTH_PX wide in pixels: shown at 360 CSS pixels, one unit is one pixel.
    assert root.get("width") == str(WIDTH_PX) == root.get("viewBox", "").split()[2]
    assert min(font_sizes(root)) >= FONT_PX >= 12
    words = {node.text for node in root.iter(f"{SVG}text")}
    assert names <= words, "each line carries its own name"
    assert not any("line" in (w or "") for w in words), "no caption decoding line styles"
    # Each name sits beside its line's end, right of the plot, in its line's colour.
    labels = [n for n in root.iter(f"{SVG}text") if n.text in names]
    assert len({n.get("style") for n in labels}) == len(names)


def test_the_reached_chart_and_score_chart_keep_their_text_readable() -> None:
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    reached = tier_chart(
        [TierPoint(start, 0), TierPoint(start + timedelta(days=3), 2)], MONDAY + timedelta(9)
    )
    scores = score_chart(
        "scores-phq-9",
        "PHQ-9",
        [ScorePoint(MONDAY, 20), ScorePoint(MONDAY + timedelta(weeks=3), 9, "improved")],
        27,
    )
    for chart in (reached, scores):
        root = assert_valid_chart(chart)
        assert min(font_sizes(root)) >= FONT_PX


@pytest.mark.parametrize(
    "chart",
    [
        activation_safety_chart([checkin(MONDAY), checkin(TUESDAY)]),
        urgency_readiness_chart([checkin(MONDAY)]),
        consistency_chart([experience(d) for d in days(3)]),  # one week: one bar
        qualities_chart([experience(MONDAY), experience(TUESDAY)]),
        tier_chart([TierPoint(datetime(2026, 3, 2, 8, tzinfo=UTC), 0)], TUESDAY),
        score_chart("scores-phq-9", "PHQ-9", [ScorePoint(MONDAY, 20)], 27),
    ],
    ids=lambda c: c.key,
)
def test_too_few_days_give_a_friendly_sentence_not_a_chart_of_one_dot(chart: Chart) -> None:
    assert chart.empty and chart.svg is None
    assert chart.rows, "the few numbers there are stay readable in the table"
    assert "fills in" in chart.text or "show" in chart.text
    assert MIN_DAYS == 3
