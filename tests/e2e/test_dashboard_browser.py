"""The dashboard in a real browser (Debian's Chromium, headless, driven by Playwright) against the local
stack: every page of the navigation loads without a console error and draws its charts with data, the
risk simulator sends an intervention and watches it reach sent over the WebSocket, the admin
actions appear, and work, only with the admin key, and a custom model is created from a local file,
followed until ready, shown as its card and scored. Screenshots of every page at desktop and phone sizes
are written under build/screenshots/ for review."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from finscore import resources
from finscore.products.risk.features import FEATURE_NAMES
from tests.custom_tables import credit_table
from tests.e2e.stack import ADMIN_KEY, API_KEY, ROOT
from tests.integration.test_custom_files import csv_bytes

CHROMIUM = Path("/usr/bin/chromium")
# With a Devanagari font, so that the Hindi messages in the screenshots can be read.
BROWSER_PACKAGES = ("chromium", "fonts-lohit-deva")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = ROOT / "build" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# Waits for what the stack does in the background (delivery, retraining); they bound a wait, they time nothing.
WAIT_MS = 90_000
RETRAIN_WAIT_S = 600
# Pages made of lists and forms rather than charts; every other page must draw at least one chart with data.
LIST_PAGES = {"/risk/customers", "/risk/high-risk", "/risk/interventions", "/custom-models"}
# List pages that may rightly be empty: no custom model exists until one is created.
MAY_BE_EMPTY = {"/custom-models"}
CUSTOM_MODEL, FAILING_MODEL = "browser-credit", "browser-one-class"
BATCH_FILE = "incoming/risk/dashboard sample.csv"


def _chromium() -> str:
    """Debian's Chromium, installed when missing (Playwright's own browser download is not used)."""
    if not CHROMIUM.exists():
        apt = shutil.which("apt-get")
        if apt is None:
            pytest.fail("Chromium is missing and apt-get is not there to install it: install chromium")
        install = [apt, "install", "-y", "--no-install-recommends", *BROWSER_PACKAGES]
        if subprocess.run(install, check=False, capture_output=True).returncode != 0:
            subprocess.run([apt, "update"], check=True, capture_output=True)
            subprocess.run(install, check=True, capture_output=True)
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


class Tab:
    """One signed-in browser tab that records every console error and uncaught exception."""

    def __init__(self, browser, url: str, size: str = "desktop", admin: bool = False):
        self.context = browser.new_context(viewport=SIZES[size], locale="en-IN")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.url = url
        self.page.goto(url + "/")
        self.page.fill("#api-key", API_KEY)
        if admin:
            self.page.fill("#admin-key", ADMIN_KEY)
        self.page.click("form.signin button[type=submit]")
        self.page.wait_for_selector("nav a[data-route]", state="attached")

    def _console(self, message) -> None:
        # A product without a drift report yet answers its drift route 404 by contract (the overview shows
        # "no report yet"); the browser logs every 4xx it fetched as an error, and only that one is expected.
        expected = message.text.startswith("Failed to load resource") and \
            re.search(r"/v1/models/[^/]+/drift$", message.location.get("url", ""))
        if message.type == "error" and not expected:
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def open(self, path: str) -> None:
        """Load PATH afresh (the server answers every page with the app) and wait until it has settled:
        no loading state left, every chart drawn."""
        self.page.goto(self.url + path)
        self.settle()

    def settle(self) -> None:
        self.page.wait_for_function(
            "() => !document.querySelector('main .state.loading') && document.querySelector('main h1') &&"
            " [...document.querySelectorAll('main figure[data-chart]')].every(f => f.dataset.chart === 'ready')",
            timeout=WAIT_MS)
        # A chart drawn in the last frame is painted in the next.
        self.page.wait_for_timeout(150)

    def charts(self) -> list[int]:
        return self.page.eval_on_selector_all("main figure[data-chart]", "figures => figures.map(f => +f.dataset.points)")

    def shot(self, name: str, size: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


def _assert_fits_a_phone(tab: Tab, page: str) -> None:
    """Readable on a phone: nothing wider than the screen but the tables' own scrolling boxes."""
    overflow = tab.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page} is {overflow}px wider than a phone"


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "overview"


