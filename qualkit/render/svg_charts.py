"""Small, dependency-free SVG charts for the HTML report: heatmaps, a bar + line chart, CI whiskers.

Why hand-made SVG rather than matplotlib
    The report is one self-contained HTML file. Inline SVG is text inside that file: crisp at any
    zoom and in print, selectable, styled by the page's CSS (its font stack and colours), a few
    kilobytes per chart, and accessible (``role="img"``, ``<title>``/``<desc>``, a tooltip
    ``<title>`` per cell). matplotlib would add a heavy dependency (and a font cache, a backend)
    to draw five simple shapes, and its output would be base64 PNGs (blurry when zoomed or
    printed) or verbose SVG with embedded glyph paths. The charts here need only rectangles, lines
    and text, so they are drawn directly.

Every function returns :class:`markupsafe.Markup` (safe to put into an autoescaped Jinja2
template); every piece of text that goes into the SVG (labels, tooltips, titles) is escaped here.
Colours: a single-hue sequential blue ramp (ColorBrewer "Blues", colour-blind safe and readable in
greyscale) with the text colour in each cell chosen for the higher contrast (WCAG ratio), and an
orange accent (ColorBrewer "Dark2" orange) for markers, distinguishable from blue for the common
forms of colour blindness.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

from markupsafe import Markup, escape

__all__ = ["BLUES", "ACCENT", "ramp_color", "text_color", "contrast_ratio", "text_width", "heatmap",
           "bar_line_chart", "ci_whisker", "legend_steps"]

#: ColorBrewer Blues (9 classes), light to dark
BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b")
ACCENT = "#d95f02"
INK = "#1f2328"
MUTED = "#57606a"
GRID = "#d0d7de"
EMPTY = "#f6f8fa"
FONT_SIZE = 12


# ---------------------------------------------------------------------------------------- colours

def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def ramp_color(t: float, ramp: Sequence[str] = BLUES) -> str:
    """The colour at ``t`` in [0, 1] along ``ramp`` (linear interpolation in RGB; NaN/None: empty)."""
    if t is None or (isinstance(t, float) and math.isnan(t)):
        return EMPTY
    t = max(0.0, min(1.0, float(t)))
    pos = t * (len(ramp) - 1)
    i = min(int(pos), len(ramp) - 2)
    f = pos - i
    a, b = _rgb(ramp[i]), _rgb(ramp[i + 1])
    return _hex([a[k] + (b[k] - a[k]) * f for k in range(3)])


@lru_cache(maxsize=4096)  # a heatmap asks for the same few colours' luminance hundreds of times
def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@lru_cache(maxsize=4096)
def text_color(background: str) -> str:
    """Black or white, whichever contrasts more with ``background``: at least 4.58:1 (WCAG AA for
    normal text) against any background, since the two contrasts are equal only at ≈ 4.58."""
    return "#000000" if contrast_ratio("#000000", background) >= contrast_ratio("#ffffff", background) else "#ffffff"


# ------------------------------------------------------------------------------------------- text

def text_width(text: str, size: float = FONT_SIZE) -> float:
    """An estimate of the rendered width of ``text`` in a system sans-serif font (no font metrics)."""
    narrow = sum(1 for ch in text if ch in "iljtfr.,:;'|!()[] ")
    wide = sum(1 for ch in text if ch in "mwMW@%")
    caps = sum(1 for ch in text if ch.isupper())
    units = 0.55 * len(text) - 0.22 * narrow + 0.3 * wide + 0.12 * caps
    return units * size


def _clip(text: str, max_chars: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def _wrap(text: str, width_px: float, size: float, max_lines: int = 2) -> list[str]:
    """Words of ``text`` on at most ``max_lines`` lines of about ``width_px`` (the last one clipped)."""
    words = str(text).split()
    lines: list[str] = []
    cur = ""
    for w in words:
        trial = f"{cur} {w}".strip()
        if cur and text_width(trial, size) > width_px:
            lines.append(cur)
            cur = w
        else:
            cur = trial
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [" ".join(lines[max_lines - 1:])]
    if lines and text_width(lines[-1], size) > width_px:
        chars = max(3, int(len(lines[-1]) * width_px / text_width(lines[-1], size)))
        lines[-1] = _clip(lines[-1], chars)
    return lines or [""]


def _e(value) -> str:
    return str(escape("" if value is None else str(value)))


def _num(v: float) -> str:
    """Coordinates with at most one decimal (small files, stable output)."""
    r = round(float(v), 1)
    return str(int(r)) if r == int(r) else f"{r:.1f}"


def _svg(width: float, height: float, body: list[str], title: str, desc: str = "", css_class: str = "chart") -> Markup:
    # For inline use in HTML (the parser puts <svg> in the SVG namespace, so no xmlns: the page then
    # holds no http:// string at all). aria-label rather than aria-labelledby: ids would have to be
    # unique across the whole page.
    label = title + (f". {desc}" if desc else "")
    head = (f'<svg class="{_e(css_class)}" width="{_num(width)}" height="{_num(height)}" '
            f'viewBox="0 0 {_num(width)} {_num(height)}" role="img" aria-label="{_e(label)}">'
            f"<title>{_e(title)}</title>" + (f"<desc>{_e(desc)}</desc>" if desc else ""))
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, *, size: float = FONT_SIZE, anchor: str = "start", fill: str = INK,
          weight: str | None = None, extra: str = "") -> str:
    w = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" text-anchor="{anchor}" fill="{fill}"{w}{extra}>'
            f"{_e(text)}</text>")


# ---------------------------------------------------------------------------------------- legend

def legend_steps(x: float, y: float, vmax: float, label: str, fmt: Callable[[float], str] = lambda v: f"{v:g}",
                 steps: int = 5, box: float = 26, ramp: Sequence[str] = BLUES) -> tuple[list[str], float, float]:
    """A stepped colour legend as SVG pieces: (elements, width, height)."""
    out = [_text(x, y + 11, label, size=11, fill=MUTED)]
    top = y + 17
    for i in range(steps):
        t = i / (steps - 1)
        colour = ramp_color(t, ramp)
        out.append(f'<rect x="{_num(x + i * box)}" y="{_num(top)}" width="{_num(box)}" height="12" fill="{colour}" '
                   f'stroke="{GRID}" stroke-width="0.5"/>')
    out.append(_text(x, top + 25, fmt(0), size=10, fill=MUTED))
    out.append(_text(x + steps * box, top + 25, fmt(vmax), size=10, fill=MUTED, anchor="end"))
    width = max(steps * box, text_width(label, 11))
    return out, width, 17 + 12 + 16


# --------------------------------------------------------------------------------------- heatmap

def _column_headers(col_labels: Sequence[str], centers: Sequence[float], cell_w: float, grid_y: float,
                    rotate: bool, col_sublabels: Sequence[str] | None) -> list[str]:
    """A heatmap's column labels: rotated 45°, or horizontal on up to two lines with a sub-label."""
    body: list[str] = []
    for j, lbl in enumerate(col_labels):
        cx = centers[j]
        if rotate:
            x0, y0 = cx + 3, grid_y - 5
            body.append(f'<text x="{_num(x0)}" y="{_num(y0)}" font-size="11" fill="{INK}" text-anchor="start" '
                        f'transform="rotate(-45 {_num(x0)} {_num(y0)})">{_e(_clip(lbl, 36))}</text>')
        else:
            lines = _wrap(lbl, cell_w - 6, 11, max_lines=2)
            sub = [col_sublabels[j]] if col_sublabels else []
            total_lines = len(lines) + len(sub)
            y = grid_y - 6 - (total_lines - 1) * 13
            for k, line in enumerate(lines):
                body.append(_text(cx, y + 13 * k, line, size=11, anchor="middle", weight="600"))
            for k, line in enumerate(sub):
                body.append(_text(cx, y + 13 * (len(lines) + k), line, size=10, anchor="middle", fill=MUTED))
    return body


