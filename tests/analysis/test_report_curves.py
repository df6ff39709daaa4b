from __future__ import annotations

from partnerlift.interfaces.report import survival_plot


def test_survival_plot_steps_by_hand() -> None:
    """A curve that falls from 1 to 0.5 at day 10 of a 20-day horizon.

    The plot spans x 36 to 348 and y 12 (share 1) to 184 (share 0): day 10 is at
    36 + 10 / 20 * 312 = 192 and the share 0.5 at 184 - 0.5 * 172 = 98.
    """
    curve = {
        "horizon": 20,
        "with": {"times": [0.0, 10.0], "survival": [1.0, 0.5]},
        "without": {"times": [0.0], "survival": [1.0]},
    }

    plot = survival_plot(curve, "Video")

    assert plot is not None
    assert plot.with_points == "36.0,12.0 192.0,12.0 192.0,98.0 348.0,98.0"
    assert plot.without_points == "36.0,12.0 348.0,12.0"


def test_survival_plot_needs_both_curves() -> None:
    curve = {"horizon": 20, "with": {"times": [0.0], "survival": [1.0]}}

    assert survival_plot(curve, "Video") is None
