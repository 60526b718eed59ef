"""The LLM parts of the dashboard (docs/DASHBOARD.md), in headless Chromium on the real gateway
with the scripted OpenAI-compatible fake (fakes/llm.py) as its model:

- the safe Markdown renderer (public/js/markdown.js) on hostile input: nothing the model writes
  becomes markup or runs (`<img onerror>`, `<script>`, `javascript:` links), it shows as text;
- each market's news sentiment with its reason, age and source after a headline (`POST /v1/news`),
  and "LLM off" on a gateway without a provider;
- the LLM column of the signals table and the model's explanation replacing the template live in
  the open estimate panel (`signal.explained`);
- Journal on a closed trade and the Review memo of the portfolio: the fake's Markdown rendered
  safely (hostile parts shown literally, `window.pwned` never set), the `.md` download, and the
  readable error without a provider.
"""

from __future__ import annotations

import json
import re
import time

from browser import PHONE, Browser
from fakes import FakeLLM
from helpers import REPO, stream_key, wait_until
from test_dashboard import ENGINE_OFF, FAST_ENGINE, MARKET, api, auth, open_position, record_signal, replay_until, signal_row
from test_dashboard_models import post
from test_engine import engine_wired
from test_ledger_api import run_script

# The opening words of each prompt template (config/prompts/*.txt): how the fake tells the tasks apart.
TASK_MARKERS = {"sentiment": "rate the news sentiment", "explanation": "Explain this trading signal",
                "journal": "trade journal entry", "review": "review memo"}

# Hostile Markdown, as a compromised or prompt-injected model could write it.
HOSTILE = "\n".join([
    "# Trade <b>42</b> journal",
    "",
    "Setup: <img src=x onerror=\"window.pwned=1\"> and <script>window.pwned=2</script> end.",
    "",
    "- **Entry** at `100.5` <iframe src=\"javascript:window.pwned=3\"></iframe>",
    "- *Exit* via [click me](javascript:window.pwned=4) or [docs](https://example.com/a?b=1)",
    "- [data](data:text/html,<script>window.pwned=5</script>) and <a href=\"javascript:window.pwned=6\">x</a>",
    "",
    "1. first",
    "2. second",
    "",
    "```",
    "<svg onload=\"window.pwned=7\"></svg>",
    "```",
    "",
    "SMA_CROSS_BUY stays, 2 * 3 * 4 too, and __strong__ _em_ work.",
])

RENDER_JS = """
const [source, done] = arguments;
import('/js/markdown.js').then(({ renderMarkdown }) => {
  const box = document.createElement('div');
  box.id = 'md-test';
  box.append(renderMarkdown(source));
  document.body.append(box);
  // Give any injected handler (an image error, a script) the chance to run before looking.
  setTimeout(() => {
    const q = (sel) => [...box.querySelectorAll(sel)];
    done({
      html: box.innerHTML, text: box.textContent, pwned: window.pwned === undefined ? null : window.pwned,
      tags: [...new Set(q('*').map((e) => e.tagName.toLowerCase()))].sort(),
      headings: q('h3').map((e) => e.textContent),
      bullets: q('ul > li').map((e) => e.textContent),
      numbered: q('ol > li').map((e) => e.textContent),
      strong: q('strong').map((e) => e.textContent), em: q('em').map((e) => e.textContent),
      code: q('code').map((e) => e.textContent),
      links: q('a').map((e) => ({ href: e.getAttribute('href'), rel: e.rel, target: e.target, text: e.textContent })),
      handlers: q('*').flatMap((e) => [...e.attributes].map((a) => a.name)).filter((n) => n.startsWith('on')),
    });
  }, 300);
}).catch((err) => done({ error: String(err) }));
"""


def render(b: Browser, source: str) -> dict:
    out = b.driver.execute_async_script(RENDER_JS, source)
    assert "error" not in out, out
    return out


