"""The loader reads the marts (DuckDB, PostgreSQL) into `ReportData` for any unit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from report_marts import SyntheticMarts, synthetic_marts, write_duckdb, write_marts
from report_support import CYCLE, DISTRICT, POST_CYCLE, POST_PROVINCE, PROVINCE, Planted

from core.reference import SEEDS_DIR
from core.warehouse import Warehouse
from reports.load import INPUTS, MissingMarts, ReportBuilder, _plain, load_cycle, load_report

pytestmark = pytest.mark.xdist_group("reports")


def mart_rows(marts: SyntheticMarts, cycle: str, level: str, code: str) -> pd.DataFrame:
    v = marts.frames["fct_indicator_values"]
    return v[(v["cycle"] == cycle) & (v["unit_level"] == level) & (v["unit_code"] == code)]


def test_the_inputs_read_columns_the_marts_contracts_declare() -> None:
    """What the reports read is declared once (`INPUTS`); every column is one of its mart's
    contract (typed, enforced by dbt) or, for the quality findings, of its documentation."""
    marts = SEEDS_DIR.parent / "models" / "marts"
    models = {
        m["name"]: m
        for path in marts.rglob("*.yml")
        for m in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", [])
    }
    for i in INPUTS.values():
        model = models[i.mart]
        declared = {c["name"]: c for c in model["columns"]}
        assert set(i.columns) <= set(declared), i.mart
        assert i.sql().startswith(f"select {', '.join(i.columns)} from marts.{i.mart}")
        if i.mart != "fct_quality_issues":
            assert model["config"]["contract"] == {"enforced": True}, i.mart
            assert all(declared[c].get("data_type") for c in i.columns), i.mart


def test_district_report_holds_the_marts_figures(
    warehouse: Path, marts: SyntheticMarts, planted: Planted
) -> None:
    report = load_report(str(warehouse), CYCLE, "district", DISTRICT)

    assert (report.unit.code, report.unit.level, report.unit.name_vi) == (
        DISTRICT,
        "district",
        "Huyện Bác Ái",
    )
    assert (report.unit.parent_code, report.unit.parent_name_vi) == (PROVINCE, "Tỉnh Ninh Thuận")
    assert (report.cycle, report.previous_cycle, report.unit.hierarchy) == (
        "2024-Y",
        "2023-Y",
        "pre_reform",
    )
    assert report.generated_from == str(warehouse)

    rows = mart_rows(marts, CYCLE.id, "district", DISTRICT).set_index("indicator_code")
    previous = mart_rows(marts, "2023-Y", "district", DISTRICT).set_index("indicator_code")
    assert len(report.indicators) == 34
    for ind in report.indicators:
        expected = rows.loc[ind.indicator_code]
        assert ind.value == pytest.approx(None if pd.isna(expected["value"]) else expected["value"])
        assert ind.target_status == expected["target_status"]
        old = previous.loc[ind.indicator_code, "value"]
        assert ind.previous_value == pytest.approx(None if pd.isna(old) else old)

    ct03a = next(i for i in report.indicators if i.indicator_code == "CT03a")
    assert (ct03a.numerator, ct03a.denominator, ct03a.value) == (19, 2000, pytest.approx(9.5))
    assert (ct03a.communes_included, ct03a.communes_in_force) == (1, 9)
    assert (ct03a.target_comparator, ct03a.target_value, ct03a.target_status) == (
        "<",
        9.5,
        "not_met",
    )
    assert ct03a.change == pytest.approx(9.5 - previous.loc["CT03a", "value"])

    # Every commune of the district and its three agencies, with what became of each return.
    status = marts.frames["fct_return_status"]
    status = status[(status["cycle"] == CYCLE.id) & (status["district_code"] == DISTRICT)]
    assert sorted(r.reporter_code for r in report.reporting) == sorted(status["reporter_code"])
    assert [r.reporter_code for r in report.reporting if r.kind == "agency"] == [
        f"{DISTRICT}-education",
        f"{DISTRICT}-health",
        f"{DISTRICT}-police",
    ]
    by_code = status.set_index("reporter_code")
    for r in report.reporting:
        assert r.received == bool(by_code.loc[r.reporter_code, "received"])
        assert r.status == (
            "missing"
            if not r.received
            else "on_time"
            if by_code.loc[r.reporter_code, "on_time"]
            else "late"
        )
    assert next(r for r in report.reporting if r.kind == "agency").reporter_name_vi == (
        "Phòng Giáo dục và Đào tạo huyện Bác Ái"
    )

    assert report.breakdown_level == "commune"
    assert [b.unit_code for b in report.breakdown] == list(planted.communes)
    assert [r.reporter_kind for r in report.reporting_rates] == ["commune", "agency", "all"]


def test_findings_are_linked_to_the_figures_they_touch(warehouse: Path, planted: Planted) -> None:
    report = load_report(str(warehouse), CYCLE, "district", DISTRICT)
    births = next(f for f in report.findings if f.element_code == "live_births")
    touched = {i.indicator_code for i in report.indicators if births.finding_id in i.finding_ids}
    assert touched == {"CT03a", "CT03b", "CT03c"}
    row = next(b for b in report.breakdown if b.unit_code == planted.live_births_issue)
    assert births.finding_id in row.finding_ids
    assert {code for code, cell in row.values.items() if births.finding_id in cell.finding_ids} == {
        "CT03a",
        "CT03b",
        "CT03c",
    }
    health = next(r for r in report.reporting if r.reporter_code == f"{DISTRICT}-health")
    assert births.finding_id in health.finding_ids
    # Errors come first, and ids are F0001, F0002, ... in that order.
    assert [f.finding_id for f in report.findings] == [
        f"F{n:04d}" for n in range(1, len(report.findings) + 1)
    ]
    severities = [f.severity for f in report.findings]
    assert severities == sorted(severities, key=lambda s: s != "error")


def test_units_to_report_before_the_reform(warehouse: Path) -> None:
    builder = ReportBuilder(load_cycle(str(warehouse), CYCLE))
    units = builder.units_to_report()
    assert [(u.level, u.code) for u in units][:2] == [("province", PROVINCE), ("district", "582")]
    assert [u.level for u in units].count("district") == 7
    assert units[-1].level == "country"
    province = builder.build("province", PROVINCE)
    assert province.breakdown_level == "district"
    assert len(province.breakdown) == 7
    assert {r.unit_level for r in province.part_rates} == {"district"}
    assert len(province.reporting) == 62 + 7 * 3


def test_the_country_lists_the_returns_needing_attention(warehouse: Path) -> None:
    """A national cycle expects ~12,000 returns: the country's report lists the missing, late,
    partly refused or flagged ones, and counts them all; its provinces list every one."""
    builder = ReportBuilder(load_cycle(str(warehouse), CYCLE))
    country = builder.build("country", "VN")
    province = builder.build("province", PROVINCE)
    assert country.returns_expected == province.return_counts()  # one province in the marts
    assert country.return_counts() == province.return_counts()
    attention = [r for r in province.reporting if r.needs_attention]
    assert 0 < len(attention) < len(province.reporting)
    assert [r.reporter_code for r in country.reporting] == [r.reporter_code for r in attention]
    assert province.returns_expected is None


def test_units_to_report_after_the_reform(post_warehouse: Path) -> None:
    builder = ReportBuilder(load_cycle(str(post_warehouse), POST_CYCLE))
    assert [(u.level, u.code) for u in builder.units_to_report()] == [
        ("province", POST_PROVINCE),
        ("country", "VN"),
    ]
    report = builder.build("province", POST_PROVINCE)
    assert report.unit.hierarchy == "post_reform"
    assert report.breakdown_level == "commune"
    assert len(report.breakdown) == 38
    assert sorted(r.reporter_code for r in report.reporting if r.kind == "agency") == [
        "12-education",
        "12-health",
        "12-police",
    ]
    assert report.reporting[-1].reporter_name_vi == "Công an tỉnh Lai Châu"
    assert report.part_rates == []


def test_the_country_report_shows_the_marts_country_rows(tmp_path: Path) -> None:
    two = synthetic_marts([CYCLE.previous_comparable, CYCLE], provinces=["58", "48"], seed=3)
    path = write_duckdb(tmp_path / "two.duckdb", two)
    country = load_report(str(path), CYCLE, "country", "VN")

    values = two.frames["fct_indicator_values"]
    provinces = values[values["unit_level"] == "province"]
    for code in ("CT03a", "CT14", "CT13", "CT21"):
        ind = next(i for i in country.indicators if i.indicator_code == code)
        now = provinces[(provinces["cycle"] == CYCLE.id) & (provinces["indicator_code"] == code)]
        before = provinces[(provinces["cycle"] == "2023-Y") & (provinces["indicator_code"] == code)]
        factor = {"CT03a": 1000, "CT14": 100, "CT13": 1, "CT21": 100}[code]
        if code == "CT13":
            assert ind.value == pytest.approx(now["numerator"].sum())
            assert ind.previous_value == pytest.approx(before["numerator"].sum())
        else:
            assert ind.value == pytest.approx(
                now["numerator"].sum() / now["denominator"].sum() * factor
            )
            assert ind.previous_value == pytest.approx(
                before["numerator"].sum() / before["denominator"].sum() * factor
            )
        assert ind.communes_in_force == now["communes_in_force"].sum()
    # the country has no plan: the national 2025 milestone, as the mart judged it
    country_rows = values[(values["unit_level"] == "country") & (values["cycle"] == CYCLE.id)]
    by_code = country_rows.set_index("indicator_code")
    for ind in country.indicators:
        assert ind.target_status == by_code.loc[ind.indicator_code, "target_status"]
        if ind.target_status in ("met", "not_met"):
            assert (ind.target_source, ind.target_year, ind.plan_id) == ("national", 2025, None)
    assert {"met", "not_met"} <= {i.target_status for i in country.indicators}
    assert [b.unit_code for b in country.breakdown] == ["48", "58"]
    own = country.own_rates["all"]
    status = two.frames["fct_return_status"]
    status = status[status["cycle"] == CYCLE.id]
    assert own.expected_returns == len(status)
    assert own.reporting_rate == pytest.approx(100 * status["received"].mean())
    assert "2/63" in country.notes[0]


def test_without_quality_findings_the_report_says_checks_have_not_run(
    tmp_path: Path, marts: SyntheticMarts
) -> None:
    path = write_duckdb(tmp_path / "w.duckdb", marts, skip=("fct_quality_issues",))
    report = load_report(str(path), CYCLE, "district", DISTRICT)
    assert report.quality_checked is False
    assert report.findings == []


def test_a_cycle_never_validated_says_checks_have_not_run(
    tmp_path: Path, marts: SyntheticMarts
) -> None:
    # the findings view exists as soon as dbt has run, but `cycle validate` has not
    path = write_duckdb(tmp_path / "w.duckdb", marts)
    with duckdb.connect(str(path)) as con:
        con.execute("delete from quality.validation_runs")
    report = load_report(str(path), CYCLE, "district", DISTRICT)
    assert report.quality_checked is False


def test_a_missing_mart_is_named(tmp_path: Path, marts: SyntheticMarts) -> None:
    path = write_duckdb(
        tmp_path / "w.duckdb", marts, skip=("fct_indicator_values", "fct_reporting_rates")
    )
    with pytest.raises(MissingMarts, match=r"marts\.fct_indicator_values, marts\.fct_reporting"):
        load_cycle(str(path), CYCLE)


@pytest.mark.postgres
def test_postgresql_gives_the_same_reports_as_duckdb(
    postgres_url: str, warehouse: Path, marts: SyntheticMarts
) -> None:
    with Warehouse(postgres_url).connect() as con:
        write_marts(con, marts)
    for level, code in (("district", DISTRICT), ("province", PROVINCE), ("country", "VN")):
        from_pg = load_report(postgres_url, CYCLE, level, code)
        from_duckdb = load_report(str(warehouse), CYCLE, level, code)
        assert from_pg.generated_from == Warehouse(postgres_url).describe()
        assert from_pg.indicators == from_duckdb.indicators
        assert from_pg.reporting == from_duckdb.reporting
        assert from_pg.findings == from_duckdb.findings
        assert from_pg.breakdown == from_duckdb.breakdown
        assert from_pg.reporting_rates == from_duckdb.reporting_rates


def test_expected_values_given_as_text_are_shown_and_withheld_when_small(
    tmp_path: Path, marts: SyntheticMarts
) -> None:
    from reports.html import render_html
    from reports.xlsx import SHEETS, write_xlsx

    path = write_duckdb(tmp_path / "w.duckdb", marts)
    with Warehouse(str(path)).connect() as con:
        con.execute("alter table marts.fct_quality_issues alter column expected_value type varchar")
        con.execute(
            "update marts.fct_quality_issues set expected_value = '≤ 120' "
            "where element_code = 'live_births'"
        )
        con.execute(
            "update marts.fct_quality_issues set observed_value = 12, "
            "expected_value = '≤ 3' where element_code = 'abused'"
        )
    report = load_report(str(path), CYCLE, "district", DISTRICT)
    births = next(f for f in report.findings if f.element_code == "live_births")
    assert (births.observed, births.expected) == (400, "≤ 120")
    abused = next(f for f in report.findings if f.element_code == "abused")
    assert abused.suppressed and abused.expected is None

    assert "≤ 120" in render_html(report)
    book = write_xlsx(report, tmp_path / "r.xlsx")
    import openpyxl

    cells = [
        c.value for row in openpyxl.load_workbook(book)[SHEETS["findings"]].iter_rows() for c in row
    ]
    assert "≤ 120" in cells


def test_values_are_read_as_plain_python_whatever_the_backend_gave() -> None:
    frame = pd.DataFrame(
        {
            "code": ["584", None, float("nan"), "584"],
            "number": [Decimal("1.5"), None, 2, float("nan")],
            "day": [pd.Timestamp("2024-12-01"), pd.NaT, date(2024, 1, 2), None],
            "rate": [1.0, float("nan"), 2.5, 3.0],
        }
    )
    plain = _plain(frame)
    assert plain["code"].tolist() == ["584", None, None, "584"]
    assert plain["number"].tolist() == [1.5, None, 2.0, None]
    assert plain["day"].tolist() == [date(2024, 12, 1), None, date(2024, 1, 2), None]
    assert plain["rate"].tolist() == [1.0, None, 2.5, 3.0]
