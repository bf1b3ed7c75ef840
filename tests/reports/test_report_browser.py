"""Open a generated html report in real headless Chromium (Debian's package) and check what it
shows: the DOM after layout (sizes measured by a small script the test adds to a copy of the
page) and the pixels of a screenshot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from offline_browser import OfflineChromium
from png_pixels import read_png
from report_support import DISTRICT, TREND_PROVINCE, report_path, settings_for

from core.cycles import Cycle
from reports.charts import STATUS_FILL, TREND_LINE
from reports.render import ReportSummary, write_reports

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reports")]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

MEASURE = """
<script>
(function () {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
  const visible = (el) => { const [w, h] = box(el); return w > 0 && h > 0; };
  const out = { charts: [], tables: {} };
  document.querySelectorAll("svg.chart").forEach((svg) => {
    const bars = [...svg.querySelectorAll("rect.bar.value, rect.bar.rate")];
    out.charts.push({ id: svg.id, size: box(svg), bars: bars.length,
                      drawn: bars.filter((b) => box(b)[0] > 0).length,
                      title: svg.querySelector("title").textContent });
  });
  for (const id of ["indicator-table", "returns-table", "findings-table", "breakdown-table"]) {
    const rows = [...document.querySelectorAll("#" + id + " tbody tr")];
    out.tables[id] = rows.filter(visible).length;
  }
  const fill = (sel) => { const el = document.querySelector(sel);
                          return el ? getComputedStyle(el).fill : null; };
  out.metFill = fill("rect.status-met");
  out.notMetFill = fill("rect.status-not_met");
  out.ct03a = document.querySelector("#ind-CT03a td.value").innerText;
  out.title = document.title;
  out.lang = document.documentElement.lang;
  const pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip("headless Chromium missing: apt-get install -y chromium chromium-driver")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_chromium_lays_out_the_report_with_its_charts(
    rendered: ReportSummary, tmp_path: Path
) -> None:
    page = report_path(rendered, "district", DISTRICT, "html")
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8"
    )
    dom = chromium(
        ["--window-size=1280,1000", "--dump-dom", probe.as_uri()], tmp_path / "profile"
    ).stdout
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    measured = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))

    assert measured["lang"] == "vi"
    assert "Huyện Bác Ái" in measured["title"]
    assert measured["tables"]["indicator-table"] == 34
    assert measured["tables"]["returns-table"] == 12
    assert measured["tables"]["breakdown-table"] == 9
    assert measured["tables"]["findings-table"] >= 2
    assert measured["ct03a"] == "9,5‰"
    assert [c["id"] for c in measured["charts"]] == [
        "chart-indicators-0",
        "chart-indicators-1",
        "chart-indicators-2",
        "chart-rates",
    ]
    for chart in measured["charts"]:
        width, height = chart["size"]
        assert width > 300 and height > 60, chart
        assert chart["drawn"] == chart["bars"] > 0, chart
    # The status colour reaches the screen (a stylesheet rule must not repaint the bars).
    assert measured["metFill"] == "rgb({}, {}, {})".format(*rgb(STATUS_FILL["met"]))
    assert measured["notMetFill"] == "rgb({}, {}, {})".format(*rgb(STATUS_FILL["not_met"]))


def test_screenshot_shows_the_header_and_coloured_bars(
    rendered: ReportSummary, tmp_path: Path
) -> None:
    page = report_path(rendered, "district", DISTRICT, "html")
    shot = tmp_path / "report.png"
    chromium(
        ["--window-size=1100,1000", f"--screenshot={shot}", page.as_uri()], tmp_path / "profile"
    )
    image = read_png(shot)
    assert (image.width, image.height) == (1100, 1000)

    def share(colour: str, top: int, bottom: int) -> float:
        target = rgb(colour)
        hits = total = 0
        for y in range(top, bottom, 3):
            for x in range(0, image.width, 3):
                total += 1
                hits += all(
                    abs(a - b) <= 12 for a, b in zip(image.pixel(x, y), target, strict=True)
                )
        return hits / total

    assert share("#1f4e78", 0, 120) > 0.5  # the header band
    assert share("#ffffff", 150, 1000) > 0.4  # a white page, not an error screen
    assert share(STATUS_FILL["met"], 420, 1000) > 0.002
    assert share(STATUS_FILL["not_met"], 420, 1000) > 0.002


