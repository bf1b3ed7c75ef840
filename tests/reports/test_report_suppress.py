"""Sensitive small counts at commune level are withheld in what the reports publish."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from report_marts import SyntheticMarts
from report_support import CYCLE, DISTRICT, POST_CYCLE, POST_PROVINCE, PROVINCE, Planted

from core.hierarchies import read_seed
from reports import suppress
from reports.load import ReportBuilder, load_cycle, load_report
from reports.model import BreakdownCell, BreakdownRow, FindingRow

pytestmark = pytest.mark.xdist_group("reports")


@pytest.mark.parametrize(
    ("numerator", "value", "is_count", "expected"),
    [
        (3, 0.12, False, "derived_rate"),
        (1, 0.04, False, "derived_rate"),
        (4, 4.0, True, "small_count"),
        (0, 0.0, False, None),
        (0, 0.0, True, None),
        (5, 0.2, False, None),
        (5, 5.0, True, None),
        (None, 0.3, False, "derived_rate"),  # a rate whose count is unknown
        (None, None, False, None),
    ],
)
def test_commune_cell(
    numerator: float | None, value: float | None, is_count: bool, expected: str | None
) -> None:
    cell = suppress.commune_cell(numerator, value, sensitive=True, is_count=is_count)
    assert cell.suppressed == expected
    assert cell.value == (None if expected else value)


def test_only_sensitive_indicators_are_touched() -> None:
    assert suppress.commune_cell(2, 0.1, sensitive=False, is_count=False).value == 0.1
    numerators = {
        "CT09": "abused",
        "CT06": "hiv_infants_positive",
        "CT11b": "injury_deaths",
        "CT13": "child_marriages",
        "CT11a": "injuries",
        "CT14": "u5_birth_registered",
    }
    assert suppress.sensitive_indicators(numerators) == {"CT09", "CT06", "CT11b", "CT13"}


def row(code: str, count: float | None, reason: str | None = None) -> BreakdownRow:
    cell = BreakdownCell(None if reason else count, reason)  # type: ignore[arg-type]
    return BreakdownRow(code, "commune", code, {"CT13": cell}, None, None)


def test_complementary_suppression_protects_a_lone_withheld_count() -> None:
    rows = [row("1", None, "small_count"), row("2", 9), row("3", 6), row("4", 0.0), row("5", None)]
    out = suppress.complementary(rows, ["CT13"])
    assert [r.values["CT13"].suppressed for r in out] == [
        "small_count",
        None,
        None,
        "complementary",
        None,
    ]
    assert out[3].values["CT13"].value is None
    # Two withheld already: neither can be worked out from the total.
    rows = [row("1", None, "small_count"), row("2", None, "small_count"), row("3", 6)]
    assert suppress.complementary(rows, ["CT13"])[2].values["CT13"].value == 6


def finding(
    unit_is_commune: bool = True, element: str = "abused", observed: float = 3, expected: float = 8
) -> FindingRow:
    published = suppress.finding(
        FindingRow(
            "F0001",
            "cross_source.abused_police",
            "warning",
            "22783",
            "22783",
            None,
            element,
            None,
            observed,
            expected,
            "Xã báo 3, công an báo 8.",
            "Commune 3, police 8.",
        ),
        unit_is_commune=unit_is_commune,
        sensitive=frozenset({"CT09"}),
    )
    return published


def test_findings_on_small_sensitive_commune_counts_are_withheld() -> None:
    withheld = finding()
    assert withheld.suppressed
    assert (withheld.observed, withheld.expected) == (None, None)
    assert "3" not in withheld.message_vi and "3" not in withheld.message_en
    assert "abused" in withheld.message_en
    assert finding(element="abused_cases_police").suppressed
    assert not finding(unit_is_commune=False).suppressed
    assert not finding(element="injuries").suppressed
    assert not finding(observed=12, expected=15).suppressed


def test_district_report_publishes_no_small_commune_count(
    warehouse: Path, marts: SyntheticMarts, planted: Planted
) -> None:
    report = load_report(str(warehouse), CYCLE, "district", DISTRICT)
    cells = {b.unit_code: b.values for b in report.breakdown}

    small = cells[planted.small_abused]["CT09"]
    assert (small.value, small.suppressed) == (None, "derived_rate")
    assert cells[planted.zero_abused]["CT09"].value == 0.0
    assert cells[planted.many_abused]["CT09"].value == pytest.approx(7 / 3000 * 100)
    assert cells[planted.small_marriages]["CT13"].suppressed == "small_count"
    assert cells[planted.complementary]["CT13"].suppressed == "complementary"
    others = [
        c for c in planted.communes if c not in (planted.small_marriages, planted.complementary)
    ]
    assert all(cells[c]["CT13"].value is not None for c in others)
    assert not any(suppress.is_small(values["CT13"].value) for values in cells.values())

    # The district's own figures are exact; so is the warehouse.
    v = marts.frames["fct_indicator_values"]
    exact = v[
        (v["cycle"] == CYCLE.id) & (v["unit_code"] == DISTRICT) & (v["indicator_code"] == "CT13")
    ]["numerator"].iloc[0]
    ct13 = next(i for i in report.indicators if i.indicator_code == "CT13")
    assert ct13.value == exact
    commune_ct09 = v[
        (v["cycle"] == CYCLE.id)
        & (v["unit_code"] == planted.small_abused)
        & (v["indicator_code"] == "CT09")
    ]
    assert commune_ct09["numerator"].iloc[0] == 3

    abused = next(f for f in report.findings if f.element_code == "abused")
    assert abused.suppressed and abused.observed is None


def test_post_reform_province_breakdown_is_by_commune_and_withheld(post_warehouse: Path) -> None:
    marts = load_cycle(str(post_warehouse), POST_CYCLE)
    report = ReportBuilder(marts).build("province", POST_PROVINCE)
    v = marts.frames["indicator_values"]
    small = v[
        (v["unit_level"] == "commune")
        & v["indicator_code"].isin(["CT09", "CT11b"])
        & v["numerator"].map(suppress.is_small)
    ]
    assert len(small) > 0
    cells = {b.unit_code: b.values for b in report.breakdown}
    for r in small.itertuples():
        assert cells[r.unit_code][r.indicator_code].suppressed == "derived_rate"


def test_district_figures_in_a_province_report_are_not_withheld(warehouse: Path) -> None:
    report = load_report(str(warehouse), CYCLE, "province", PROVINCE)
    assert report.breakdown_level == "district"
    assert all(c.suppressed is None for b in report.breakdown for c in b.values.values())
    assert pd.notna(report.breakdown[0].values["CT09"].value)


def test_reports_withhold_exactly_what_the_warehouse_marks_sensitive() -> None:
    # One list: the seed's is_sensitive column reaches dim_data_elements and
    # fct_quality_issues.element_is_sensitive; the reports must not keep a longer one of their
    # own (the police's count of abused children was withheld in reports only).
    seed = read_seed("data_elements.csv")
    marked = {r["element_code"] for r in seed if r["is_sensitive"] == "true"}
    assert marked == suppress.SENSITIVE_COUNTS
    assert "abused_cases_police" in marked
