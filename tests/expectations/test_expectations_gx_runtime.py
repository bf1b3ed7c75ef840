"""GX's list of failing rows comes in two shapes; both give the same keys. Data Docs views."""

from __future__ import annotations

from types import ModuleType

import pytest

from expectations.gx_runtime import unexpected_keys


def test_unexpected_keys_from_rows_or_columns() -> None:
    rows = [
        {"value": 5.0, "unit_code": "16204", "element_code": "abused"},
        {"value": 7.0, "unit_code": "16207", "element_code": "abused"},
    ]
    columns = [{"unit_code": ["16204", "16207"], "element_code": ["abused", "abused"]}]
    expected = [["16204", "abused"], ["16207", "abused"]]
    for shape in (rows, columns, columns[0]):
        keys = unexpected_keys(shape, ["unit_code", "element_code"])
        assert keys.values.tolist() == expected
    assert unexpected_keys(None, ["unit_code"]).empty
    assert list(unexpected_keys([], ["unit_code"]).columns) == ["unit_code"]


def test_data_docs_views_do_without_a_template_cache(
    gx: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no safe folder for compiled templates, Data Docs compile them as GX does."""
    import jinja2

    from expectations import gx_views

    def unsafe() -> None:
        raise RuntimeError("Cannot determine safe temp directory.")

    monkeypatch.setattr(jinja2, "FileSystemBytecodeCache", unsafe)
    gx_views._bytecode_cache.cache_clear()
    try:
        assert gx_views.CachedJinjaPageView().env.bytecode_cache is None
    finally:
        gx_views._bytecode_cache.cache_clear()