def test_every_report_page_opens_offline(
    rendered: ReportSummary, warehouse: Path, tmp_path: Path
) -> None:
    """Issue 12: with the network blocked, each kind of page asks for nothing outside the
    machine and shows its content: a district's, a province's and the country's report, the
    cycle's index, the index of cycles, and the index of a cycle that has received nothing."""
    empty = write_reports(settings_for(warehouse, tmp_path / "reports"), Cycle.parse("2026-H1"))
    pages = {
        "district": report_path(rendered, "district", DISTRICT, "html"),
        "province": next(r.html for r in rendered.reports if r.level == "province"),
        "country": next(r.html for r in rendered.reports if r.level == "country"),
        "cycle index": rendered.index,
        "index of cycles": rendered.directory.parent / "index.html",
        "empty cycle": empty.index,
        "cycles, one empty": tmp_path / "reports" / "index.html",
    }
    probe = """({rows: [...document.querySelectorAll("table tbody tr, li")]
                   .filter((el) => el.getBoundingClientRect().height > 0).length,
                 header: getComputedStyle(document.querySelector("header.band")).backgroundColor,
                 text: document.body.innerText})"""
    browser = OfflineChromium(tmp_path / "profile")
    try:
        visits = {name: browser.visit(page.as_uri(), probe) for name, page in pages.items()}
    finally:
        browser.close()
    for name, visit in visits.items():
        assert visit.external == [] and visit.blocked == [] and visit.errors == [], name
        assert visit.value["rows"] > 0 or name == "empty cycle", name
        assert visit.value["header"] == "rgb({}, {}, {})".format(*rgb("#1f4e78")), name
    assert "Nothing received yet for 2026-H1" in visits["empty cycle"].value["text"]
    assert "2026-H1" in visits["cycles, one empty"].value["text"]
    assert "nothing received yet" in visits["cycles, one empty"].value["text"]


def test_the_trends_open_offline_with_carried_points_hollow(
    trend_rendered: ReportSummary, tmp_path: Path
) -> None:
    """Issue 14: a post-reform province's page, network blocked: every trend chart is laid
    out, its carried points are drawn hollow and the reform mark is drawn, and the table of the
    series opens from its <details>."""
    page = report_path(trend_rendered, "province", TREND_PROVINCE, "html")
    probe = """(() => {
      const box = (el) => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
      const style = (sel, prop) => getComputedStyle(document.querySelector(sel))[prop];
      const charts = [...document.querySelectorAll("svg.trend")];
      const details = document.querySelector("details.trend-details");
      details.open = true;
      return {
        charts: charts.length,
        laidOut: charts.filter((svg) => box(svg)[0] > 200 && box(svg)[1] > 80).length,
        carriedFill: style("svg.trend .pt.carried", "fill"),
        reportedFill: style("svg.trend .pt.reported", "fill"),
        carriedDash: style("svg.trend .line.carried", "strokeDasharray"),
        reformStroke: style("svg.trend .reform path", "stroke"),
        targetStroke: style("svg.trend .target", "stroke"),
        tableRows: [...document.querySelectorAll("#trend-table tbody tr")]
          .filter((tr) => box(tr)[1] > 0).length,
      };
    })()"""
    browser = OfflineChromium(tmp_path / "profile")
    try:
        visit = browser.visit(page.as_uri(), probe)
    finally:
        browser.close()
    assert visit.external == [] and visit.blocked == [] and visit.errors == []
    measured = visit.value
    assert measured["charts"] == measured["laidOut"] == 34
    assert measured["carriedFill"] == "rgb(255, 255, 255)"
    assert measured["reportedFill"] == "rgb({}, {}, {})".format(*rgb(TREND_LINE))
    assert measured["carriedDash"] not in ("none", "")
    assert measured["reformStroke"] != "none" and measured["targetStroke"] != "none"
    assert measured["tableRows"] == 34
