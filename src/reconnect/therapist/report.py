"""The therapist report: a PDF for a chosen period, built with reportlab.

It holds only what the therapist may see: where the couple has reached together over
the period with its chart, steps back, breaks after flooding, the questionnaire results
the partners shared (both partners on one chart per questionnaire), couple-level
patterns, and a line for each commitment and ritual (shared by both partners), each
step named as the partners see it. Never a private note.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime
from html import escape

from matplotlib.figure import Figure
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from reconnect import localtime
from reconnect.domain.pacing.catalogue import load_catalogue
from reconnect.progress import charts as progress
from reconnect.progress.drawing import plural
from reconnect.therapist.recovery import CommitmentSeen, RitualSeen
from reconnect.therapist.store import CoupleForTherapist, charts, divergences


def _tier_png(points: list[tuple[datetime, int]]) -> bytes:
    figure = Figure(figsize=(7, 2.6), dpi=110)
    axes = figure.add_subplot()
    first = points[0][0]
    days = [(p[0] - first).total_seconds() / 86400 for p in points]
    axes.step(days, [p[1] for p in points], where="post", color="#2f6f73")
    axes.set_xlabel(f"days since {first.day} {first:%b %Y}")
    axes.set_ylim(-0.3, 6.3)
    steps = load_catalogue()
    axes.set_yticks(range(7), [steps.tier(n).short for n in range(7)])
    axes.set_title("Where they have reached together over the period")
    buffer = io.BytesIO()
    with progress.DRAWING:
        figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def _during(began: datetime, ended: datetime | None, start: date, end: date) -> bool:
    return began.date() <= end and (ended is None or ended.date() >= start)


def _ended(ended: datetime | None, local: localtime.Local) -> str:
    return f" Ended {local.calendar_date(ended)}." if ended else ""


def _kept_line(c: CommitmentSeen, start: date, end: date, local: localtime.Local) -> str:
    kept, recorded = c.kept_between(start, end)
    noticed = sum(1 for d in c.days if start <= d.day <= end and d.kept and d.noticed)
    days = (
        f"kept on {kept} of {plural(recorded, 'recorded day')} in this period; "
        f"{plural(noticed, 'kept day')} noticed by the other partner."
        if recorded
        else "no days recorded in this period."
    )
    return f"{escape(c.what)}, offered by the {c.offered_by}: {days}{_ended(c.ended_at, local)}"


def _done_line(r: RitualSeen, start: date, end: date, local: localtime.Local) -> str:
    done = r.done_between(start, end)
    days = (
        f"done on {plural(done, 'day')} in this period."
        if done
        else "not marked done in this period."
    )
    return f"{escape(r.title)}, {r.every}: {days}{_ended(r.ended_at, local)}"


def therapist_report(view: CoupleForTherapist, start: date, end: date) -> bytes:
    """A PDF for the local days ``start``..``end`` (inclusive), in the therapist's zone
    (``view`` holds its times on that clock already). A period without data says so."""
    styles = getSampleStyleSheet()
    local = localtime.Local.of(view.time_zone)
    # view.ladder holds the changes of where the couple has reached together; the step
    # they were at when the period began counts too.
    before = [t for t in view.ladder if t[0].date() < start]
    period_start, _ = localtime.day_bounds(start, local.tz)
    _, period_end = localtime.day_bounds(end, local.tz)
    in_period = [(local.at(period_start), before[-1][1])] if before else []
    in_period += [t for t in view.ladder if start <= t[0].date() <= end]
    if in_period:
        in_period.append((local.at(period_end), in_period[-1][1]))
    results = [r for r in view.results if start <= r.at.date() <= end]
    steps_back = [s for s in view.steps_back if start <= s[0].date() <= end]
    breaks = [b for b in view.breaks if start <= b[0].date() <= end]
    story: list[object] = [
        Paragraph("Reconnect: between-session report", styles["Title"]),
        Paragraph(
            f"Couple {view.couple_id}, {local.calendar_date(start)} to "
            f"{local.calendar_date(end)} (times in {view.time_zone.replace('_', ' ')})",
            styles["Normal"],
        ),
        Paragraph(
            "Shared with both partners' consent. It contains no private entries or notes.",
            styles["Italic"],
        ),
        Spacer(1, 0.4 * cm),
    ]
    if not in_period and not breaks:
        story.append(Paragraph("No pace data was recorded in this period.", styles["Heading2"]))
    else:
        story.append(Paragraph("Where they have reached together", styles["Heading2"]))
        reached = load_catalogue().tier(in_period[-1][1]).name if in_period else "not recorded"
        if len(in_period) >= 2:
            story.append(Image(io.BytesIO(_tier_png(in_period)), width=16 * cm, height=6 * cm))
        story.append(
            Paragraph(
                f"Now: {reached}. Steps back: {len(steps_back)}. "
                f"Breaks after flooding: {len(breaks)}. Both are part of the path.",
                styles["Normal"],
            )
        )
        if breaks:
            rows = [["Break started", "Agreed return"]] + [
                [local.moment(b[0]), local.moment(b[1])] for b in breaks
            ]
            table = Table(rows)
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
            story += [Spacer(1, 0.3 * cm), table]
    story.append(Paragraph("Questionnaire results shared with you", styles["Heading2"]))
    for d in divergences(results):
        story.append(
            Paragraph(
                f"Moving apart on the {escape(d.title)}: the {d.better}'s latest result "
                f"in this period is a reliable improvement, and the {d.worse}'s a "
                "reliable worsening. A reflection to explore with them, not a verdict.",
                styles["Normal"],
            )
        )
    # Both partners on one chart per questionnaire, over this period only.
    period = replace(view, shared=results + view.findings)
    for chart in charts(period):
        if chart.key.startswith("scores-") and chart.draw_png is not None:
            story += [
                Paragraph(escape(chart.title), styles["Heading3"]),
                Image(io.BytesIO(chart.draw_png()), width=12 * cm, height=12 * cm * 230 / 360),
                Paragraph(escape(chart.text), styles["Italic"]),
            ]
    if results:
        rows = [["Date", "Partner", "Questionnaire", "Score", "Reliable change"]] + [
            [
                local.calendar_date(r.at),
                r.partner,
                str(r.content.get("title", "")),
                str(r.content.get("total", "")),
                str(r.content.get("change") or ""),
            ]
            for r in results
        ]
        table = Table(rows)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
        story.append(table)
    else:
        story.append(Paragraph("None in this period.", styles["Normal"]))
    story.append(Paragraph("Couple-level patterns", styles["Heading2"]))
    if view.patterns:
        for finding in view.patterns:
            story.append(
                Paragraph(
                    f"{finding.message} <i>{finding.try_instead}</i>",
                    styles["Normal"],
                )
            )
    else:
        story.append(Paragraph("None noticed.", styles["Normal"]))
    # Shared by both partners: a record over the period, never a score.
    kept = [c for c in view.commitments if _during(c.offered_at, c.ended_at, start, end)]
    story.append(Paragraph("Commitments kept over time", styles["Heading2"]))
    story += [Paragraph(_kept_line(c, start, end, local), styles["Normal"]) for c in kept]
    if not kept:
        story.append(Paragraph("None in this period.", styles["Normal"]))
    chosen = [r for r in view.rituals if _during(r.chosen_at, r.ended_at, start, end)]
    story.append(Paragraph("Rituals of connection", styles["Heading2"]))
    story += [Paragraph(_done_line(r, start, end, local), styles["Normal"]) for r in chosen]
    if not chosen:
        story.append(Paragraph("None in this period.", styles["Normal"]))
    held = [at for at in view.disclosures if start <= at.date() <= end]
    story.append(Paragraph("The full account (disclosure)", styles["Heading2"]))
    story.append(
        Paragraph(
            "Sessions held: " + ", ".join(local.calendar_date(at) for at in held) + "."
            if held
            else "No session held in this period.",
            styles["Normal"],
        )
    )
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title="Reconnect report").build(story)
    return buffer.getvalue()