def test_markdown_renderer_shows_hostile_model_output_as_text(gateway, browser):
    browser.open(gateway)
    browser.driver.set_script_timeout(20)
    out = render(browser, HOSTILE)
    # Nothing ran, and nothing but the renderer's own elements exists.
    assert out["pwned"] is None, f"injected code ran: window.pwned = {out['pwned']}"
    assert set(out["tags"]) <= {"div", "h3", "p", "ul", "ol", "li", "strong", "em", "code", "pre", "a", "span"}, out["tags"]
    assert not out["handlers"], out["handlers"]
    # The hostile parts are shown as the characters they are.
    for literal in ('<img src=x onerror="window.pwned=1">', "<script>window.pwned=2</script>",
                    '<iframe src="javascript:window.pwned=3"></iframe>', "[click me](javascript:window.pwned=4)",
                    "[data](data:text/html,<script>window.pwned=5</script>)",
                    '<a href="javascript:window.pwned=6">x</a>', '<svg onload="window.pwned=7"></svg>'):
        assert literal in out["text"], (literal, out["text"])
    # Only the http(s) link is a link: new tab, no opener, no referrer, the URL visible beside it.
    assert out["links"] == [{"href": "https://example.com/a?b=1", "rel": "noopener noreferrer", "target": "_blank",
                             "text": "docs"}], out["links"]
    assert "docs (https://example.com/a?b=1)" in out["text"]
    # The Markdown itself.
    assert out["headings"] == ["Trade <b>42</b> journal"], out["headings"]
    assert len(out["bullets"]) == 3 and out["bullets"][0].startswith("Entry at 100.5"), out["bullets"]
    assert out["numbered"] == ["first", "second"], out["numbered"]
    assert out["strong"] == ["Entry", "strong"] and out["em"] == ["Exit", "em"], (out["strong"], out["em"])
    assert out["code"] == ["100.5", '<svg onload="window.pwned=7"></svg>'], out["code"]
    assert "SMA_CROSS_BUY stays, 2 * 3 * 4 too" in out["text"]
    browser.screenshot("markdown-hostile")
    browser.assert_no_console_errors()


def test_markdown_renderer_edge_cases(gateway, browser):
    browser.open(gateway)
    browser.driver.set_script_timeout(20)
    cases = {
        "": "",
        "plain <b>x</b> & y": "plain <b>x</b> & y",
        "unclosed **bold and `code": "unclosed **bold and `code",
        "[x](JAVASCRIPT:alert(1))": "[x](JAVASCRIPT:alert(1))",
        "[x]( javascript:alert(1) )": "[x]( javascript:alert(1) )",
        "[x](//evil.example/)": "[x](//evil.example/)",
        "\\*not em\\* and \\<tag>": "*not em* and \\<tag>",
        "```\nunterminated <script>x</script>": "unterminated <script>x</script>",
    }
    for source, text in cases.items():
        out = render(browser, source)
        assert out["text"] == text, (source, out["text"])
        assert not out["links"] and out["pwned"] is None, (source, out)
    # A link label is text too, however it is written.
    out = render(browser, "[<img src=x onerror=window.pwned=9>](https://example.com/)")
    assert out["links"][0]["text"] == "<img src=x onerror=window.pwned=9>" and out["pwned"] is None, out
    assert "img" not in out["tags"], out["tags"]



# ---------------------------------------------------------------------------------------------
# the model


