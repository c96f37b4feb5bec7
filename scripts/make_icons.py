"""Draw the home-screen icons into src/reconnect/static/icons (run once; the files are
committed): ``.venv/bin/python scripts/make_icons.py``.

Two looks, each an SVG and PNGs of 180 (apple-touch-icon), 192 and 512 pixels:

- ``reconnect``: two overlapping rings, paper on the app's accent colour.
- ``notes``: a plain lined page, for people who need the home screen to say nothing
  (the "Notes" choice on the account page). It carries no name and no text.

Both fill the whole square and keep their drawing inside the middle 80% circle, so a
phone may crop them to any shape ("maskable").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "src" / "reconnect" / "static" / "icons"
SIZES = (180, 192, 512)
SUPERSAMPLE = 4  # drawn large, then scaled down: smooth edges without antialiasing

# app.css: --accent and --paper; the plain look uses quiet greys.
ACCENT = "#2f6f73"
PAPER = "#fbfaf7"
NOTES_GROUND = "#e8e6e1"
NOTES_PAGE = "#ffffff"
NOTES_LINE = "#a3a9ac"

# Geometry as fractions of the side, shared by the SVG and the PNGs.
RING_RADIUS = 0.19
RING_OFFSET = 0.095  # each ring's centre, left and right of the middle
RING_WIDTH = 0.045
PAGE_BOX = (0.30, 0.24, 0.70, 0.76)
PAGE_CORNER = 0.035
LINE_WIDTH = 0.028
LINES_Y = (0.38, 0.47, 0.56, 0.65)
LINE_X = (0.37, 0.63)


def reconnect_svg() -> str:
    side = 512
    r, w = RING_RADIUS * side, RING_WIDTH * side
    rings = "".join(
        f'<circle cx="{side * (0.5 + dx):g}" cy="{side / 2:g}" r="{r:g}" />'
        for dx in (-RING_OFFSET, RING_OFFSET)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}">'
        f'<rect width="{side}" height="{side}" fill="{ACCENT}"/>'
        f'<g fill="none" stroke="{PAPER}" stroke-width="{w:g}">{rings}</g></svg>\n'
    )


def notes_svg() -> str:
    side = 512
    x0, y0, x1, y1 = (v * side for v in PAGE_BOX)
    lines = "".join(
        f'<line x1="{LINE_X[0] * side:g}" y1="{y * side:g}" '
        f'x2="{(LINE_X[1] if i < len(LINES_Y) - 1 else 0.53) * side:g}" y2="{y * side:g}"/>'
        for i, y in enumerate(LINES_Y)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}">'
        f'<rect width="{side}" height="{side}" fill="{NOTES_GROUND}"/>'
        f'<rect x="{x0:g}" y="{y0:g}" width="{x1 - x0:g}" height="{y1 - y0:g}" '
        f'rx="{PAGE_CORNER * side:g}" fill="{NOTES_PAGE}"/>'
        f'<g stroke="{NOTES_LINE}" stroke-width="{LINE_WIDTH * side:g}" '
        f'stroke-linecap="round">{lines}</g></svg>\n'
    )


def draw_reconnect(side: int) -> Image.Image:
    image = Image.new("RGB", (side, side), ACCENT)
    draw = ImageDraw.Draw(image)
    r, w = RING_RADIUS * side, RING_WIDTH * side
    for dx in (-RING_OFFSET, RING_OFFSET):
        cx, cy = side * (0.5 + dx), side / 2
        # The SVG's stroke is centred on the radius; Pillow's goes inwards from the box.
        outer = r + w / 2
        draw.ellipse(
            (cx - outer, cy - outer, cx + outer, cy + outer), outline=PAPER, width=round(w)
        )
    return image


def draw_notes(side: int) -> Image.Image:
    image = Image.new("RGB", (side, side), NOTES_GROUND)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        tuple(v * side for v in PAGE_BOX), radius=PAGE_CORNER * side, fill=NOTES_PAGE
    )
    w = LINE_WIDTH * side
    for i, y in enumerate(LINES_Y):
        end = LINE_X[1] if i < len(LINES_Y) - 1 else 0.53
        x0, x1, yy = LINE_X[0] * side, end * side, y * side
        draw.rectangle((x0, yy - w / 2, x1, yy + w / 2), fill=NOTES_LINE)
        for x in (x0, x1):  # round caps, as in the SVG
            draw.ellipse((x - w / 2, yy - w / 2, x + w / 2, yy + w / 2), fill=NOTES_LINE)
    return image


LOOKS: dict[str, tuple[Callable[[], str], Callable[[int], Image.Image]]] = {
    "reconnect": (reconnect_svg, draw_reconnect),
    "notes": (notes_svg, draw_notes),
}


def make(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (svg, draw) in LOOKS.items():
        path = out / f"{name}.svg"
        path.write_text(svg(), encoding="utf-8")
        written.append(path)
        large = draw(max(SIZES) * SUPERSAMPLE)
        for size in SIZES:
            path = out / f"{name}-{size}.png"
            large.resize((size, size), Image.Resampling.LANCZOS).save(path, optimize=True)
            written.append(path)
    return written


if __name__ == "__main__":
    for path in make():
        print(path.relative_to(OUT.parents[3]))
