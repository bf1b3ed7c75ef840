"""`read_inputs`: what each report reads, digested by the warehouse (DuckDB, PostgreSQL)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from report_marts import SyntheticMarts, write_marts
from report_support import CYCLE, DISTRICT, POST_CYCLE, PROVINCE, TREND_CYCLES, Planted

from core.cycles import Cycle
from core.warehouse import Warehouse
from reports.errors import MissingMarts
from reports.inputs import read_inputs
from reports.load import ReportBuilder, check_marts, load_cycle

pytestmark = pytest.mark.xdist_group("reports")

RENDERER = b"renderer"
COUNTRY = ("country", "VN")


@pytest.fixture
def copy(tmp_path: Path, warehouse: Path) -> str:
    """A warehouse of province 58 the test may change."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy2(warehouse, path)
    return str(path)


def changed_by(url: str, *updates: str, renderer: bytes = RENDERER) -> set[tuple[str, str]]:
    """The reports whose digest these statements change."""
    before = read_inputs(url, CYCLE, RENDERER).digests
    with Warehouse(url).connect() as con:
        for sql in updates:
            con.execute(sql)
    after = read_inputs(url, CYCLE, renderer).digests
    assert after.keys() == before.keys()
    return {key for key, digest in after.items() if digest != before[key]}


def test_a_warehouse_built_before_the_country_rows_says_to_rebuild(copy: str) -> None:
    with Warehouse(copy).connect() as con:
        con.execute("delete from marts.dim_admin_units where unit_level = 'country'")
    with pytest.raises(MissingMarts, match="--full-refresh"):
        read_inputs(copy, CYCLE, RENDERER)


def test_every_report_of_the_cycle_has_its_own_digest(copy: str) -> None:
    inputs = read_inputs(copy, CYCLE, RENDERER)
    builder = ReportBuilder(load_cycle(copy, CYCLE))
    assert inputs.units == builder.units_to_report()
    assert inputs.has_figures and inputs.generated_from == copy
    assert len(set(inputs.digests.values())) == len(inputs.units) == 9
    assert read_inputs(copy, CYCLE, RENDERER).digests == inputs.digests


