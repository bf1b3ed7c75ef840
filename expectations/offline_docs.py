"""Make a written GX Data Docs site work offline: no request leaves the machine.

GX 1.24's pages load Bootstrap, jQuery, bootstrap-table, its datepicker and Font Awesome from
CDNs (the index page's tables are drawn by bootstrap-table: offline it is empty), plus Vega, a
dark theme and GX's logo from its web server. After GX writes the site, each page is rewritten:
the assets kept in `data_docs_vendor/` (its README: versions and licences) are copied into the
site's `static/vendor/` and linked relatively, GX's logo points at the copy GX writes into
`static/images/`, and every other external script, stylesheet, image or CSS `url()` is dropped
(Vega: our suites draw no chart; the dark theme: the pages stay light). Links (`<a href>`) stay:
they load nothing.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "data_docs_vendor"
VENDOR_DIR = "static/vendor"
"""Where a site keeps its copy of the assets, from the site's root."""

LOCAL_COPIES = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": "bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": "bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": "bootstrap-table-filter-control.min.css",
    # bootstrap-table's filter control calls the datepicker even with no date filter.
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome/css/fontawesome-solid.min.css"
    ),
}
"""GX's CDN addresses and the local copy (under `data_docs_vendor/`) that replaces each."""

_EXTERNAL = r"(?:https?:)?//"
_SCRIPT = re.compile(
    rf"<script\b[^>]*?\bsrc\s*=\s*[\"']({_EXTERNAL}[^\"']*)[\"'][^>]*>\s*</script>", re.I
)
_LINK = re.compile(rf"<link\b[^>]*?\bhref\s*=\s*[\"']({_EXTERNAL}[^\"']*)[\"'][^>]*>", re.I)
_IMG_SRC = re.compile(rf"(<img\b[^>]*?\bsrc\s*=\s*[\"'])({_EXTERNAL}[^\"']*)([\"'])", re.I)
_CSS_URL = re.compile(rf"url\(\s*[\"']?{_EXTERNAL}[^)]*\)", re.I)
# Subresource integrity and CORS mode make a browser refuse a script read from a file.
_SRI = re.compile(r"\s(?:integrity|crossorigin)(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?", re.I)


def make_offline(site: Path) -> None:
    """Rewrite every page of the Data Docs site at `site` to load only files of the site."""
    target = site / VENDOR_DIR
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(VENDOR, target, ignore=shutil.ignore_patterns("README.md"))
    for page in site.rglob("*.html"):
        root = Path(os.path.relpath(site, page.parent)).as_posix()
        text = page.read_text(encoding="utf-8")
        offline = offline_html(text, "" if root == "." else root + "/", site / "static/images")
        if offline != text:
            page.write_text(offline, encoding="utf-8")


def offline_html(html: str, root: str, images: Path) -> str:
    """A page with its external loads made local or dropped; `root` is the relative path from
    the page to the site's root ('' or '../../'), `images` the site's image folder."""

    def tag(match: re.Match[str]) -> str:
        local = LOCAL_COPIES.get(match.group(1))
        if local is None:
            return ""
        return _SRI.sub("", match.group(0).replace(match.group(1), f"{root}{VENDOR_DIR}/{local}"))

    def image(match: re.Match[str]) -> str:
        # GX's logo: the same file is in the site's static/images/ (without the cache buster).
        name = match.group(2).split("?")[0].rsplit("/", 1)[-1]
        local = f"{root}static/images/{name}" if (images / name).is_file() else ""
        return match.group(1) + local + match.group(3)

    html = _SCRIPT.sub(tag, html)
    html = _LINK.sub(lambda m: m.group(0) if _is_plain_link(m.group(0)) else tag(m), html)
    html = _IMG_SRC.sub(image, html)
    return _CSS_URL.sub("none", html)


def _is_plain_link(tag: str) -> bool:
    """A `<link>` that loads nothing by itself (a canonical or alternate address)."""
    rel = re.search(r"\brel\s*=\s*[\"']?([^\"'>]*)", tag, re.I)
    loads = {"stylesheet", "icon", "preload", "prefetch", "modulepreload", "manifest"}
    return rel is not None and not loads & set(rel.group(1).lower().split())


def external_loads(html: str) -> list[str]:
    """What a page would fetch from outside the machine (for the tests): scripts, stylesheets,
    images and CSS `url()`s with an http(s) address."""
    found = [m.group(1) for m in _SCRIPT.finditer(html)]
    found += [m.group(1) for m in _LINK.finditer(html) if not _is_plain_link(m.group(0))]
    found += [m.group(2) for m in _IMG_SRC.finditer(html)]
    return found + [m.group(0) for m in _CSS_URL.finditer(html)]
