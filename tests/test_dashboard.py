"""/dashboard in a real headless Chromium on a live gunicorn: a filter in the URL, the numbers the
page shows checked against the API, every asset local, screenshots at laptop and phone sizes
written as test artefacts (under pytest's tmp dir; EVENT_RECORDS_SCREENSHOTS=DIR copies them)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import fetch, missing

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=20000"]
#: the filter applied (status and country, as a reader would pick them in the form)
FILTER = {"status": "occurred", "country": "IRN"}
SIZES = {"laptop": "1366,900", "phone": "390,844"}


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    missing("Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(sqlite_url):
    from tests.conftest import Gunicorn

    gunicorn = Gunicorn(sqlite_url, workers=2).wait()
    yield gunicorn.base
    gunicorn.stop()


def browse(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(dir=tmp_path)
    return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args, url],
                          capture_output=True, text=True, timeout=120)


def shown(dom: str, testid: str) -> int:
    match = re.search(rf'data-testid="{testid}"[^>]*>(\d+)<', dom)
    assert match, f"{testid} not shown"
    return int(match.group(1))


def api(server: str, path: str, **params) -> dict:
    status, _, body = fetch(f"{server}{path}?{urlencode(params, doseq=True)}")
    assert status == 200, body
    return json.loads(body)


def rendered(server: str, tmp_path: Path, filters: dict) -> str:
    result = browse(f"{server}/dashboard?{urlencode(filters)}", tmp_path, "--dump-dom")
    dom = result.stdout
    assert 'data-ready="true"' in dom, result.stderr[-2000:]
    assert "Error:" not in dom
    return dom


def test_dashboard_numbers_match_the_api(server, tmp_path):
    dom = rendered(server, tmp_path, FILTER)
    events = api(server, "/v1/events", limit=500, **FILTER)
    timeline = api(server, "/v1/stats/timeline", interval="month", **FILTER)
    facets = api(server, "/v1/stats/facets", facet="status", **FILTER)
    assert shown(dom, "total") == events["meta"]["total"] > 0
    assert shown(dom, "dated") == timeline["meta"]["total"]
    assert shown(dom, "undated") == timeline["meta"]["undated"]
    assert len(re.findall(r'<tr data-id="', dom)) == len(events["data"])
    # the facet bars show the API's counts; the filter is kept in the form
    status_box = dom[dom.index('data-facet="status"'):]
    assert f'data-count="{facets["data"]["status"][0]["count"]}"' in status_box
    assert re.search(r'<option[^>]*value="occurred"[^>]*selected|selected[^>]*value="occurred"', dom) or \
        "status=occurred" in dom
    # timeline bars, network nodes, map points, Arabic beside English, evidence marked
    assert len(re.findall(r'class="bar"', dom)) == len(timeline["data"])
    network = api(server, "/v1/network", limit=20, **FILTER)
    assert len(re.findall(r'<circle[^>]*class="node', dom)) == len(network["data"]["nodes"])
    assert re.search(r'<circle[^>]*class="place"', dom)
    assert re.search(r'<p class="ar" lang="ar" dir="rtl">', dom) and '<p class="en" lang="en" dir="ltr">' in dom
    assert "<mark>" in dom[dom.index('id="evidence"'):]


def test_another_filter_shows_other_numbers(server, tmp_path):
    """Arabic search from the URL: the page follows the filter rather than showing fixed numbers."""
    other = api(server, "/v1/events", **FILTER)["meta"]["total"]
    # an Arabic word whose count differs from the first filter's, whichever the data gives
    word, total = next((w, t) for w in ("أستانا", "طهران", "روحاني", "سوريا")
                       if (t := api(server, "/v1/events", q=w)["meta"]["total"]) != other)
    dom = rendered(server, tmp_path, {"q": word})
    assert shown(dom, "total") == total


def test_every_asset_is_local(server):
    _, _, page = fetch(server + "/dashboard")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.decode())
    # (the icon is an empty data: URL, so that the browser asks for no /favicon.ico)
    assert sources and all(s.startswith("/") or s == "data:," for s in sources), sources
    for asset in ("dashboard.js", "charts.js", "dashboard.css"):
        status, headers, body = fetch(f"{server}/dashboard/assets/{asset}", {"Accept-Encoding": "gzip"})
        assert status == 200 and b"http" not in __import__("gzip").decompress(body).replace(b"http://www.w3.org", b"")


@pytest.mark.parametrize("name", SIZES)
def test_screenshots_at_laptop_and_phone_sizes(server, tmp_path, name):
    picture = tmp_path / f"dashboard-{name}.png"
    browse(f"{server}/dashboard?{urlencode(FILTER)}", tmp_path, f"--window-size={SIZES[name]}",
           f"--screenshot={picture}")
    assert picture.exists() and picture.stat().st_size > 30_000
    keep = os.environ.get("EVENT_RECORDS_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(picture, Path(keep) / picture.name)