def _score_a_batch_file(stack) -> None:
    """A small file through batch scoring, so that the batch page has a file, a manifest and a reject."""
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{stack.aws_port}", region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    bucket = resources.local_name(resources.DATA_BUCKET.logical_id)
    rows = ["customer_id," + ",".join(FEATURE_NAMES)]
    rows += [f"D{index}," + ",".join("1" if index % 2 else "0" for _ in FEATURE_NAMES) for index in range(4)]
    rows.append("D9,not-a-number")
    s3.put_object(Bucket=bucket, Key=BATCH_FILE, Body=("\n".join(rows) + "\n").encode())
    prefix = "scored/" + BATCH_FILE.removeprefix("incoming/") + "/_manifest.json"
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        try:
            s3.head_object(Bucket=bucket, Key=prefix)
            return
        except s3.exceptions.ClientError:
            time.sleep(0.5)
    pytest.fail(f"{BATCH_FILE} was not scored")


def _wait_for_activity(stack) -> None:
    """Until the activity route shows requests and the risk scores of the batch file: the overview's traffic
    and the portfolio's score trend then have data (functions add their counts every few seconds)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        status, body = stack.request("GET", "/v1/activity?by=hour&days=2")
        assert status == 200, body
        totals = {entry["product"]: entry["totals"] for entry in body["products"]}
        if any(t["requests"] for t in totals.values()) and totals["risk"]["batch_records"]:
            return
        time.sleep(1)
    pytest.fail(f"no activity was counted: {totals}")


def test_every_page_loads_without_errors_and_draws_its_charts(browser, stack):
    _score_a_batch_file(stack)
    status, _ = stack.request("GET", "/v1/recommendations/segments")
    assert status == 200
    _wait_for_activity(stack)
    tab = Tab(browser, stack.url)
    paths = tab.page.eval_on_selector_all("nav a[data-route]", "links => links.map(a => a.getAttribute('href'))")
    assert "/" in paths and "/batch" in paths and any(path.startswith("/models/") for path in paths)
    customer = None
    try:
        for path in paths:
            tab.open(path)
            assert not tab.page.query_selector("main .state.error"), f"{path}: {tab.page.inner_text('main')[:400]}"
            charts = tab.charts()
            if path in LIST_PAGES:
                shown = "main table tbody tr, main form" + (", main .state.empty" if path in MAY_BE_EMPTY else "")
                assert tab.page.query_selector(shown), f"{path} lists nothing"
            else:
                assert charts and all(points > 0 for points in charts), f"{path} draws no chart with data: {charts}"
            tab.shot(_slug(path), "desktop")
            labels = tab.page.eval_on_selector_all("main figure[data-chart] .chart", "charts => charts.map(c => c.ariaLabel)")
            if path == "/":
                assert any(label.startswith("API requests per hour") for label in labels), labels
            if path == "/risk":
                assert any(label.startswith("Risk scores made per hour") for label in labels), labels
            if path == "/risk/customers":
                customer = tab.page.get_attribute("main table tbody tr a[data-route]", "href")
        assert customer, "the customer search found no one"
        tab.open(customer)
        assert len(tab.charts()) >= 2 and not tab.page.query_selector("main .state.error")
        assert re.search(r"₹\s?[\d,]+", tab.page.inner_text("main")), "amounts are not shown in rupees"
        tab.shot("risk-customer-detail", "desktop")
        assert tab.errors == [], tab.errors
    finally:
        tab.close()

    phone = Tab(browser, stack.url, size="phone")
    try:
        for path in [*paths, customer]:
            phone.open(path)
            _assert_fits_a_phone(phone, path)
            phone.shot(_slug(path), "phone")
        phone.page.click("#menu-toggle")
        assert phone.page.is_visible("nav a[href='/batch']")
        assert phone.errors == [], phone.errors
    finally:
        phone.close()


def test_the_simulator_sends_an_intervention_and_sees_it_sent_over_the_websocket(browser, stack):
    status, listing = stack.request("GET", "/v1/risk/high-risk?min_level=high&limit=10")
    assert status == 200 and listing["customers"]
    customer = listing["customers"][-1]["customer_id"]
    tab = Tab(browser, stack.url)
    try:
        tab.open(f"/risk/interventions?customer={customer}")
        tab.page.wait_for_selector("#live.open", timeout=WAIT_MS)
        tab.page.select_option("select[name=channel]", "sms")
        tab.page.select_option("select[name=language]", "hi")
        tab.page.click("text=Preview message")
        segments = tab.page.wait_for_selector("[data-segments]", timeout=WAIT_MS)
        assert int(segments.get_attribute("data-segments")) >= 1
        assert re.search("[\u0900-\u097f]", tab.page.inner_text(".message-preview")), "the Hindi text is not Devanagari"
        tab.page.click("button:has-text('Send')")
        tab.page.wait_for_selector("[data-intervention] [data-status]", timeout=WAIT_MS)
        # Only the WebSocket moves this badge: the page never asks the API again.
        tab.page.wait_for_selector("[data-intervention] [data-status=sent]", timeout=WAIT_MS)
        assert "(live)" in tab.page.inner_text("[data-intervention] ol")
        tab.shot("risk-interventions-sent", "desktop")
        assert tab.errors == [], tab.errors
    finally:
        tab.close()


def _promotable(stack, product: str) -> str | None:
    versions = stack.request("GET", f"/v1/models/{product}/versions")[1]["versions"]
    return next((v["version"] for v in versions if v["status"] not in ("champion", "rejected")), None)


def test_promote_is_offered_and_works_only_with_the_admin_key(browser, stack):
    # A product whose champion history no other end-to-end test reads (test_local_stack rolls back recommend
    # expecting no previous champion, test_propensity_stack reads propensity's newest version).
    product = "demand"
    if _promotable(stack, product) is None:
        # A second version to promote: retraining on the same data passes the gate and archives the first.
        status, _ = stack.request("POST", f"/v1/models/{product}/retrain", {"reason": "dashboard test"}, key=ADMIN_KEY)
        assert status == 202
        deadline = time.monotonic() + RETRAIN_WAIT_S
        while _promotable(stack, product) is None and time.monotonic() < deadline:
            time.sleep(1)
    version = _promotable(stack, product)
    assert version, "no version to promote appeared"
    champion = stack.request("GET", f"/v1/models/{product}/versions")[1]["champion_version"]

    reader = Tab(browser, stack.url)
    try:
        reader.open(f"/models/{product}")
        assert reader.page.locator("main table tbody tr").count() >= 2
        assert reader.page.locator("button:has-text('Promote')").count() == 0
        assert reader.page.locator("button:has-text('Roll back')").count() == 0
        reader.shot(f"models-{product}-without-admin-key", "desktop")
    finally:
        reader.close()

    admin = Tab(browser, stack.url, admin=True)
    try:
        admin.open(f"/models/{product}")
        row = admin.page.locator("main table tbody tr", has_text=version)
        row.locator("button:has-text('Promote')").click()
        admin.page.wait_for_function(
            "version => [...document.querySelectorAll('main table tbody tr')].some(r => r.textContent.includes(version)"
            " && r.textContent.includes('champion'))", arg=version, timeout=WAIT_MS)
        assert stack.request("GET", f"/v1/models/{product}/versions")[1]["champion_version"] == version
        admin.settle()
        admin.shot(f"models-{product}-admin", "desktop")
        assert admin.errors == [], admin.errors
    finally:
        admin.close()
        # The session's other tests find the champion they started with.
        stack.request("POST", f"/v1/models/{product}/promote", {"version": champion, "reason": "restore"}, key=ADMIN_KEY)


def test_an_api_error_is_shown_in_words(browser, stack):
    tab = Tab(browser, stack.url)
    try:
        tab.open("/risk/customers?id=C999999")
        error = tab.page.wait_for_selector("main .state.error")
        assert "404" in error.inner_text() and "C999999" in error.inner_text()
        tab.shot("risk-customer-not-found", "desktop")
    finally:
        tab.close()


def _column(tab: Tab, title: str) -> list[str]:
    """The texts of the column titled TITLE in the page's first table, top to bottom."""
    return tab.page.evaluate(
        """title => {
             const table = document.querySelector('main table');
             const index = [...table.querySelectorAll('thead th')].findIndex(th => th.textContent.trim() === title);
             return [...table.querySelectorAll('tbody tr')].map(row => row.cells[index].textContent.trim());
           }""", title)


