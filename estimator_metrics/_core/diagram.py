"""The reliability diagram: a PNG of the calibration state, drawn with matplotlib, and the
serialized `Summary` that carries it into an evaluation's event file.

Drawn on the host, not in the graph: a readable diagram needs text (axis labels, ticks, the
caption), which TensorFlow cannot render, and matplotlib's Agg canvas draws without a
display, with the fonts it ships. So matplotlib is the `diagram` extra, imported only where
a diagram is built (`require_matplotlib` raises ImportError naming the extra), never by the
metrics themselves. No pyplot: a `Figure` on its own canvas touches no global state, so
evaluations in threads do not share a figure.
"""

from __future__ import annotations

import io

import numpy as np
import tensorflow as tf

from estimator_metrics._docs import url

#: What `pip install` needs for the diagrams (setup.cfg's extras).
EXTRA = "estimator-metrics[diagram]"
#: Pixels of the PNG: width, height (inches at DPI).
SIZE, DPI = (6.4, 6.4), 100
#: The colorspace of a Summary image holding RGBA pixels.
_RGBA = 4


def title(name: str, default: str) -> str:
    """The diagram's title: the metric's name after it where it is not the default."""
    return "Reliability diagram" + ("" if name == default else f": {name}")


def require_matplotlib(user: str) -> None:
    """ImportError naming the `diagram` extra where matplotlib cannot be imported.

    Called while the graph (or the twin's diagram) is built, so a missing extra fails there,
    not at the end of an evaluation.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as err:
        raise ImportError(
            f"{user} draws the reliability diagram with matplotlib, which is not installed: "
            f"pip install '{EXTRA}' (see {url('calibration.md#the-diagram-extra')})"
        ) from err


def draw_png(
    bins: np.ndarray, *, ece: float, mce: float, binary: bool | None, title: str
) -> tuple[bytes, int, int]:
    """The reliability diagram of the state `bins` [3, num_bins] as (PNG, width, height):
    `figure` on the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure(bins, ece=ece, mce=mce, binary=binary, title=title))
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    pixels_wide, pixels_high = canvas.get_width_height()
    return buffer.getvalue(), pixels_wide, pixels_high


def figure(bins: np.ndarray, *, ece: float, mce: float, binary: bool | None, title: str):
    """The reliability diagram of the state `bins` [3, num_bins], a matplotlib `Figure`.

    Top: accuracy per non-empty bin (bars) against its mean confidence (the gap to it in
    red), and the diagonal of perfect calibration. Bottom: each bin's share of the weight.
    Caption: ECE and MCE (computed by the metric from the same state), bins, total weight.
    `binary` names the axes for the probability of class 1 (True), the top-label confidence
    (False), or both readings (None: not known).
    """
    from matplotlib.figure import Figure

    weight, confidence_sum, correct_sum = np.asarray(bins, np.float64)
    num_bins, total = weight.size, weight.sum()
    full = weight > 0
    accuracy = np.divide(correct_sum, weight, out=np.zeros(num_bins), where=full)
    confidence = np.divide(confidence_sum, weight, out=np.zeros(num_bins), where=full)
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    width, left = np.diff(edges), edges[:-1]
    x_label, y_label = _axis_labels(binary)

    drawing = Figure(figsize=SIZE, dpi=DPI)
    top, bottom = drawing.subplots(
        2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.08}
    )
    top.bar(
        left[full],
        accuracy[full],
        width[full],
        align="edge",
        color="#4c72b0",
        edgecolor="#1f3b66",
        linewidth=0.6,
        label="accuracy per bin",
    )
    top.bar(
        left[full],
        (confidence - accuracy)[full],
        width[full],
        bottom=accuracy[full],
        align="edge",
        color="#dd4444",
        alpha=0.3,
        edgecolor="#b22222",
        linewidth=0.0,
        hatch="//",
        label="gap to mean confidence",
    )
    top.hlines(
        confidence[full],
        left[full],
        (left + width)[full],
        colors="#b22222",
        linewidth=2.0,
        label="mean confidence per bin",
    )
    top.plot(
        [0, 1], [0, 1], linestyle="--", color="#333333", linewidth=1.2, label="perfect calibration"
    )
    top.set(xlim=(0, 1), ylim=(0, 1), ylabel=y_label, title=title)
    top.legend(loc="upper left", fontsize=9, framealpha=0.9)
    top.grid(alpha=0.3)
    share = weight / total if total > 0 else weight
    bottom.bar(
        left, share, width, align="edge", color="#8c8c8c", edgecolor="#555555", linewidth=0.6
    )
    bottom.set(
        xlim=(0, 1),
        ylim=(0, max(1e-9, share.max()) * 1.15),
        xlabel=x_label,
        ylabel="share of weight",
    )
    bottom.grid(alpha=0.3)
    drawing.text(
        0.5,
        0.015,
        f"ECE {ece:.4f}    MCE {mce:.4f}    {num_bins} bins    total weight {total:,.6g}",
        ha="center",
        va="bottom",
        fontsize=11,
    )
    drawing.subplots_adjust(left=0.12, right=0.97, top=0.94, bottom=0.14)
    return drawing


def image_summary(png: bytes, width: int, height: int, tag: str) -> bytes:
    """A serialized `Summary` holding one PNG image under `tag` (what Estimator writes into
    the evaluation's event file for a bytes metric value, as "key/0")."""
    image = tf.compat.v1.Summary.Image(
        height=height, width=width, colorspace=_RGBA, encoded_image_string=png
    )
    return tf.compat.v1.Summary(
        value=[tf.compat.v1.Summary.Value(tag=tag, image=image)]
    ).SerializeToString()


def _axis_labels(binary: bool | None) -> tuple[str, str]:
    if binary is None:
        return "confidence", "accuracy"
    if binary:
        return "predicted probability of class 1", "fraction of class 1"
    return "confidence (largest class probability)", "accuracy (top label correct)"
