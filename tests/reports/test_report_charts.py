"""The trend charts' value axis (`reports.charts.trend_scale`)."""

from __future__ import annotations

import pytest

from reports.charts import trend_scale


@pytest.mark.parametrize(
    ("values", "unit", "expected"),
    [
        ([], "%", (0.0, 1.0)),
        ([0.0, 0.0], "cuộc", (0.0, 1.0)),
        ([12.0, 40.0], "%", (0.0, 50.0)),  # spread from near 0: the axis starts at 0
        ([30.0, 85.0], "%", (0.0, 100.0)),  # a share up to 100
        ([88.4, 91.4, 90.0], "%", (88.0, 92.0)),  # close together, far above 0: zoomed
        ([97.0, 99.5], "%", (96.0, 100.0)),  # never above 100 for a share
        ([289.0, 289.0], "cuộc", (280.0, 300.0)),  # one value: a round range around it
    ],
)
def test_the_axis_holds_every_value_in_a_round_range(
    values: list[float], unit: str, expected: tuple[float, float]
) -> None:
    bottom, top = trend_scale(values, unit)
    assert (bottom, top) == pytest.approx(expected)
    assert all(bottom <= v <= top for v in values)