class TaskLLM(FakeLLM):
    """The fake LLM answering by task: `on(task, text, delay_s)` sets what every later call of that
    task (told by its prompt, TASK_MARKERS) answers; the others get the fake's own script or
    default. The gateway asks for sentiment, explanations and documents concurrently, so one
    ordered script cannot say which answer goes where."""

    def __init__(self):
        super().__init__(default_text="NEUTRAL: nothing scripted for this task")
        self.by_task: dict[str, dict] = {}

    def on(self, task: str, text: str, delay_s: float = 0) -> None:
        with self.lock:
            self.by_task[task] = {"kind": "answer", "text": text, "delay_s": delay_s, "finish_reason": "stop"}

    def fail_on(self, task: str, status: int) -> None:
        """Every later call of `task` answers HTTP `status` (an OpenAI error object)."""
        with self.lock:
            self.by_task[task] = {"kind": "fail", "status": status, "retry_after": None, "body": None, "delay_s": 0}

    def calls(self, task: str) -> list[dict]:
        """The recorded requests of one task."""
        return [r for r in self.requests() if task_of(r["body"]) == task]

    def _next_step(self, record, valid):
        step = super()._next_step(record, valid)
        if step is None:
            return None
        with self.lock:
            return dict(self.by_task.get(task_of(record["body"])) or step)


def task_of(body) -> str | None:
    text = " ".join(str(m.get("content", "")) for m in body.get("messages", []) if isinstance(m, dict)) \
        if isinstance(body, dict) else ""
    return next((task for task, marker in TASK_MARKERS.items() if marker in text), None)


def llm_config(fake: FakeLLM, **extra) -> dict:
    return {"llm": {"provider": "openai", "base_url": fake.base_url, "model": "fake", "timeout_s": 10,
                    "batch_window_s": 0.5, "prompts_dir": str(REPO / "config" / "prompts"), **extra}}


# ---------------------------------------------------------------------------------------------
# data and page helpers


def publish_news(gw, title: str, market: str = MARKET, source: str = "wire") -> dict:
    status, body = post(gw, "/v1/news", {"market": market, "title": title, "source": source}, role="TRADER")
    assert status in (200, 201, 202), (status, body)
    return body


def closed_trade(gw, entry: float = 100.0, exit_price: float = 104.0) -> int:
    """A signal, a position opened on it and closed at `exit_price` through the ledger's own
    scripts; returns the trade id `GET /v1/trades` lists for it."""
    signal_id = record_signal(gw, "2026-01-02T00:00:00Z", entry)
    position_id = open_position(gw, signal_id, entry)
    with gw.redis() as r:
        out = run_script(r, "close_position", {"position_id": position_id, "exit_price": str(exit_price),
                                               "exit_reason": "TARGET", "commission_rate": 0.001})
    assert out["status"] == "closed", out
    trades = api(gw, "/v1/trades")["data"]
    assert trades, "the closed position left no trade"
    return int(trades[0]["id"])


def add_bar(gw, market: str = MARKET, close: float = 104.0) -> None:
    """One closed bar on the market's klines stream: the market is listed by GET /v1/markets."""
    with gw.redis() as r:
        r.xadd(stream_key(f"klines:{market}:1h"), json.dumps(
            {"event_type": "kline.closed", "schema_version": "2.0", "timestamp": "2026-01-02T01:00:00Z",
             "market": market, "interval": "1h", "open_time": "2026-01-02T00:00:00Z",
             "open": close, "high": close, "low": close, "close": close, "volume": 1}))


def first_signal(gw, tmp_path, chunk: int = 20, bars: int = 400) -> dict:
    """Replays the synthetic market until the live engine records a signal; returns the newest
    one from the API."""
    return replay_until(gw, tmp_path, lambda: next(iter(api(gw, "/v1/signals?limit=1")["data"]), None),
                        "signal", chunk=chunk, bars=bars)


def sentiment_row(b: Browser, market: str, timeout: float = 20):
    return b.wait_until(lambda _: next((el for el in b.all("sentiment-row") if el.get_attribute("data-market") == market),
                                       False), f"sentiment-row data-market={market}", timeout)


def trade_row(b: Browser, trade_id: int, timeout: float = 20):
    return b.wait_until(lambda _: next((el for el in b.all("trade-row") if el.get_attribute("data-trade-id") == str(trade_id)),
                                       False), f"trade-row data-trade-id={trade_id}", timeout)


def assert_fits(b: Browser, what: str) -> None:
    width, inner = b.horizontal_overflow()
    assert width <= inner, f"[{b.label}] {what} overflows: body {width}px > window {inner}px: {b.overflowing()}"