def heatmap(row_labels: Sequence[str], col_labels: Sequence[str], values: Sequence[Sequence[float | None]], *,
            text: Sequence[Sequence[str]] | None = None, tooltips: Sequence[Sequence[str]] | None = None,
            row_indent: Sequence[int] | None = None, row_bold: Sequence[bool] | None = None,
            row_tooltips: Sequence[str] | None = None, col_sublabels: Sequence[str] | None = None,
            vmax: float | None = None, title: str = "Heatmap", desc: str = "",
            legend_label: str = "", legend_fmt: Callable[[float], str] = lambda v: f"{v:g}",
            cell_h: float = 22, min_cell_w: float = 40, max_cell_w: float = 140, max_label_chars: int = 48,
            rotate: bool | None = None, lower_triangle: bool = False, total_col: bool = False) -> Markup:
    """A rows × columns grid of shaded cells with the numbers printed in them.

    ``values`` (floats, None for an empty cell) set the shade on ``[0, vmax]`` (default: the
    largest value); ``text`` is what each cell shows (default: the value); ``tooltips`` a hover
    text per cell. Column labels are horizontal (wrapped on two lines) when they fit, else rotated.
    ``lower_triangle`` draws only cells on or below the diagonal: for a symmetric matrix, pass it
    without its first row and last column, so the diagonal shows the pairs next to it; ``total_col``
    separates the last column with a gap (a "total" or "all" column).
    """
    n_rows, n_cols = len(row_labels), len(col_labels)
    flat = [v for row in values for v in row if v is not None and not (isinstance(v, float) and math.isnan(v))]
    vmax = vmax if vmax is not None else (max(flat) if flat else 1.0)
    vmax = vmax or 1.0
    indent = list(row_indent or [0] * n_rows)
    bold = list(row_bold or [False] * n_rows)
    shown_rows = [_clip(lbl, max_label_chars - 2 * indent[i]) for i, lbl in enumerate(row_labels)]
    label_w = max([text_width(lbl, FONT_SIZE) + 14 * indent[i] for i, lbl in enumerate(shown_rows)] or [60]) + 12
    longest_col = max([text_width(str(c), 11) for c in col_labels] or [20])
    if rotate is None:
        rotate = n_cols > 8 or longest_col / 2 > max_cell_w - 8
    if rotate:
        cell_w = max(min_cell_w, 18 if lower_triangle else min_cell_w)
        cell_w = min(cell_w, max_cell_w)
        header_h = min(longest_col, 200) * 0.72 + 14
    else:
        cell_w = max(min_cell_w, min(max_cell_w, max(longest_col / 1.6, 0) + 14))
        header_h = 2 * 13 + (13 if col_sublabels else 0) + 8
    gap = 8 if total_col else 0
    grid_x = label_w
    grid_y = header_h + 4
    grid_w = n_cols * cell_w + gap
    legend, leg_w, leg_h = legend_steps(grid_x, grid_y + n_rows * cell_h + 10, vmax, legend_label or "Shade", legend_fmt)
    width = max(grid_x + grid_w + (min(longest_col, 200) * 0.72 if rotate else 0) + 4, grid_x + leg_w + 8)
    height = grid_y + n_rows * cell_h + 10 + leg_h + 4
    body: list[str] = []

    def col_x(j: int) -> float:
        return grid_x + j * cell_w + (gap if total_col and j == n_cols - 1 else 0)

    body += _column_headers(col_labels, [col_x(j) + cell_w / 2 for j in range(n_cols)], cell_w, grid_y, rotate,
                            col_sublabels)
    # rows
    for i, lbl in enumerate(shown_rows):
        y = grid_y + i * cell_h
        tip = row_tooltips[i] if row_tooltips else row_labels[i]
        body.append("<g>" + (f"<title>{_e(tip)}</title>" if tip else "")
                    + _text(8 + 14 * indent[i], y + cell_h / 2 + 4, lbl, weight="600" if bold[i] else None) + "</g>")
        for j in range(n_cols):
            if lower_triangle and j > i:
                continue
            v = values[i][j]
            missing = v is None or (isinstance(v, float) and math.isnan(v))
            fill = EMPTY if v is None or missing else ramp_color(float(v) / vmax)
            x = col_x(j)
            label = "" if missing else (text[i][j] if text is not None else f"{v:g}")
            tip = tooltips[i][j] if tooltips is not None else ""
            ink = text_color(fill)
            is_zero = v is not None and not missing and float(v) == 0
            cell = (f'<rect x="{_num(x + 0.5)}" y="{_num(y + 0.5)}" width="{_num(cell_w - 1)}" height="{_num(cell_h - 1)}" '
                    f'fill="{fill}" stroke="#ffffff" stroke-width="1"/>')
            txt = _text(x + cell_w / 2, y + cell_h / 2 + 4, label, size=11 if cell_w >= 30 else 9, anchor="middle",
                        fill=MUTED if is_zero else ink) if label != "" else ""
            body.append("<g>" + (f"<title>{_e(tip)}</title>" if tip else "") + cell + txt + "</g>")
    # a hairline frame around the grid
    if not lower_triangle:
        body.append(f'<rect x="{_num(grid_x)}" y="{_num(grid_y)}" width="{_num(n_cols * cell_w + gap)}" '
                    f'height="{_num(n_rows * cell_h)}" fill="none" stroke="{GRID}" stroke-width="0.5"/>')
    body += legend
    return _svg(width, height, body, title, desc, "chart heatmap")


