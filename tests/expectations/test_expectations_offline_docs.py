"""Issue 12: the Data Docs linked from every report index work offline. GX's pages load their
scripts and styles from CDNs; ours load copies kept in the site, and a real Chromium with the
network blocked shows the index's tables (drawn by bootstrap-table) and a validation page's
results, styled, with their icons, having asked for nothing outside the machine."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from planted_worlds import make_settings, planted_world
from qa_tables import write_tables

from core.cycles import Cycle
from expectations import load_suites, run_validation
from expectations.offline_docs import LOCAL_COPIES, VENDOR, external_loads, offline_html
from tests.reports.offline_browser import OfflineChromium

GX_TEMPLATES = ("page.j2", "index_page.j2", "page_minimal.j2", "js_script_imports.j2")
DROPPED = {
    "https://cdn.jsdelivr.net/npm/vega@5",
    "https://cdn.jsdelivr.net/npm/vega-lite@5",
    "https://cdn.jsdelivr.net/npm/vega-embed@6",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css",
}
"""What the offline pages go without (no Vega chart in our suites; no dark theme)."""


def gx_template(name: str) -> str:
    from great_expectations.render.view import view

    return (Path(view.__file__).parent / "templates" / name).read_text(encoding="utf-8")


def test_every_cdn_asset_of_gx_is_kept_locally_or_dropped_on_purpose(gx: ModuleType) -> None:
    """A GX upgrade that changes an address fails here, not silently offline."""
    for name in GX_TEMPLATES:
        page = gx_template(name)
        assert set(external_loads(page)) <= set(LOCAL_COPIES) | DROPPED, name
        assert external_loads(offline_html(page, "../", Path("/nowhere"))) == [], name
    assert all((VENDOR / local).is_file() for local in LOCAL_COPIES.values())
    licences = {p.stem for p in (VENDOR / "licenses").iterdir()}
    assert licences == {
        "jquery",
        "popper",
        "bootstrap",
        "bootstrap-table",
        "bootstrap-datepicker",
        "fontawesome-free",
    }


def test_a_page_is_pointed_at_the_site_copies() -> None:
    page = (
        '<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/'
        'bootstrap.min.css"/>\n<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/'
        '1.12.9/umd/popper.min.js" integrity="sha384-x" crossorigin="anonymous"></script>\n'
        '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>\n'
        '<img class="NO-CACHE" src="https://example.org/logo-long.png?d=20261204T1Z" alt="GX"/>\n'
        "<style>.a { background: url('https://example.org/dark.png') 0 0; }</style>\n"
        '<a href="https://greatexpectations.io">GX</a>'
    )
    assert offline_html(page, "../../", Path("/nowhere")) == (
        '<link rel="stylesheet" href="../../static/vendor/bootstrap.min.css"/>\n'
        '<script src="../../static/vendor/popper.min.js"></script>\n\n'
        '<img class="NO-CACHE" src="" alt="GX"/>\n'
        "<style>.a { background: none 0 0; }</style>\n"
        '<a href="https://greatexpectations.io">GX</a>'
    )


@pytest.fixture(scope="module")
def data_docs(gx: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data Docs of a validation with failing rules (the planted world)."""
    root = tmp_path_factory.mktemp("docs")
    settings = make_settings(root)
    write_tables(settings.warehouse, [planted_world("2023-Y").world, planted_world().world])
    summary = run_validation(settings, Cycle.parse("2024-Y"))
    assert summary.data_docs_index is not None
    return summary.data_docs_index.parent


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfflineChromium]:
    chromium = OfflineChromium(tmp_path_factory.mktemp("profile"))
    yield chromium
    chromium.close()


SHOWN = """(() => {
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const icons = [...document.querySelectorAll("i.fas")].filter(shown);
  return {
    rows: [...document.querySelectorAll("table tbody tr")].filter(shown).length,
    text: document.body.innerText,
    navbar: getComputedStyle(document.querySelector("nav.navbar")).display,
    iconFont: icons.length ? getComputedStyle(icons[0], "::before").fontFamily : null,
    iconsDrawn: icons.filter((i) => i.getBoundingClientRect().width >= 8).length,
    icons: icons.length,
  };
})()"""


@pytest.mark.slow
def test_the_data_docs_show_their_tables_offline(data_docs: Path, browser: OfflineChromium) -> None:
    suites = sorted(s.name for s in load_suites())
    assert not [p for p in data_docs.rglob("*.html") if external_loads(p.read_text("utf-8"))]

    index = browser.visit((data_docs / "index.html").as_uri(), SHOWN)
    assert index.external == [] and index.blocked == []
    assert index.errors == []
    assert all(url.startswith("file:") for url in index.requested if "vendor" in url)
    shown = index.value
    assert shown["navbar"] == "flex"  # Bootstrap's stylesheet applies
    assert shown["rows"] == len(suites)  # the validations table, drawn by bootstrap-table
    assert all(suite in shown["text"] for suite in suites)
    assert "Showing 1 to" in shown["text"]
    assert shown["iconFont"] == '"Font Awesome 6 Free"' and shown["iconsDrawn"] == shown["icons"]

    failing = next((data_docs / "validations" / "commune_checks").rglob("*.html"))
    page = browser.visit(failing.as_uri(), SHOWN)
    assert page.external == [] and page.blocked == [] and page.errors == []
    shown = page.value
    assert shown["navbar"] == "flex" and shown["rows"] >= 6
    assert re.search(r"Failed|Unsuccessful|✗|failed", shown["text"]), shown["text"][:500]
    assert shown["iconFont"] == '"Font Awesome 6 Free"' and shown["iconsDrawn"] == shown["icons"]
