"""The search page as a person uses it: ``mmingest serve`` in a subprocess over a collection
ingested from ``mmingest samples``, driven by headless Chromium (Debian's chromium and
chromedriver, through Selenium). Saves a screenshot (also into ``SEARCH_PAGE_SCREENSHOT_DIR`` when
set: that is how ``deploy/screenshots/search-page.png`` is made)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from mmingest.flows.cli import main
from tests.support.ports import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CAPTION = "a red circle on a white background"
MARKUP = '<b>bold</b> <img src=x onerror="window.injected=1"> \x07 marked-up caption'

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and not os.environ.get("CI"),
        reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
    ),
]


def cli(*args: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    assert exited.value.code in (0, None), args


@pytest.fixture
def server(tmp_path, tiny_clip_dir, monkeypatch):
    """``mmingest serve`` over the samples (images, PDF pages, products); yields its URL."""
    monkeypatch.setenv("MMINGEST_EMBEDDER__MODEL", str(tiny_clip_dir))
    monkeypatch.setenv("MMINGEST_STATE_DIR", str(tmp_path / "state"))
    samples = tmp_path / "samples"
    cli("samples", str(samples), "--images", "12")
    # One caption holding markup and a control character: the page must show it as text.
    shutil.copy(next((samples / "images").glob("*.png")), samples / "images" / "zz-markup.png")
    (samples / "images" / "zz-markup.txt").write_text(MARKUP)
    cli("ingest", str(samples / "images"), "--no-progress")
    cli("ingest", str(samples / "pdfs"), "--no-progress")
    cli("ingest", str(samples / "products"), "--kind", "products", "--no-progress")
    # Pictures are shown only from the folders that were ingested (recorded in the state dir
    # by the runs above, see pipelines/local_roots.py): no setting is needed for them.
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "mmingest", "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"mmingest serve did not start: {(tmp_path / 'serve.log').read_text()}")
        time.sleep(0.3)
    yield url, samples
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def cards(driver):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "#results .card")


def wait_for_results(driver, searches: int = 0) -> int:
    """Wait until one more search has been shown and every thumbnail loaded; returns the
    number of searches shown so far."""
    from selenium.webdriver.support.ui import WebDriverWait

    def done(_):
        count = int(driver.execute_script("return document.body.dataset.searches || '0'"))
        if count <= searches:
            return False
        return driver.execute_script(
            "return [...document.querySelectorAll('#results .card img')]"
            ".every(img => img.complete && img.naturalWidth > 0)"
        )

    WebDriverWait(driver, 60).until(done)
    return int(driver.execute_script("return document.body.dataset.searches"))


def shown(driver) -> list[dict[str, str]]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#results .card')].map(card => ({"
        "id: card.dataset.id, kind: card.dataset.kind,"
        "caption: card.querySelector('.caption').textContent,"
        "source: card.querySelector('.source').textContent,"
        "badge: card.querySelector('.badge').textContent,"
        "score: card.querySelector('.score').textContent,"
        "thumbnail: !!card.querySelector('img')}))"
    )


def test_search_page_in_a_real_browser(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    url, samples = server
    browser.get(url)
    wait = WebDriverWait(browser, 30)
    wait.until(lambda driver: driver.find_element(By.ID, "collection").text == "mmingest")
    assert "points" in browser.find_element(By.ID, "points").text
    # The product columns of the collection are offered as filters.
    wait.until(
        lambda driver: (
            "fields.brand"
            in [
                option.get_attribute("value")
                for option in Select(driver.find_element(By.ID, "field")).options
            ]
        )
    )

    # 1. Type a query (dense, caption vector: with the tiny random model only exact captions
    # rank predictably).
    Select(browser.find_element(By.ID, "mode")).select_by_value("dense")
    browser.find_element(By.CSS_SELECTOR, "input[name=vector][value=image]").click()
    box = browser.find_element(By.ID, "q")
    box.send_keys(CAPTION, Keys.ENTER)
    searches = wait_for_results(browser)
    results = shown(browser)
    assert len(results) == 12
    assert browser.find_element(By.ID, "status").text.startswith("12 results in")
    assert results[0]["caption"] == CAPTION and results[0]["badge"] == "image"
    assert results[0]["score"] == "1.0000"
    assert len({result["kind"] for result in results}) > 1
    assert all(result["thumbnail"] for result in results)  # images, PDF pages, products
    browser.save_screenshot(str(tmp_path / "search-page.png"))
    if os.environ.get("SEARCH_PAGE_SCREENSHOT_DIR"):
        target = Path(os.environ["SEARCH_PAGE_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "search-page.png", target / "search-page.png")

    # 2. Open a result: the full picture and its payload.
    cards(browser)[0].find_element(By.CSS_SELECTOR, ".thumb").click()
    wait.until(ec.visibility_of_element_located((By.ID, "viewer")))
    wait.until(
        lambda driver: driver.execute_script(
            "const img = document.getElementById('viewer-img');"
            "return img.complete && img.naturalWidth > 0"
        )
    )
    assert CAPTION in browser.find_element(By.ID, "viewer-payload").text
    browser.find_element(By.ID, "viewer-close").click()

    # 3. Upload an image (searching the image vector only).
    box.clear()
    browser.find_element(By.CSS_SELECTOR, "input[name=vector][value=image]").click()
    browser.find_element(By.CSS_SELECTOR, "input[name=vector][value=caption]").click()
    picture = next((samples / "images").glob("blue-square*"))
    browser.find_element(By.ID, "image").send_keys(str(picture))
    searches = wait_for_results(browser, searches)
    results = shown(browser)
    assert results[0]["source"] == picture.name
    assert browser.find_element(By.ID, "image-preview").is_displayed()

    # 4. Apply a filter: PDF pages only (the image query stays).
    browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=pdf_page]").click()
    searches = wait_for_results(browser, searches)
    results = shown(browser)
    assert results and {result["kind"] for result in results} == {"pdf_page"}
    assert all(result["badge"].startswith("PDF p. ") for result in results)
    assert all(result["source"].endswith(".pdf") and result["thumbnail"] for result in results)
    cards(browser)[0].find_element(By.CSS_SELECTOR, ".thumb").click()
    wait.until(ec.visibility_of_element_located((By.ID, "viewer")))
    facts = browser.find_element(By.ID, "viewer-facts").text
    assert "page" in facts and "document" in facts and ".pdf" in facts
    browser.save_screenshot(str(tmp_path / "pdf-page.png"))

    # 5. More like this on the opened page.
    first = results[0]["id"]
    browser.find_element(By.ID, "viewer-more").click()
    searches = wait_for_results(browser, searches)
    assert browser.find_element(By.ID, "like-banner").is_displayed()
    assert first not in {result["id"] for result in shown(browser)}

    # 6. A caption holding markup is shown as text, never run.
    browser.find_element(By.ID, "clear-like").click()
    browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=pdf_page]").click()
    Select(browser.find_element(By.ID, "mode")).select_by_value("keyword")
    box.send_keys("marked-up caption", Keys.ENTER)
    searches = wait_for_results(browser, searches)
    top = shown(browser)[0]
    # Ingest drops the control character; the markup arrives as text.
    assert top["caption"] == '<b>bold</b> <img src=x onerror="window.injected=1"> marked-up caption'
    assert not browser.execute_script("return window.injected === 1")
    assert not browser.find_elements(By.CSS_SELECTOR, "#results .caption b, #results img[src=x]")