# ------------------------------------------------------------------------------- bar + line chart

def _nice_max(v: float, ticks: int = 6) -> tuple[float, float]:
    """A round axis maximum at or above ``v`` and its tick step (1, 2 or 5 × 10^k, at least 1)."""
    if v <= 0:
        return 1.0, 1.0
    exp = 10 ** math.floor(math.log10(v))
    for step in sorted({max(1.0, m * e) for e in (exp / 10, exp, exp * 10) for m in (1, 2, 5)}):
        if math.ceil(v / step) <= ticks:
            return float(math.ceil(v / step) * step), float(step)
    return float(v), float(v)


def bar_line_chart(labels: Sequence[str], bars: Sequence[float], line: Sequence[float], *,
                   bar_label: str = "bars", line_label: str = "line", y_label: str = "",
                   marker: tuple[int, str] | None = None, shade: tuple[int, int] | None = None,
                   shade_label: str = "", title: str = "Chart", desc: str = "",
                   width: float = 940, height: float = 320) -> Markup:
    """Bars (e.g. new codes per transcript) and a line with points (e.g. cumulative codes) on one axis.

    ``marker``: (position after which to draw a dashed vertical line, its label), positions being
    1-based counts of categories (``marker=(4, "…")`` draws between the 4th and 5th); ``shade``:
    (first, last) 1-based categories to tint (e.g. the run that confirmed saturation).
    """
    n = len(labels)
    longest = max([text_width(_clip(lbl, 28), 11) for lbl in labels] or [20])
    rotate = n > 0 and longest > (width - 90) / max(n, 1) - 6
    left, right, top = 56, 16, 40
    bottom = (longest * 0.72 + 22) if rotate else 34
    height = max(height, top + 150 + bottom)
    plot_w, plot_h = width - left - right, height - top - bottom
    ymax, step = _nice_max(max([*bars, *line, 1]))
    band = plot_w / max(n, 1)
    bar_w = min(44.0, band * 0.55)

    def y_of(v: float) -> float:
        return top + plot_h - (v / ymax) * plot_h

    body: list[str] = []
    if shade is not None and n:
        a, b = max(1, shade[0]), min(n, shade[1])
        if a <= b:
            body.append(f'<rect x="{_num(left + (a - 1) * band)}" y="{_num(top)}" width="{_num((b - a + 1) * band)}" '
                        f'height="{_num(plot_h)}" fill="{ACCENT}" fill-opacity="0.08"/>')
            if shade_label:
                body.append(_text(left + (a - 1) * band + 4, top + 12, shade_label, size=10, fill=ACCENT))
    # grid and y axis
    k = 0
    while k * step <= ymax + 1e-9:
        v = k * step
        y = y_of(v)
        body.append(f'<line x1="{left}" x2="{_num(left + plot_w)}" y1="{_num(y)}" y2="{_num(y)}" stroke="{GRID}" '
                    f'stroke-width="{1 if k == 0 else 0.5}"/>')
        body.append(_text(left - 6, y + 4, f"{v:g}", size=10, anchor="end", fill=MUTED))
        k += 1
    if y_label:
        body.append(f'<text x="14" y="{_num(top + plot_h / 2)}" font-size="11" fill="{MUTED}" text-anchor="middle" '
                    f'transform="rotate(-90 14 {_num(top + plot_h / 2)})">{_e(y_label)}</text>')
    # bars
    for i, v in enumerate(bars):
        cx = left + band * (i + 0.5)
        y = y_of(v)
        body.append(f'<g><title>{_e(labels[i])}: {_e(_fmt_count(v))} {_e(bar_label)}</title>'
                    f'<rect x="{_num(cx - bar_w / 2)}" y="{_num(y)}" width="{_num(bar_w)}" height="{_num(top + plot_h - y)}" '
                    f'fill="{BLUES[3]}"/>'
                    + (_text(cx, top + plot_h - 5, _fmt_count(v), size=10, anchor="middle", fill=INK)
                       if v and top + plot_h - y >= 16  # inside the bar's foot, clear of the line's points
                       else _text(cx + bar_w / 2 + 3, top + plot_h - 3, _fmt_count(v), size=10, fill=MUTED) if v else "")
                    + "</g>")
    # line
    if line:
        pts = " ".join(f"{_num(left + band * (i + 0.5))},{_num(y_of(v))}" for i, v in enumerate(line))
        body.append(f'<polyline points="{pts}" fill="none" stroke="{BLUES[7]}" stroke-width="2.25" '
                    f'stroke-linejoin="round" stroke-linecap="round"/>')
        for i, v in enumerate(line):
            cx, cy = left + band * (i + 0.5), y_of(v)
            body.append(f'<g><title>{_e(labels[i])}: {_e(_fmt_count(v))} {_e(line_label)}</title>'
                        f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="3.5" fill="#ffffff" stroke="{BLUES[7]}" '
                        'stroke-width="2"/></g>')
    # marker
    if marker is not None and n:
        pos, text = marker
        x = left + band * pos
        body.append(f'<line x1="{_num(x)}" x2="{_num(x)}" y1="{_num(top - 6)}" y2="{_num(top + plot_h)}" stroke="{ACCENT}" '
                    f'stroke-width="1.75" stroke-dasharray="5 4"/>')
        anchor = "end" if pos > n / 2 else "start"
        body.append(_text(x + (-5 if anchor == "end" else 5), top - 10, text, size=11, anchor=anchor, fill=ACCENT,
                          weight="600"))
    body += _x_labels(labels, [left + band * (i + 0.5) for i in range(n)], top + plot_h, rotate)
    body += _bar_line_legend(left, bar_label, line_label)
    return _svg(width, height, body, title, desc, "chart barline")


