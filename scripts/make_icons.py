"""Draw DRS Desktop's application icon with Qt and write every file the packages need.

The icon: a deep-blue rounded square, three ascending bars (the waves of a recovery drill, launched one
after the other) and a white circular arrow around them (recovery: the servers come back). No text, thick
strokes and each size drawn at its own size (not scaled down from 512 px), so that it still reads at 16
px in a taskbar or a file manager's list view.

Writes, into ``resources/icons/``:

- ``drs-desktop-<N>.png`` for N in 16 24 32 48 64 128 256 512: the running app's window icon
  (``drs_desktop.app``) and the Linux archive's hicolor icons (``scripts/build_bundle.sh``);
- ``drs-desktop.ico`` (Windows: the executable's and the Inno Setup installer's icon; 16 to 256 px);
- ``drs-desktop.icns`` (macOS: the .app's icon; 16 to 512 px, with the @2x variants).

``build.spec`` names the .ico and the .icns. The generated files are committed: building the bundle
needs neither this script nor Pillow. Run it again only to change the icon:

    .venv/bin/pip install pillow            # a developer tool for this script, NOT a runtime dependency
    .venv/bin/python scripts/make_icons.py [--out resources/icons]

Pillow writes the .ico and .icns containers (Qt cannot write .icns, and writes a one-size .ico); every
pixel is Qt's. The app and the bundle never import Pillow.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)

from drs_desktop.app import ICON_SIZES as SIZES  # the sizes the app loads

ROOT = Path(__file__).resolve().parent.parent
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # Windows reads at most 256 px from an .ico
ICNS_SIZES = (16, 32, 64, 128, 256, 512)  # Pillow scales the 512 up for the 1024 (512@2x) slot

TOP = QColor("#1f5fbf")  # the background's gradient, top left ...
BOTTOM = QColor("#0b2a66")  # ... to bottom right: deep blue
BARS = QColor("#8fd8ff")  # the waves: light blue, apart from the white arrow
ARROW = QColor("#ffffff")


def _stroke(size: int, fraction: float, least: float) -> float:
    """A stroke width in pixels: a fraction of the icon, never thinner than ``least`` (small sizes)."""
    return max(size * fraction, least)


def draw(size: int) -> QImage:
    """The icon at ``size`` x ``size`` pixels, drawn at that size (strokes thickened at the small ones)."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)

    # The rounded square: a small margin from 48 px up (the platforms' icon grids leave one), none below.
    margin = 0.0 if size < 48 else s * 0.04
    square = QRectF(margin, margin, s - 2 * margin, s - 2 * margin)
    gradient = QLinearGradient(square.topLeft(), square.bottomRight())
    gradient.setColorAt(0.0, TOP)
    gradient.setColorAt(1.0, BOTTOM)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(gradient))
    radius = square.width() * 0.22
    painter.drawRoundedRect(square, radius, radius)

    centre = QPointF(s / 2, s / 2)
    # The circular arrow: open at the top right, its head at the upper end pointing clockwise.
    ring = s * (0.31 if size >= 32 else 0.345 if size >= 24 else 0.37)
    arrow_width = _stroke(size, 0.075, 1.6)
    start_deg, span_deg = 60.0, 285.0  # counter-clockwise from 60 deg (Qt's angles: 0 = 3 o'clock)
    pen = QPen(ARROW, arrow_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    circle = QRectF(centre.x() - ring, centre.y() - ring, 2 * ring, 2 * ring)
    painter.drawArc(circle, round(start_deg * 16), round(span_deg * 16))

    # Arrowhead at the arc's start (60 deg), pointing the way a clock turns (decreasing angle).
    angle = math.radians(start_deg)
    end = QPointF(centre.x() + ring * math.cos(angle), centre.y() - ring * math.sin(angle))
    # Clockwise tangent on screen (y grows downwards): d/d(-angle) of (cos, -sin) = (sin, cos).
    tangent = QPointF(math.sin(angle), math.cos(angle))
    radial = QPointF(math.cos(angle), -math.sin(angle))
    head = _stroke(size, 0.13, 3.0)  # half the head's base
    length = _stroke(size, 0.16, 3.0)
    tip = end + tangent * length
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(ARROW)
    painter.drawPolygon(QPolygonF([end + radial * head, tip, end - radial * head]))

    # The waves: three bars, bottoms aligned, each taller than the one before; below 48 px on whole
    # pixels (a bar's blurred edge is half the bar there).
    small = size < 48
    bar_width = _stroke(size, 0.09, 2.0)
    gap = _stroke(size, 0.045, 1.0)
    heights = (0.15, 0.23, 0.31)
    floor = centre.y() + s * 0.15
    total = 3 * bar_width + 2 * gap
    left = centre.x() - total / 2
    if small:
        bar_width, gap, floor, left = round(bar_width), round(gap), round(floor), round(left)
    painter.setBrush(BARS)
    for i, fraction in enumerate(heights):
        x = left + i * (bar_width + gap)
        height = round(s * fraction) if small else s * fraction
        path = QPainterPath()
        corner = 0.0 if small else bar_width * 0.25
        path.addRoundedRect(QRectF(x, floor - height, bar_width, height), corner, corner)
        painter.drawPath(path)
    painter.end()
    return image


def write(out: Path) -> list[Path]:
    """Every PNG, then the .ico and the .icns from those same PNGs; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for size in SIZES:
        path = out / f"drs-desktop-{size}.png"
        if not draw(size).save(str(path)):
            raise RuntimeError(f"Qt could not write {path}")
        written.append(path)

    try:
        from PIL import Image
    except ImportError:
        sys.exit("Pillow writes the .ico and .icns: .venv/bin/pip install pillow (a developer tool only)")
    images = {size: Image.open(out / f"drs-desktop-{size}.png").convert("RGBA") for size in SIZES}
    ico = out / "drs-desktop.ico"
    largest = images[max(ICO_SIZES)]
    largest.save(
        ico,
        format="ICO",
        sizes=[(n, n) for n in ICO_SIZES],
        append_images=[images[n] for n in ICO_SIZES if n != max(ICO_SIZES)],
    )
    written.append(ico)
    icns = out / "drs-desktop.icns"
    images[max(ICNS_SIZES)].save(
        icns, format="ICNS", append_images=[images[n] for n in ICNS_SIZES if n != max(ICNS_SIZES)]
    )
    written.append(icns)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "icons")
    args = parser.parse_args(argv)
    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    for path in write(args.out):
        print(path)
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
