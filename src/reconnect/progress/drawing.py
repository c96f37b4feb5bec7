"""Drawing a chart with matplotlib into inline SVG, and the chart it makes.

Every chart of the progress pages goes through :func:`render`: one kept figure per
kind of chart, drawn on the server with the object-oriented ``Figure`` API and the
SVG canvas (no interactive backend, no pyplot state), at a phone's width, text kept
as text. A :class:`Chart` carries its data table and a one-sentence text
alternative beside the drawing.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from html import escape
from typing import Any, ClassVar, cast

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

__all__ = [
    "BLUE",
    "DRAWING",
    "FONT_PX",
    "GREY",
    "HEIGHT_PX",
    "INK",
    "LAVENDER",
    "MIN_DAYS",
    "NUMBERS",
    "PLOT_HEIGHT_PX",
    "ROSE",
    "SAGE",
    "SAND",
    "WIDTH_PX",
    "Chart",
    "Margins",
    "Parts",
    "date_ticks",
    "fmt",
    "plural",
    "render",
    "render_png",
    "spread",
    "too_few",
    "waiting",
]

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
BLUE = "#4f7cac"
SAGE = "#6a9a78"
SAND = "#c9a66b"
LAVENDER = "#8e7cc3"
ROSE = "#b5656b"
GREY = "#5f6b73"
# A line's name is written in a darker shade of its colour, readable on white.
INK = {BLUE: "#3d6591", SAGE: "#46744f", SAND: "#7f6128", LAVENDER: "#65559c"}

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
    font properties (SVG is always 72 dpi), so it is kept here, and :func:`render`
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
    # The same drawing as a PNG, for the charts a PDF report carries.
    draw_png: Callable[[], bytes] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def svg(self) -> str | None:
        return None if self.draw is None else self.draw()

    @property
    def empty(self) -> bool:
        return self.draw is None


def fmt(value: float) -> str:
    return f"{value:.1f}"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def waiting(
    key: str,
    title: str,
    headers: tuple[str, ...],
    sentence: str,
    rows: tuple[tuple[str, ...], ...] = (),
) -> Chart:
    """A chart with too little data to draw yet: a friendly sentence, and the few
    numbers there are (if any) for the table."""
    return Chart(key, title, None, headers, rows, sentence)


def too_few(days: Iterable[date], points: int) -> bool:
    """Too little to draw: fewer than ``MIN_DAYS`` days, or a single point."""
    return len(set(days)) < MIN_DAYS or points < 2


# Drawing a chart with matplotlib costs most of its time in building the figure, the
# axes and their ticks, so one figure per kind of chart is kept and only the data is
# swapped in. Drawing holds a lock: the figures are shared, and the settings the SVG
# writer reads (rcParams) are process-wide, so two threads must never draw at once.
# Drawing is pure Python under the GIL anyway, so the lock costs no throughput.
# One lock for all matplotlib drawing in the process (its settings are global).
DRAWING = threading.Lock()
_TEMPLATES: dict[tuple[str, str], tuple[Figure, Axes, list[Any]]] = {}

# Room around the plot, in pixels: left for the y-axis ticks, right for the names
# written at the ends of the lines.
Margins = tuple[float, float]
NUMBERS: Margins = (30.0, 110.0)
_TOP_PX, _BOTTOM_PX = 12.0, 26.0
PLOT_HEIGHT_PX = HEIGHT_PX - _TOP_PX - _BOTTOM_PX


def _figure(margins: Margins) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_PX / 72, HEIGHT_PX / 72), dpi=72)  # SVG's own resolution
    FigureCanvasSVG(figure)
    left, right = margins
    axes = figure.add_axes(
        (
            left / WIDTH_PX,
            _BOTTOM_PX / HEIGHT_PX,
            (WIDTH_PX - left - right) / WIDTH_PX,
            PLOT_HEIGHT_PX / HEIGHT_PX,
        )
    )
    axes.spines[["top", "right"]].set_visible(False)
    axes.spines[["left", "bottom"]].set_color("#b9c2c8")
    # Labels without tick marks: as readable here, and fewer SVG elements to write.
    axes.tick_params(colors=GREY, labelsize=FONT_PX, bottom=False, left=False, pad=3)
    # Fixed (unused) axis-label positions spare a layout pass over the tick labels.
    axes.xaxis.set_label_coords(0.5, -0.15)
    axes.yaxis.set_label_coords(-0.06, 0.5)
    return figure, axes


def _day_words(day: date, long: bool) -> str:
    # Short enough for three or four ticks across a phone: "2 Mar", or "Mar 2026".
    return day.strftime("%b %Y") if long else f"{day.day} {day:%b}"


def date_ticks(axes: Axes, keys: Sequence[date]) -> None:
    """Three or four dated ticks (cheaper than matplotlib's date locators)."""
    count = len(keys)
    step = max(1, -(-count // 3))
    positions = list(range(0, count, step))
    long = (keys[-1] - keys[0]).days > 300
    axes.set_xticks(positions, [_day_words(keys[i], long) for i in positions])
    axes.set_xlim(-0.5, count - 0.5)


def spread(ends: Sequence[float], gap: float, low: float, high: float) -> list[float]:
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


Parts = list[Any]


@contextmanager
def _drawn(
    key: str,
    margins: Margins,
    build: Callable[[Axes], Parts],
    update: Callable[[Axes, Parts], None],
) -> Iterator[Figure]:
    """The kept figure for ``key`` with this chart's data in it, under the lock."""
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
        # Kept per kind of chart too: two kinds may draw under the same key.
        slot = (key, build.__qualname__)
        if slot not in _TEMPLATES:
            figure, axes = _figure(margins)
            _TEMPLATES[slot] = (figure, axes, build(axes))
        figure, axes, parts = _TEMPLATES[slot]
        update(axes, parts)
        yield figure


def render(
    key: str,
    text: str,
    margins: Margins,
    build: Callable[[Axes], Parts],
    update: Callable[[Axes, Parts], None],
) -> str:
    """Draw into the kept figure for ``key`` and return it as inline SVG, sized in
    pixels so that its text shows at ``FONT_PX`` when it is 360 pixels wide."""
    with _drawn(key, margins, build, update) as figure:
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


def render_png(
    key: str,
    margins: Margins,
    build: Callable[[Axes], Parts],
    update: Callable[[Axes, Parts], None],
) -> bytes:
    """The same drawing as :func:`render`, as a PNG three times as dense, for a PDF
    (which cannot take SVG)."""
    with _drawn(key, margins, build, update) as figure:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=216)
    return buffer.getvalue()


_POINTS = re.compile(r'(width|height)="([0-9.]+)pt"')