def _x_labels(labels: Sequence[str], centers: Sequence[float], axis_y: float, rotate: bool) -> list[str]:
    """Category labels under the x axis, rotated 40° when they do not fit side by side."""
    body: list[str] = []
    for i, lbl in enumerate(labels):
        cx = centers[i]
        shown = _clip(lbl, 28)
        if rotate:
            y0 = axis_y + 12
            body.append(f'<text x="{_num(cx)}" y="{_num(y0)}" font-size="11" fill="{INK}" text-anchor="end" '
                        f'transform="rotate(-40 {_num(cx)} {_num(y0)})">{_e(shown)}</text>')
        else:
            body.append(_text(cx, axis_y + 16, shown, size=11, anchor="middle"))
    return body


def _bar_line_legend(left: float, bar_label: str, line_label: str) -> list[str]:
    """The legend at the top left: a bar swatch and a line-with-point swatch, each with its label."""
    body: list[str] = []
    lx = left
    body.append(f'<rect x="{lx}" y="8" width="12" height="10" fill="{BLUES[3]}"/>')
    body.append(_text(lx + 16, 17, bar_label, size=11))
    lx += 16 + text_width(bar_label, 11) + 18
    body.append(f'<line x1="{_num(lx)}" x2="{_num(lx + 18)}" y1="13" y2="13" stroke="{BLUES[7]}" stroke-width="2.25"/>'
                f'<circle cx="{_num(lx + 9)}" cy="13" r="3" fill="#ffffff" stroke="{BLUES[7]}" stroke-width="2"/>')
    body.append(_text(lx + 22, 17, line_label, size=11))
    return body


