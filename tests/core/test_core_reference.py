"""core.reference: the provinces a province's communes went to across a reform."""

from __future__ import annotations

from core.hierarchies import hierarchy_versions
from core.reference import reference


def test_a_province_succeeds_to_the_new_provinces_of_its_communes() -> None:
    before, after = (version.id for version in hierarchy_versions()[:2])
    ref = reference()
    # the old Đồng Tháp (87) and Tiền Giang (82) are today's Đồng Tháp (82); Lai Châu keeps 12
    assert ref.successor_provinces(before, "87") == {"82"}
    assert ref.successor_provinces(before, "82") == {"82"}
    assert ref.successor_provinces(before, "12") == {"12"}
    # every old province goes whole to one new province (no old commune spans two)
    for province in ref.units_at(before, "province"):
        assert len(ref.successor_provinces(before, province.code)) == 1, province.code
    # the latest version has no successor
    assert ref.successor_provinces(after, "82") == frozenset()
