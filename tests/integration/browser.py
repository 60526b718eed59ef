"""Headless Chromium for the dashboard tests (tests/integration/test_dashboard*.py).

`Browser` wraps one selenium `webdriver.Chrome` driving Debian's `chromium` through
`chromium-driver` (both installed by `make test`; see the Makefile's APT_TEST_PACKAGES). It finds
elements only through the `data-testid` hooks of docs/DASHBOARD.md, waits explicitly
(WebDriverWait, never sleeps), keeps every console message, saves downloads into its own temp
dir and screenshots under `test-artifacts/screenshots/` (git-ignored; `DASHBOARD_SCREENSHOTS`
overrides the directory).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path
from typing import Callable

from helpers import REPO

try:  # a clear failure (not an ImportError at collection) when the venv predates selenium
    from selenium import webdriver
    from selenium.common.exceptions import (NoAlertPresentException, StaleElementReferenceException,
                                            TimeoutException, WebDriverException)
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webelement import WebElement
    from selenium.webdriver.support.ui import WebDriverWait
    SELENIUM_ERROR: str | None = None
except ImportError as e:  # pragma: no cover - depends on the machine
    SELENIUM_ERROR = str(e)

DESKTOP = (1400, 900)
PHONE = (390, 844)
# Screenshots: test-artifacts/screenshots/ (git-ignored), or $DASHBOARD_SCREENSHOTS when set (two
# runs sharing a checkout would otherwise overwrite and clean up each other's files).
SCREENSHOTS = Path(os.environ.get("DASHBOARD_SCREENSHOTS") or REPO / "test-artifacts" / "screenshots")
WAIT = 20.0  # default explicit wait: generous, the box may be loaded (2 cores, other suites)


def chromium_paths() -> tuple[str, str]:
    """(chromium binary, chromedriver); raises RuntimeError naming what to install."""
    if SELENIUM_ERROR:
        raise RuntimeError(f"selenium is not importable ({SELENIUM_ERROR}): run `make test-deps` "
                           "(tests/integration/requirements.txt pins it)")
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    missing = [name for name, path in (("chromium", binary), ("chromium-driver", driver)) if not path]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} not installed: the dashboard tests need them "
                           f"(`apt-get install chromium chromium-driver`, or `make test-deps`)")
    return binary, driver  # type: ignore[return-value]


def testid(name: str) -> str:
    """CSS selector of a `data-testid` hook."""
    return f'[data-testid="{name}"]'


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120]


class Browser:
    """One headless Chromium window on the dashboard of one gateway."""

    def __init__(self, download_dir: Path, size: tuple[int, int], label: str, test_name: str):
        binary, driver_path = chromium_paths()
        self.download_dir = download_dir
        self.size = size
        self.label = label  # "desktop" | "phone": part of every screenshot name
        self.test_name = slug(test_name)
        self.console: list[dict] = []  # every console entry read so far
        self.base_url = ""
        opts = webdriver.ChromeOptions()
        opts.binary_location = binary
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    f"--window-size={size[0]},{size[1]}", "--no-first-run", "--no-default-browser-check",
                    "--disable-extensions", "--disable-background-networking", "--disable-sync",
                    "--password-store=basic", "--hide-scrollbars"):
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        opts.add_experimental_option("prefs", {
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "safebrowsing.enabled": True,
        })
        try:
            self.driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=opts)
        except WebDriverException as e:
            raise RuntimeError(f"chromium did not start through {driver_path}: {e.msg}") from e
        self.driver.set_window_size(*size)
        self.driver.set_page_load_timeout(60)
        self._allow_downloads()

    def _allow_downloads(self) -> None:
        """Headless Chromium drops downloads unless told where to put them (CDP)."""
        params = {"behavior": "allow", "downloadPath": str(self.download_dir)}
        try:
            self.driver.execute_cdp_cmd("Page.setDownloadBehavior", params)
        except WebDriverException:
            self.driver.execute_cdp_cmd("Browser.setDownloadBehavior", params)

    def quit(self) -> None:
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001 - already gone
            pass

    # -- navigation ---------------------------------------------------------------------

    def open(self, gw, path: str = "/") -> None:
        """Loads `path` of the gateway `gw` (remembers it as the base for later `open`s)."""
        self.base_url = f"{gw.scheme}://127.0.0.1:{gw.port}"
        self.driver.get(self.base_url + path)
        self.wait_js("return document.readyState === 'complete'", "the page to load")

    def reload(self) -> None:
        self.driver.refresh()
        self.wait_js("return document.readyState === 'complete'", "the page to reload")

    def go(self, view: str) -> None:
        """Clicks `nav-<view>` and waits for the route `#/<view>`."""
        self.click(f"nav-{view}")
        self.wait_until(lambda d: d.execute_script("return location.hash").startswith(f"#/{view}"),
                        f"the route #/{view} after clicking nav-{view}")

    # -- finding and waiting ----------------------------------------------------------------

    def all(self, name: str, within: WebElement | None = None) -> list[WebElement]:
        return (within or self.driver).find_elements(By.CSS_SELECTOR, testid(name))

    def visible(self, name: str) -> list[WebElement]:
        out = []
        for el in self.all(name):
            try:
                if el.is_displayed():
                    out.append(el)
            except StaleElementReferenceException:
                pass
        return out

    def wait_until(self, cond: Callable, what: str, timeout: float = WAIT, poll: float = 0.1):
        """WebDriverWait on `cond(driver)`; the failure names what was awaited and the console."""
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=poll,
                                 ignored_exceptions=(StaleElementReferenceException,)).until(cond)
        except TimeoutException:
            raise AssertionError(f"[{self.label}] timed out after {timeout:.0f}s waiting for {what} "
                                 f"(route {self.driver.execute_script('return location.hash')!r}); "
                                 f"console: {self.console_lines()[-8:]}") from None

    def wait_js(self, script: str, what: str, timeout: float = WAIT):
        return self.wait_until(lambda d: d.execute_script(script), what, timeout)

    def wait_for(self, name: str, timeout: float = WAIT, within: WebElement | None = None) -> WebElement:
        """The first visible element with hook `name`."""
        def found(_):
            for el in self.all(name, within):
                if el.is_displayed():
                    return el
            return False
        return self.wait_until(found, f"a visible [data-testid={name}]", timeout)

    def wait_present(self, name: str, timeout: float = WAIT) -> WebElement:
        """The first element with hook `name`, displayed or not."""
        return self.wait_until(lambda _: (self.all(name) or [False])[0],
                               f"[data-testid={name}] in the DOM", timeout)

    def wait_gone(self, name: str, timeout: float = WAIT) -> None:
        self.wait_until(lambda _: not self.visible(name), f"[data-testid={name}] to disappear", timeout)

    def assert_absent(self, *names: str) -> None:
        """Each hook is absent from the DOM (not merely hidden or disabled): DASHBOARD.md's rule."""
        present = {n: len(self.all(n)) for n in names if self.all(n)}
        assert not present, f"[{self.label}] present but must be absent: {present}"

    def click(self, name: str, timeout: float = WAIT) -> WebElement:
        el = self.wait_for(name, timeout)
        self.wait_until(lambda _: el.is_enabled(), f"[data-testid={name}] to be enabled", timeout)
        return self.click_element(el)

    def click_element(self, el: WebElement) -> WebElement:
        """Scrolls the element to the middle of the window (clear of sticky headers), clicks it."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        el.click()
        return el

    def accept_confirm(self, timeout: float = 5.0) -> bool:
        """Confirms the question a button may ask: the page's `<dialog>` (`confirm-ok`) or a
        native `confirm()`. False when none appeared within `timeout`."""
        def asked(d):
            try:
                return d.switch_to.alert
            except NoAlertPresentException:
                return next((el for el in self.visible("confirm-ok")), False)
        try:
            found = WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                  ignored_exceptions=(StaleElementReferenceException,)).until(asked)
        except TimeoutException:
            return False
        if isinstance(found, WebElement):
            found.click()
            self.wait_gone("confirm-dialog")
        else:
            found.accept()
        return True

    def text(self, name: str) -> str:
        return self.wait_for(name).text.strip()

    def theme(self) -> str | None:
        return self.driver.execute_script("return document.documentElement.getAttribute('data-theme')")

    def conn_state(self) -> str | None:
        els = self.all("conn-state")
        return els[0].get_attribute("data-state") if els else None

    def wait_conn_state(self, state: str, timeout: float = WAIT) -> None:
        self.wait_until(lambda _: self.conn_state() == state,
                        f"conn-state data-state={state!r} (now {self.conn_state()!r})", timeout, poll=0.05)

    # -- sign-in ----------------------------------------------------------------------------

    def sign_in(self, role: str) -> None:
        """Clicks `dev-signin-<ROLE>` and waits for `whoami` to name the role and the socket."""
        self.click(f"dev-signin-{role}")
        self.wait_signed_in(role)

    def sign_in_with_token(self, token: str) -> None:
        field = self.wait_for("token-input")
        field.clear()
        field.send_keys(token)
        self.click("token-submit")

    def wait_signed_in(self, role: str) -> str:
        who = self.wait_until(lambda _: next((el.text.strip() for el in self.visible("whoami")
                                              if role in el.text), False),
                              f"whoami naming {role}")
        self.wait_conn_state("connected")
        return who

    # -- console ----------------------------------------------------------------------------

    def read_console(self) -> list[dict]:
        """Drains the browser log into `self.console` and returns it."""
        try:
            self.console.extend(self.driver.get_log("browser"))
        except WebDriverException:
            pass
        return self.console

    def console_lines(self) -> list[str]:
        return [f"{e.get('level')}: {e.get('message')}" for e in self.read_console()]

    def severe(self, allow: tuple[str, ...] = ()) -> list[str]:
        """SEVERE console entries, minus those matching one of the `allow` regexes."""
        return [e["message"] for e in self.read_console()
                if e.get("level") == "SEVERE" and not any(re.search(p, e["message"]) for p in allow)]

    def assert_no_console_errors(self, allow: tuple[str, ...] = ()) -> None:
        errors = self.severe(allow)
        assert not errors, f"[{self.label}] console errors:\n" + "\n".join(errors)

    # -- artifacts --------------------------------------------------------------------------

    def screenshot(self, view: str) -> Path:
        """Saves `test-artifacts/screenshots/<test>-<view>-<desktop|phone>.png`."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}-{slug(view)}-{self.label}.png"
        try:  # the whole page, not only the window (CDP), at the window's width
            size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            width = self.driver.execute_script("return window.innerWidth")
            shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": min(size["height"], 6000), "scale": 1}})
            path.write_bytes(base64.b64decode(shot["data"]))
        except WebDriverException:
            self.driver.save_screenshot(str(path))
        return path

    def wait_download(self, suffix: str, timeout: float = WAIT, after: set[str] | None = None) -> Path:
        """A finished download (no `.crdownload`) whose name ends with `suffix`, not in `after`."""
        seen = after or set()

        def done(_):
            for p in self.download_dir.iterdir():
                if p.name.endswith(suffix) and p.name not in seen and p.stat().st_size > 0:
                    return p
            return False
        return self.wait_until(done, f"a download *{suffix} in {self.download_dir} "
                                     f"(have {[p.name for p in self.download_dir.iterdir()]})", timeout)

    # -- layout -----------------------------------------------------------------------------

    def horizontal_overflow(self) -> tuple[int, int]:
        """(document.body.scrollWidth, window.innerWidth)."""
        return tuple(self.driver.execute_script(
            "return [document.body.scrollWidth, window.innerWidth]"))  # type: ignore[return-value]

    def overflowing(self, limit: int = 5) -> list[str]:
        """The outermost elements sticking out past the window's right edge and not clipped by a
        scrolling ancestor: what to fix when the body overflows (`tag.class[testid] right=Npx`)."""
        return self.driver.execute_script(OVERFLOW_JS, limit)


OVERFLOW_JS = """
const w = window.innerWidth, out = [];
const clipped = (el) => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
  const o = getComputedStyle(p).overflowX; if (o !== 'visible') return true; } return false; };
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.right <= w + 1 || clipped(el)) continue;
  if (el.parentElement && el.parentElement.getBoundingClientRect().right > w + 1 && !clipped(el.parentElement)
      && el.parentElement !== document.body) continue;
  const id = el.getAttribute('data-testid');
  out.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' +
    el.className.trim().split(/\\s+/).join('.') : '') + (id ? `[${id}]` : '') + ` right=${Math.round(r.right)}px`);
  if (out.length >= arguments[0]) break;
}
return out;
"""


__all__ = ["Browser", "DESKTOP", "PHONE", "SCREENSHOTS", "WAIT", "chromium_paths", "testid"]