def _fmt_count(v: float) -> str:
    return f"{v:g}"


# --------------------------------------------------------------------------------- CI whiskers

def ci_whisker(value: float | None, low: float | None = None, high: float | None = None, *,
               lo: float = 0.0, hi: float = 1.0, refs: Sequence[float] = (0.667, 0.8), width: float = 104,
               height: float = 16, label: str = "") -> Markup:
    """A one-row dot-and-whisker plot of ``value`` [``low``, ``high``] on [lo, hi], with reference lines.

    Values outside the scale are drawn at its edge with an open marker.
    """
    def bad(v) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))

    pad = 4
    span = width - 2 * pad

    def x_of(v: float) -> float:
        return pad + (max(lo, min(hi, v)) - lo) / (hi - lo) * span

    mid = height / 2
    body = [f'<line x1="{pad}" x2="{_num(width - pad)}" y1="{_num(mid)}" y2="{_num(mid)}" stroke="{GRID}" stroke-width="1"/>']
    for r in refs:
        body.append(f'<line x1="{_num(x_of(r))}" x2="{_num(x_of(r))}" y1="2" y2="{_num(height - 2)}" stroke="{MUTED}" '
                    f'stroke-width="0.75" stroke-dasharray="2 2"/>')
    if value is not None and not bad(value):
        if low is not None and high is not None and not bad(low) and not bad(high):
            body.append(f'<line x1="{_num(x_of(low))}" x2="{_num(x_of(high))}" y1="{_num(mid)}" y2="{_num(mid)}" '
                        f'stroke="{BLUES[6]}" stroke-width="3" stroke-linecap="round"/>')
        outside = value < lo or value > hi
        body.append(f'<circle cx="{_num(x_of(value))}" cy="{_num(mid)}" r="3.5" '
                    f'fill="{"#ffffff" if outside else BLUES[8]}" stroke="{BLUES[8]}" stroke-width="1.5"/>')
    title = label or ("undefined" if bad(value) else f"{value:.2f}" + (
        f" [{low:.2f}, {high:.2f}]" if not bad(low) and not bad(high) else ""))
    return _svg(width, height, body, title, "", "chart whisker")