def pwned(b: Browser):
    return b.driver.execute_script("return window.pwned === undefined ? null : window.pwned")


def open_journal(b: Browser, trade_id: int) -> None:
    b.wait_until(lambda _: (lambda buttons: bool(buttons) and b.click_element(buttons[0]))(
        b.all("journal-trade", within=trade_row(b, trade_id))), f"the Journal button of trade {trade_id}")
    b.wait_for("llm-doc")


# ---------------------------------------------------------------------------------------------
# the dashboard with and without a model

EXPLANATION = "A **breakout** on <b>volume</b> <img src=x onerror=\"window.pwned=11\">: the close cleared the stop level."
REVIEW = "# Review of the month\n\n## Summary\n\n- **1** closed trade, win rate *100 %*\n- Keep the `oops` setup"


def test_news_sentiment_per_market(start_gateway, browser):
    with TaskLLM() as llm:
        llm.on("sentiment", "POSITIVE: ETF inflows <b>beat</b> expectations")
        gw = start_gateway({**ENGINE_OFF, **llm_config(llm)})
        browser.open(gw)
        browser.sign_in("VIEWER")
        browser.go("market")
        browser.wait_for("market-sentiment")
        assert not browser.all("sentiment-row"), "no market has news yet"

        # A headline: one coalesced call for the market, then its sentiment, reason, age and source.
        title = "Spot ETF inflows <script>window.pwned=10</script> hit a record"
        publish_news(gw, title)
        browser.wait_until(lambda _: sentiment_row(browser, MARKET).get_attribute("data-sentiment") == "POSITIVE",
                           "the market's sentiment POSITIVE on the page")
        row = sentiment_row(browser, MARKET)
        assert browser.wait_for("sentiment-badge", within=row).text.strip() == "▲ Positive"
        assert browser.wait_for("sentiment-reason", within=row).text == "ETF inflows <b>beat</b> expectations"
        age = browser.wait_for("sentiment-age", within=row).text
        assert re.fullmatch(r"\d+ s ago", age), age
        assert browser.wait_for("sentiment-source", within=row).text in ("model", "cached")
        assert title in browser.wait_for("sentiment-headline", within=row).text
        browser.wait_until(lambda _: not browser.all("sentiment-pending"), "the pending note to go once answered")
        reading = api(gw, f"/v1/sentiment?market={MARKET}")
        assert (reading["llm_sentiment"], reading["reason"]) == ("POSITIVE", "ETF inflows <b>beat</b> expectations"), reading
        assert len(llm.calls("sentiment")) == 1, llm.calls("sentiment")
        assert title in json.dumps(llm.calls("sentiment")[0]["body"]), "the prompt carries the headline"
        assert pwned(browser) is None
        # The age ticks in the page.
        browser.wait_until(lambda _: browser.wait_for("sentiment-age", within=sentiment_row(browser, MARKET)).text != age,
                           "the age to tick")
        browser.screenshot("market-sentiment")
        browser.assert_no_console_errors()