def test_the_digests_do_not_depend_on_the_order_the_marts_come_in(
    copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `check_marts` gives a set, which each process orders by its own string hashes
    # (PYTHONHASHSEED): the next run must find the same digests, or it builds every report again.
    def listed(reverse: bool) -> Callable[..., set[str]]:
        class Ordered(set[str]):
            def __iter__(self) -> Iterator[str]:
                return iter(sorted(set.__iter__(self), reverse=reverse))

        return lambda *args: Ordered(check_marts(*args))

    digests = []
    for reverse in (False, True):
        monkeypatch.setattr("reports.inputs.check_marts", listed(reverse))
        digests.append(read_inputs(copy, CYCLE, RENDERER).digests)
    assert digests[0] == digests[1]


def test_a_commune_figure_is_read_by_its_district_only(copy: str, planted: Planted) -> None:
    # The province's breakdown shows districts, the country's provinces: neither shows it.
    assert changed_by(
        copy,
        "update marts.fct_indicator_values set value = coalesce(value, 0) + 1 "
        f"where cycle = '2024-Y' and unit_code = '{planted.many_abused}' "
        "and indicator_code = 'CT02'",
    ) == {("district", DISTRICT)}


def test_district_and_province_figures_are_read_one_level_up(copy: str) -> None:
    district = (
        "update marts.fct_indicator_values set value = coalesce(value, 0) + 1 "
        f"where cycle = '2024-Y' and unit_code = '{DISTRICT}' and indicator_code = 'CT14'"
    )
    assert changed_by(copy, district) == {("district", DISTRICT), ("province", PROVINCE)}
    province = district.replace(f"'{DISTRICT}'", f"'{PROVINCE}'")
    assert changed_by(copy, province) == {("province", PROVINCE), COUNTRY}


def test_a_late_return_and_a_finding_are_read_by_every_report_above(
    copy: str, planted: Planted
) -> None:
    above = {("district", DISTRICT), ("province", PROVINCE), COUNTRY}
    assert (
        changed_by(
            copy,
            "update marts.fct_return_status set superseded_count = superseded_count + 1 "
            f"where cycle = '2024-Y' and reporter_code = '{planted.many_abused}'",
        )
        == above
    )
    assert (
        changed_by(
            copy,
            "update marts.fct_quality_issues set message_en = message_en || '.' "
            "where element_code = 'live_births'",
        )
        == above
    )


def test_rows_and_columns_the_reports_do_not_read_change_nothing(copy: str) -> None:
    assert not changed_by(
        copy,
        "update marts.fct_indicator_values set value = coalesce(value, 0) + 1 "
        "where cycle = '2023-Y'",
        "alter table marts.fct_return_status add column note varchar",
        "update marts.fct_return_status set note = 'checked'",
    )
    # The country's own rows: its report alone.
    assert changed_by(
        copy,
        "update marts.fct_indicator_values set numerator = coalesce(numerator, 0) + 1 "
        "where cycle = '2024-Y' and unit_level = 'country'",
    ) == {COUNTRY}


def test_a_units_series_is_read_by_its_own_report(copy: str) -> None:
    """An earlier cycle's figures (a late return to 2023-Y) reach the 2024-Y report of the
    unit through its series; no other report shows that series."""
    series = (
        "update marts.fct_indicator_series set value = coalesce(value, 0) + 1 "
        "where cycle = '2023-Y' and unit_code = '{}' and indicator_code = 'CT14'"
    )
    assert changed_by(copy, series.format(DISTRICT)) == {("district", DISTRICT)}
    assert changed_by(copy, series.format(PROVINCE)) == {("province", PROVINCE)}
    assert changed_by(copy, series.format("VN")) == {COUNTRY}


def test_a_name_or_the_renderer_changes_every_report(copy: str) -> None:
    every = set(read_inputs(copy, CYCLE, RENDERER).digests)
    assert changed_by(copy, renderer=b"another renderer") == every
    assert (
        changed_by(
            copy,
            "update marts.dim_admin_units set name_vi = name_vi || ' ' "
            "where unit_level = 'commune' and unit_code = (select min(unit_code) "
            "from marts.dim_admin_units where unit_level = 'commune')",
        )
        == every
    )


@pytest.mark.parametrize(
    ("fixture", "cycle"),
    [("warehouse", CYCLE), ("post_warehouse", POST_CYCLE), ("trend_warehouse", TREND_CYCLES[-1])],
)
def test_the_units_to_render_need_only_their_own_indicator_values(
    request: pytest.FixtureRequest, fixture: str, cycle: Cycle
) -> None:
    path = str(request.getfixturevalue(fixture))
    inputs = read_inputs(path, cycle, RENDERER)
    whole = ReportBuilder(load_cycle(path, cycle))
    for unit in inputs.units:
        codes = inputs.value_codes_of([unit])
        marts = load_cycle(path, cycle, unit_codes=codes)
        if unit.level == "district":
            assert (
                len(marts.frames["indicator_values"])
                < len(whole.marts.frames["indicator_values"]) / 2
            )
        part = ReportBuilder(marts)
        assert part.build(unit.level, unit.code) == whole.build(unit.level, unit.code), unit


@pytest.mark.postgres
def test_postgresql_digests_the_same_rows(
    postgres_url: str, marts: SyntheticMarts, warehouse: Path, planted: Planted
) -> None:
    with Warehouse(postgres_url).connect() as con:
        write_marts(con, marts)
    from_pg = read_inputs(postgres_url, CYCLE, RENDERER)
    assert from_pg.units == read_inputs(str(warehouse), CYCLE, RENDERER).units
    assert changed_by(
        postgres_url,
        "update marts.fct_return_status set on_time = not on_time "
        f"where cycle = '2024-Y' and reporter_code = '{planted.many_abused}'",
    ) == {("district", DISTRICT), ("province", PROVINCE), COUNTRY}
    unit = next(u for u in from_pg.units if u.level == "district")
    part = ReportBuilder(load_cycle(postgres_url, CYCLE, unit_codes=from_pg.value_codes_of([unit])))
    whole = ReportBuilder(load_cycle(postgres_url, CYCLE))
    assert part.build(unit.level, unit.code) == whole.build(unit.level, unit.code)