def test_the_opportunity_table_sorts_and_compare_shows_each_chosen_location(browser, stack):
    status, listing = stack.request("GET", "/v1/opportunities/locations")
    assert status == 200 and len(listing["locations"]) >= 3
    # Three locations the page does not choose by itself (it starts with the largest).
    chosen = [item["location"] for item in sorted(listing["locations"], key=lambda item: (item["business_count"], item["location"]))[:3]]
    tab = Tab(browser, stack.url)
    try:
        tab.open("/opportunity/businesses")
        assert re.search(r"₹\s?[\d,]+", " ".join(_column(tab, "Revenue")[:5])), "revenue is not shown in rupees"
        score = tab.page.locator("main th button.sort", has_text=re.compile(r"^Score$"))
        score.click()
        ascending = [float(text) for text in _column(tab, "Score")]
        assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
        assert tab.page.get_attribute("main th:has(button:text-is('Score'))", "aria-sort") == "ascending"
        # The same header from the keyboard turns the order around.
        score.focus()
        tab.page.keyboard.press("Enter")
        descending = [float(text) for text in _column(tab, "Score")]
        assert descending == sorted(ascending, reverse=True)
        revenue = tab.page.locator("main th button.sort", has_text=re.compile(r"^Revenue$"))
        revenue.click()
        rupees = [float(re.sub(r"[^\d.]", "", text)) for text in _column(tab, "Revenue")]
        assert rupees == sorted(rupees)

        tab.open("/opportunity/compare")
        checked = tab.page.locator("main fieldset input:checked")
        while checked.count():
            checked.first.uncheck()
        for location in chosen:
            tab.page.check(f'main fieldset input[value="{location}"]')
        tab.page.click("main form button[type=submit]")
        tab.settle()
        assert not tab.page.query_selector("main .state.error"), tab.page.inner_text("main")[:400]
        assert tab.charts() == [len(chosen)] * 2
        # Asked, and answered, in the order the page lists them.
        assert _column(tab, "Location") == [item["location"] for item in listing["locations"] if item["location"] in chosen]
        tab.shot("opportunity-compare-chosen", "desktop")

        tab.page.locator("main table tbody tr").first.locator("a[href^='/opportunity/business?id=']").click()
        tab.settle()
        assert tab.page.url.split("?id=")[1] in tab.page.inner_text("main .stats")
        assert tab.charts() and all(points > 0 for points in tab.charts())
        assert tab.errors == [], tab.errors
    finally:
        tab.close()