def test_llm_column_and_explanation_replaced_live(start_gateway, browser, tmp_path):
    with TaskLLM() as llm:
        llm.on("sentiment", "POSITIVE: strong inflows")
        llm.on("explanation", EXPLANATION, delay_s=4)   # the panel is open before it comes
        gw = start_gateway({**FAST_ENGINE, **llm_config(llm)})
        assert engine_wired(gw), "the live engine is not wired into bedrock serve"
        publish_news(gw, "Inflows keep coming")
        wait_until(lambda: api(gw, f"/v1/sentiment?market={MARKET}")["llm_sentiment"] == "POSITIVE", 20,
                   "the market's sentiment")
        browser.open(gw)
        browser.sign_in("TRADER")
        browser.go("signals")
        browser.wait_for("signal-filter-market")
        signal = first_signal(gw, tmp_path)
        row = signal_row(browser, signal["id"])
        # The LLM column: the sentiment the signal took, as the API has it.
        cell = browser.wait_for("llm-sentiment", within=row)
        # POSITIVE, unless the replayed price moved > 5 % and the re-ask was still on its way (NEUTRAL).
        assert signal["llm_sentiment"] in ("POSITIVE", "NEUTRAL"), signal
        badge = {"POSITIVE": "▲ Positive", "NEUTRAL": "● Neutral"}[signal["llm_sentiment"]]
        assert (cell.get_attribute("data-sentiment"), cell.text.strip()) == (signal["llm_sentiment"], badge), cell.text
        # Its panel shows the template, then the model's explanation in its place, live.
        browser.click_element(row)
        panel = browser.wait_for("estimate-panel")
        shown = browser.wait_for("signal-explanation", within=panel)
        assert signal["explanation"] != EXPLANATION, "the model answered before the page looked: nothing to see live"
        assert shown.text == signal["explanation"] and shown.get_attribute("data-source") is None, shown.text
        browser.wait_until(lambda _: browser.wait_for("signal-explanation").get_attribute("data-source") == "llm",
                           "the explanation replaced live", timeout=60)
        shown = browser.wait_for("signal-explanation")
        assert shown.find_element("css selector", "strong").text == "breakout"
        assert "<b>volume</b>" in shown.text and not shown.find_elements("css selector", "b, img"), shown.text
        assert browser.wait_for("signal-explanation-note").text.startswith("Written by the LLM")
        assert api(gw, f"/v1/signals/{signal['id']}")["explanation"] == EXPLANATION
        browser.screenshot("signals-explained")
        # The stored copy in the page was replaced too: reopening shows it without a new event.
        browser.click_element(signal_row(browser, signal["id"]))
        browser.wait_until(lambda _: "breakout" in browser.wait_for("signal-explanation").text, "the stored copy replaced")
        assert pwned(browser) is None
        browser.assert_no_console_errors()


def test_journal_and_review_render_the_models_markdown_safely(start_gateway, browser):
    with TaskLLM() as llm:
        llm.on("journal", HOSTILE, delay_s=2)   # long enough to see the busy state
        llm.on("review", REVIEW)
        gw = start_gateway({**ENGINE_OFF, **llm_config(llm)})
        trade_id = closed_trade(gw)
        browser.open(gw)
        browser.sign_in("TRADER")
        browser.go("portfolio")

        # Journal on a closed trade: busy, then the model's Markdown, hostile parts as text.
        open_journal(browser, trade_id)
        browser.wait_for("llm-doc-busy")
        browser.screenshot("journal-busy")
        body = browser.wait_until(lambda _: (lambda b: b if b.find_elements("css selector", "h3") else False)(
            browser.wait_for("llm-doc-body")), "the journal entry rendered")
        assert body.find_element("css selector", "h3").text == "Trade <b>42</b> journal"
        assert '<img src=x onerror="window.pwned=1">' in body.text and "<script>window.pwned=2</script>" in body.text
        assert not body.find_elements("css selector", "img, script, iframe, svg, b"), "model text became markup"
        links = body.find_elements("css selector", "a")
        assert [(a.get_attribute("href"), a.get_attribute("rel"), a.get_attribute("target")) for a in links] == \
            [("https://example.com/a?b=1", "noopener noreferrer", "_blank")]
        [call] = llm.calls("journal")
        assert str(trade_id) in json.dumps(call["body"]), "the journal prompt names the trade"
        time.sleep(0.3)  # an injected handler would have fired by now (image error, script)
        assert pwned(browser) is None, "model output ran in the page"
        browser.screenshot("journal")
        browser.click("llm-doc-download")
        saved = browser.wait_download(".md")
        assert saved.name == f"journal-trade-{trade_id}.md", saved.name
        assert saved.read_text() == HOSTILE.strip()
        browser.click("llm-doc-close")
        browser.wait_gone("llm-doc")

        # A model that fails: one readable sentence, no crash, the button usable again.
        llm.fail_on("journal", 500)
        open_journal(browser, trade_id)
        error = browser.wait_for("llm-doc-error").text
        assert error.startswith("The model gave no usable answer") and "UNAVAILABLE" not in error, error
        browser.screenshot("journal-model-failed")
        browser.click("llm-doc-close")
        browser.wait_gone("llm-doc")

        # Review memo of this month (the form's default dates).
        start, end = (browser.wait_for(h).get_attribute("value") for h in ("review-start", "review-end"))
        today = time.strftime("%Y-%m-%d", time.gmtime())
        assert (start, end) == (today[:8] + "01", today), (start, end)
        browser.click("review-generate")
        body = browser.wait_until(lambda _: (lambda b: b if b.find_elements("css selector", "h3") else False)(
            browser.wait_for("llm-doc-body")), "the review memo rendered")
        assert [h.text for h in body.find_elements("css selector", "h3, h4")] == ["Review of the month", "Summary"]
        assert [s.text for s in body.find_elements("css selector", "strong")] == ["1"]
        [call] = llm.calls("review")
        assert start in json.dumps(call["body"]) and end in json.dumps(call["body"]), "the review prompt names the period"
        browser.screenshot("review")
        browser.assert_no_console_errors()


