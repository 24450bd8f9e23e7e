"""The built documentation, looked at as a user would: in headless Chromium.

CI builds the site first (``sphinx-build -W docs docs/_build/html``, see ``.ci/run``); here we
serve it on 127.0.0.1 and check that pages load with their figures and no console errors.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[1] / "docs" / "_build" / "html"
PAGES = [
    "index.html",
    "generated/sigest.estimators.denoisers.BGAttentionDenoiser.html",
    "auto_examples/plot_denoise_eeg.html",
    "benchmarks.html",
]


def _require(condition, reason):
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (required in CI)")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def site_url():
    _require((SITE / "index.html").is_file(), f"docs not built at {SITE}")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    _require(Path(chromium).exists() and Path(driver_path).exists(),
             "chromium and chromedriver are not installed (Debian: chromium chromium-driver)")
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_with_its_figures_and_no_console_errors(site_url, browser, page):
    _require((SITE / page).is_file(), f"{page} was not built")
    browser.get_log("browser")  # drop messages of earlier pages
    browser.get(f"{site_url}/{page}")
    assert "sigest" in browser.title
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.src, i.complete, i.naturalWidth]);")
    broken = [src for src, complete, width in images if not complete or width == 0]
    assert not broken, f"broken images on {page}: {broken}"
    if page.startswith("auto_examples/"):
        assert any("sphx_glr" in src for src, _, _ in images), "the example shows no figure"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"console errors on {page}: {errors}"