def test_a_custom_model_is_created_from_a_local_file_followed_until_ready_and_scored(browser, stack, tmp_path):
    table = tmp_path / "loan applications.csv"
    table.write_bytes(csv_bytes(credit_table(1500)))

    # A table that cannot train (one class only), registered through the API: its page says why.
    one_class = [{**record, "default": "no"} for record in credit_table(300)]
    status, _ = stack.request("PUT", f"/v1/custom-models/{FAILING_MODEL}/files/one-class.csv", key=ADMIN_KEY,
                              raw=csv_bytes(one_class), headers={"Content-Type": "text/csv"})
    assert status == 201
    status, _ = stack.request("PUT", f"/v1/custom-models/{FAILING_MODEL}", {"target": "default", "task": "binary"},
                              key=ADMIN_KEY)
    assert status == 202

    reader = Tab(browser, stack.url)
    try:
        reader.open("/custom-models")
        assert reader.page.locator("form[aria-label='New custom model']").count() == 0
        reader.open(f"/custom-models?name={FAILING_MODEL}")
        reader.page.wait_for_selector("[data-part=status] [data-status=failed]", timeout=RETRAIN_WAIT_S * 1000)
        assert "target: only 0 valid rows" in reader.page.inner_text("[data-part=status] table"), \
            reader.page.inner_text("main")[:800]
        reader.shot("custom-model-failed", "desktop")
        reader.open("/custom-models?name=no-such-model")
        error = reader.page.wait_for_selector("main .state.error")
        assert "404" in error.inner_text() and "no-such-model" in error.inner_text()
    finally:
        reader.close()

    tab = Tab(browser, stack.url, admin=True)
    try:
        tab.open("/custom-models")
        form = tab.page.locator("form[aria-label='New custom model']")
        form.locator("input[type=file]").set_input_files(str(table))
        # The target's choices come from the file's header, read in the browser.
        tab.page.wait_for_selector("select[name=target] option[value=default]", state="attached")
        form.locator("input[name=name]").fill(CUSTOM_MODEL)
        form.locator("select[name=target]").select_option("default")
        assert form.locator("select[name=task]").input_value() == "binary"
        form.locator("select[name=positive_class]").select_option("yes")
        form.locator("select[name=id_column]").select_option("customer_id")
        tab.shot("custom-models-new", "desktop")
        form.locator("button[type=submit]").click()

        # The page of the new model follows its training until it settles.
        tab.page.wait_for_selector("[data-part=status] [data-status]", timeout=WAIT_MS)
        assert tab.page.url.endswith(f"/custom-models?name={CUSTOM_MODEL}")
        tab.page.wait_for_selector("[data-part=status] [data-status=ready], [data-part=status] [data-status=failed]",
                                   timeout=RETRAIN_WAIT_S * 1000)
        assert tab.page.get_attribute("[data-part=status] [data-status]", "data-status") == "ready", \
            tab.page.inner_text("main")[:800]
        tab.settle()
        assert not tab.page.query_selector("main .state.error"), tab.page.inner_text("main")[:800]
        charts = tab.charts()
        assert len(charts) >= 5 and all(points > 0 for points in charts), charts
        labels = tab.page.eval_on_selector_all("main figure[data-chart] .chart", "charts => charts.map(c => c.ariaLabel)")
        for expected in ("Held-out", "Observed rate against mean predicted probability", "Importance of each column",
                         "Confusion matrix"):
            assert any(label.startswith(expected) for label in labels), (expected, labels)
        # The planted leaks and the free text are refused, by name, in the columns table.
        columns = tab.page.inner_text("main section:has(h2:text-is('Columns used and refused'))")
        for refused in ("account_status_after", "recovered_amount", "notes"):
            assert re.search(rf"{refused}\s.*not used", columns), refused
        tab.shot("custom-model-ready", "desktop")

        # The score form is built from the inferred schema and answers with a probability and reasons.
        score = tab.page.locator("form[aria-label^='Score a record']")
        assert score.locator("select[name=employment]").count() == 1
        assert score.locator("input[name=application_date][type=date]").count() == 1
        score.locator("input[name=credit_score]").fill("520")
        score.locator("button[type=submit]").click()
        answer = tab.page.wait_for_selector("[data-score][data-probability]", timeout=WAIT_MS)
        assert 0.0 < float(answer.get_attribute("data-probability")) < 1.0
        assert tab.page.locator("[data-score] ~ .table-wrap tbody tr").count() >= 1
        tab.shot("custom-model-scored", "desktop")
        assert tab.errors == [], tab.errors
    finally:
        tab.close()

    phone = Tab(browser, stack.url, size="phone")
    phone.open(f"/custom-models?name={CUSTOM_MODEL}")
    _assert_fits_a_phone(phone, "the custom model's page")
    phone.shot("custom-model-ready", "phone")
    phone.close()
    assert phone.errors == [], phone.errors