def test_without_a_provider_the_page_says_llm_off(start_gateway, make_browser):
    gw = start_gateway(ENGINE_OFF)
    trade_id = closed_trade(gw)
    add_bar(gw)   # a market the page knows: its reading is null without a provider
    assert api(gw, "/v1/sentiment")["data"] == [] and api(gw, f"/v1/sentiment?market={MARKET}")["llm_sentiment"] is None
    trader = make_browser((1440, 900), "desktop")
    viewer = make_browser(PHONE, "phone")
    for b, role in ((trader, "TRADER"), (viewer, "VIEWER")):
        b.open(gw)
        b.sign_in(role)
        b.go("market")
        row = sentiment_row(b, MARKET)
        assert row.get_attribute("data-sentiment") == "none"
        assert b.wait_for("sentiment-badge", within=row).text.strip() == "LLM off"
        assert b.wait_for("sentiment-note").get_attribute("data-llm") == "off"
        assert not b.visible("toast"), "LLM off is not an error"
        assert_fits(b, "market")
        b.screenshot("market-llm-off")
        b.go("signals")
        [cell] = b.all("llm-sentiment", within=signal_row(b, 1))   # a column phones leave out
        assert cell.get_attribute("textContent").strip() == "—" and cell.get_attribute("data-sentiment") == "", cell.get_attribute("textContent")
    # A VIEWER may not ask for documents: the controls are absent.
    viewer.go("portfolio")
    trade_row(viewer, trade_id)
    viewer.assert_absent("journal-trade", "review-panel", "review-generate")
    assert_fits(viewer, "portfolio")
    viewer.screenshot("portfolio-viewer")
    for b in (trader, viewer):
        b.assert_no_console_errors()


def test_without_a_provider_journal_and_review_say_why(start_gateway, make_browser):
    gw = start_gateway(ENGINE_OFF)
    trade_id = closed_trade(gw)
    trader = make_browser(PHONE, "phone")
    trader.open(gw)
    trader.sign_in("TRADER")
    trader.go("portfolio")
    trade_row(trader, trade_id)
    trader.wait_for("review-panel")
    assert_fits(trader, "portfolio")
    trader.screenshot("portfolio-trader")
    open_journal(trader, trade_id)
    error = trader.wait_for("llm-doc-error").text
    assert error.startswith("No LLM is configured on this gateway"), error
    assert_fits(trader, "journal dialog")
    trader.screenshot("journal-no-provider")
    trader.click("llm-doc-close")
    trader.click("review-generate")
    assert trader.wait_for("llm-doc-error").text.startswith("No LLM is configured on this gateway")
    trader.assert_no_console_errors()
