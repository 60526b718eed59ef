"""The ML parts of the dashboard (docs/DASHBOARD.md), in headless Chromium on the real gateway:
the Models view (versions with their metrics against the baseline, status, traffic, live
performance; deploy for ADMIN only, live traffic updates on topic `models`; import through the file
picker, a refused import in one clear sentence), the signals table's ML column and the estimate
panel's arbiter inputs, rules-only vs rules + ML in a backtest report, and training from the page.

Models are real XGBoost boosters: trained here with xgboost (in the test virtualenv) on 15 random
features, saved with `save_model` and read back as JSON, then imported through the REST API as
ADMIN, exactly what a quant does with a notebook model.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from selenium.common.exceptions import ElementNotInteractableException, StaleElementReferenceException

from browser import PHONE, Browser
from test_dashboard import ENGINE_OFF, FAST_ENGINE, MARKET, api, auth, record_signal, replay_bars, select_option, signal_row
from test_engine import sample, wait_processed

WIDE = (1440, 900)
FEATURES = 15


# ---------------------------------------------------------------------------------------------
# models


def xgb_model(tmp_path: Path, seed: int, features: int = FEATURES, trees: int = 20) -> tuple[dict, Path]:
    """A binary:logistic booster trained with xgboost on `features` random columns, saved with
    `save_model` and read back: (its JSON, the file)."""
    try:
        import numpy as np
        import xgboost as xgb
    except ImportError as e:  # a clear failure: the suite's virtualenv installs xgboost
        raise AssertionError(f"xgboost is not importable in the test virtualenv ({e})") from None
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, features))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(size=400) > 0).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": seed},
                        xgb.DMatrix(x, label=y), num_boost_round=trees)
    path = tmp_path / f"model-{seed}-{features}.json"
    booster.save_model(str(path))
    return json.loads(path.read_text()), path


def post(gw, path: str, body: dict, role: str = "ADMIN") -> tuple[int, dict]:
    status, _, data = gw.http("POST", path, {**auth(gw, role), "Content-Type": "application/json"},
                              json.dumps(body).encode())
    return status, json.loads(data) if data else None


def import_model(gw, name: str, model: dict) -> dict:
    status, version = post(gw, "/v1/models/import", {"name": name, "model": model})
    assert status in (200, 201), (status, version)
    return version


def deploy(gw, ref: str, pct: int) -> None:
    name, version = ref.rsplit("@", 1)
    status, body = post(gw, f"/v1/models/{name}/{version}/deploy", {"traffic_percentage": pct})
    assert status == 200, (status, body)


def ref_of(v: dict) -> str:
    return f"{v['name']}@{v['version']}"


# ---------------------------------------------------------------------------------------------
# page helpers


def card(b: Browser, ref: str, timeout: float = 20):
    """The `model-version` card of `name@version`."""
    return b.wait_until(lambda _: next((el for el in b.all("model-version") if el.get_attribute("data-model") == ref), False),
                        f"model-version data-model={ref}", timeout)


def traffic_shown(b: Browser) -> dict[str, int]:
    """name@version → the share each card shows (deployed cards only)."""
    return {el.get_attribute("data-model"): int(float(el.get_attribute("data-traffic")))
            for el in b.all("model-version") if el.get_attribute("data-status") == "deployed"}


def api_traffic(gw) -> dict[str, int]:
    return {k: int(v) for k, v in api(gw, "/v1/models")["traffic"].items()}


def deploy_from_page(b: Browser, ref: str, pct: int) -> None:
    """Types the share into the card's deploy form and confirms. The card is looked up afresh at
    every try: an event on topic `models` (an import, a deploy) rebuilds the list meanwhile."""
    def fill(_):
        c = card(b, ref)
        share, button = b.all("model-deploy-share", within=c), b.all("model-deploy", within=c)
        if not share or not button:
            return False
        try:
            b.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", share[0])
            share[0].clear()
            share[0].send_keys(str(pct))
            if share[0].get_attribute("value") != str(pct):
                return False
            button[0].click()
        except (ElementNotInteractableException, StaleElementReferenceException):
            return False  # the list was being rebuilt under the click: try the fresh card
        return True
    b.wait_until(fill, f"the deploy form of {ref}")
    assert b.accept_confirm(), "deploy asks first"


def import_from_page(b: Browser, path: Path, name: str) -> None:
    if not b.visible("model-import-file"):
        b.click("models-import-open")
    b.wait_present("model-import-file").send_keys(str(path))
    field = b.wait_for("model-import-name")
    field.clear()
    field.send_keys(name)
    b.click("model-import-submit")


def check_metrics(table, metrics: dict) -> None:
    """A metrics-vs-baseline table shows the six metrics as the API reports them, each row marked
    by whether the model beats the baseline (log-loss: lower is better)."""
    rows = {r.get_attribute("data-metric"): r for r in table.find_elements("css selector", "tbody tr")}
    assert set(rows) == {"accuracy", "precision", "recall", "f1", "auc", "log_loss"}, rows.keys()
    for key, row in rows.items():
        m, b = metrics["model"][key], metrics["baseline"][key]
        cells = row.find_elements("css selector", "td")
        if m is not None:
            assert abs(float(cells[0].text) - m) < 0.0006, (key, cells[0].text, m)
        if b is not None:
            assert abs(float(cells[1].text) - b) < 0.0006, (key, cells[1].text, b)
        if m is not None and b is not None:
            beats = m < b if key == "log_loss" else m > b
            assert row.get_attribute("data-beats") == str(beats).lower(), (key, m, b)
            assert ("worse" in row.get_attribute("class")) == (not beats), (key, row.get_attribute("class"))


# ---------------------------------------------------------------------------------------------
# tests


def test_models_view_roles_import_deploy_and_live_traffic(start_gateway, make_browser, tmp_path):
    gw = start_gateway(ENGINE_OFF)
    first = import_model(gw, "dash-xgb", xgb_model(tmp_path, seed=1)[0])
    ref1 = ref_of(first)
    admin = make_browser(WIDE, "desktop")
    viewer = make_browser(PHONE, "phone")
    for b, role in ((admin, "ADMIN"), (viewer, "VIEWER")):
        b.open(gw)
        b.sign_in(role)
        b.go("models")
    # What every role sees: the version, imported, a candidate with no live traffic.
    for b in (admin, viewer):
        c = card(b, ref1)
        assert b.wait_for("model-ref", within=c).text == ref1
        assert c.get_attribute("data-status") == "candidate", c.get_attribute("data-status")
        assert "Candidate" in b.wait_for("model-status", within=c).text
        assert "no live traffic" in b.wait_for("model-traffic", within=c).text
        assert "imported" in c.text.lower()
        b.wait_for("models-traffic")
        b.wait_for("traffic-none")
    # Deploying, importing and training are absent from a VIEWER's page, not merely disabled.
    viewer.assert_absent("model-deploy", "model-deploy-share", "models-import-open", "model-import", "models-train-open",
                         "model-train")
    assert admin.all("model-deploy", within=card(admin, ref1)), "ADMIN has a deploy control on each version"
    assert not admin.visible("model-import"), "the import form opens on request"

    # ADMIN deploys it to all live traffic from the page; both pages follow, the viewer's live.
    deploy_from_page(admin, ref1, 100)
    for b in (admin, viewer):
        b.wait_until(lambda _: traffic_shown(b) == {ref1: 100}, f"{ref1} at 100 % on the page")
    assert api_traffic(gw) == {ref1: 100}
    viewer.wait_until(lambda _: [el.get_attribute("data-model") for el in viewer.all("traffic-share")] == [ref1],
                      "the viewer's traffic bar holds the deployed version")

    # ADMIN imports a second version through the file picker, then gives it 25 %.
    _, second_file = xgb_model(tmp_path, seed=2)
    import_from_page(admin, second_file, "dash-xgb")
    result = admin.wait_until(lambda _: (lambda t: t if "Imported as" in t else False)(
        admin.all("model-import-result")[0].text), "the import's result")
    ref2 = re.search(r"Imported as (\S+)", result).group(1)
    assert ref2 != ref1 and ref2.startswith("dash-xgb@"), result
    assert ref2 in [ref_of(v) for v in api(gw, "/v1/models")["models"]]
    admin.wait_until(lambda _: [el.get_attribute("data-model") for el in admin.all("model-version")][:1] == [ref2],
                     "the new version first (newest first)")
    deploy_from_page(admin, ref2, 25)
    admin.wait_until(lambda _: ref2 in traffic_shown(admin), f"{ref2} deployed on the admin page")
    expected = api_traffic(gw)
    assert expected.get(ref2) == 25 and sum(expected.values()) == 100, expected
    for b in (admin, viewer):
        b.wait_until(lambda _: traffic_shown(b) == expected, f"the traffic the API reports ({expected})")
    admin.screenshot("models-deployed")
    viewer.screenshot("models-deployed")

    # A model whose features do not fit is refused in one sentence, with no raw error code.
    _, bad_file = xgb_model(tmp_path, seed=3, features=FEATURES - 1)
    import_from_page(admin, bad_file, "too-narrow")
    error = admin.wait_for("model-import-error").text.strip()
    assert error.startswith("Not imported.") and "BAD_REQUEST" not in error, error
    assert len(error) > len("Not imported. "), error
    assert "too-narrow" not in [v["name"] for v in api(gw, "/v1/models")["models"]]
    admin.screenshot("models-import-refused")
    for b in (admin, viewer):
        b.assert_no_console_errors(allow=(r"/v1/models/import",))


def test_models_view_metrics_against_the_baseline(start_gateway, make_browser, tmp_path):
    """A trained version's walk-forward metrics next to the baseline, each row marked by whether
    the model beats it, exactly as the API reports them; an empty registry reads as empty."""
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    # 10,000 bars: a couple of hundred pullback signals, enough for 3 walk-forward folds.
    (datasets / "BTCUSDT-1h.csv").write_bytes(sample(tmp_path, 10_000, seed=5).read_bytes())
    gw = start_gateway({**ENGINE_OFF, "jobs": {"data_dir": str(datasets)}})
    browser = make_browser(WIDE, "desktop")
    browser.open(gw)
    browser.sign_in("TRADER")
    browser.go("models")
    browser.wait_for("models-empty")
    assert not browser.visible("models-error")
    browser.click("models-train-open")
    form = browser.wait_for("train-form")
    select_option(browser, "train-strategy", "pullback")
    browser.click("train-source-dataset")
    select_option(browser, "train-dataset", "BTCUSDT-1h.csv")
    for hook, value in (("train-model-name", "dash-trained"), ("train-trees", "30"), ("train-depth", "3"),
                        ("train-folds", "3")):
        field = browser.wait_for(hook, within=form)
        field.clear()
        field.send_keys(value)
    browser.click("train-submit")
    browser.wait_present("train-progress")
    browser.wait_until(lambda _: browser.visible("train-metrics") or browser.visible("train-error"),
                       "the trained model's metrics or an error", 100)
    assert not browser.visible("train-error"), browser.text("train-error")
    ref = browser.text("train-model-ref")
    version = next(v for v in api(gw, "/v1/models")["models"] if ref_of(v) == ref)
    assert version["source"] == "trained" and version["metrics"], version
    check_metrics(browser.wait_for("train-metrics"), version["metrics"])
    # The list reloads (the job's end, then its model.trained event): the card is read once settled.
    def card_shows_it(_):
        c = card(browser, ref)
        check_metrics(browser.wait_for("model-metrics", within=c), version["metrics"])
        dataset = browser.wait_for("model-dataset", within=c).text
        assert f"{version['dataset']['rows']:,} rows" in dataset, dataset
        return True
    browser.wait_until(card_shows_it, f"{ref}'s card with its metrics and dataset")
    browser.screenshot("models-trained")
    browser.driver.set_window_size(*PHONE)
    browser.wait_until(lambda _: browser.horizontal_overflow()[0] <= browser.horizontal_overflow()[1],
                       "the models view to fit a phone's width")
    browser.screenshot("models-trained-phone-width")
    browser.assert_no_console_errors()


def test_signals_ml_column_and_arbiter_inputs(start_gateway, make_browser, tmp_path):
    """With a deployed model the live engine's signals carry its score and name; the ML column
    shows both (colour band by score), a signal without one shows a dash, and the estimate panel
    lays out the arbiter's inputs with the weights of `models.list`."""
    gw = start_gateway(FAST_ENGINE)
    browser = make_browser(WIDE, "desktop")
    version = import_model(gw, "live-xgb", xgb_model(tmp_path, seed=4)[0])
    ref = ref_of(version)
    deploy(gw, ref, 100)
    plain = record_signal(gw, "2020-01-01T00:00:00Z", 100)  # an old signal, without an ML score
    browser.open(gw)
    browser.sign_in("VIEWER")
    browser.go("signals")
    dash = browser.wait_for("ml-score", within=signal_row(browser, plain))
    assert dash.text == "—" and dash.get_attribute("data-band") == "none", dash.text
    replay_bars(gw, tmp_path, 400, seed=7)
    scored = browser.wait_until(lambda _: next((s for s in api(gw, "/v1/signals?limit=100")["data"]
                                                if s.get("ml_model") == ref), False), f"a live signal scored by {ref}", 90)
    row = signal_row(browser, scored["id"])
    score = browser.wait_for("ml-score", within=row)
    assert score.get_attribute("data-model") == ref
    assert int(score.text) == round(scored["ml_confidence_score"]), (score.text, scored["ml_confidence_score"])
    s = scored["ml_confidence_score"]
    assert score.get_attribute("data-band") == ("high" if s >= 60 else "mid" if s >= 40 else "low")
    assert browser.all("ml-model", within=row)[0].get_attribute("textContent") == ref
    browser.click_element(row)
    inputs = browser.wait_for("arbiter-inputs")
    ml_row = inputs.find_element("css selector", 'tr[data-input="ml"]')
    assert ref in ml_row.text and re.search(r"\d+\.\d", ml_row.text), ml_row.text
    weights = api(gw, "/v1/models")["arbiter"]
    assert f"{weights['ml_weight']:.2f}" in ml_row.text, (weights, ml_row.text)
    verdict = browser.wait_for("arbiter-verdict")
    assert verdict.get_attribute("data-decision") == scored["final_decision"], verdict.text
    browser.screenshot("signals-ml")
    browser.driver.set_window_size(*PHONE)
    browser.wait_until(lambda _: browser.horizontal_overflow()[0] <= browser.horizontal_overflow()[1],
                       "the signals view to fit a phone's width")
    browser.screenshot("signals-ml-phone-width")
    # The version's live performance on the Models view is what the registry counts.
    browser.driver.set_window_size(*WIDE)
    wait_processed(gw, 400)
    name, number = ref.rsplit("@", 1)
    perf = api(gw, f"/v1/models/{name}/{number}/performance")
    browser.go("models")
    box = browser.wait_until(lambda _: next((el for el in browser.all("model-performance")
                                             if el.get_attribute("data-model") == ref and el.get_attribute("data-count")), False),
                             f"{ref}'s live performance")
    assert int(box.get_attribute("data-count")) == perf["count"], (box.get_attribute("data-count"), perf)
    if perf["count"]:
        assert browser.wait_for("perf-count", within=box).text == f"{perf['count']:,}"
        rate = float(browser.wait_for("perf-win-rate", within=box).text.split()[0])
        assert abs(rate - 100 * perf["wins"] / perf["count"]) < 0.06, (rate, perf)
    print(f"live performance of {ref}: {perf}")
    browser.screenshot("models-live-performance")
    browser.assert_no_console_errors()


def test_backtest_with_a_model_beside_rules_only(start_gateway, make_browser, tmp_path):
    gw = start_gateway(ENGINE_OFF)
    browser = make_browser(WIDE, "desktop")
    replay_bars(gw, tmp_path, 600, seed=11)
    ref = ref_of(import_model(gw, "bt-xgb", xgb_model(tmp_path, seed=6)[0]))
    browser.open(gw)
    browser.sign_in("TRADER")
    browser.go("backtest")
    browser.wait_for("backtest-form")
    select_option(browser, "bt-strategy", "pullback")
    select_option(browser, "bt-market", MARKET)
    compare = browser.wait_for("bt-compare-rules-only")
    assert not compare.is_enabled(), "compare needs a model"
    select_option(browser, "bt-ml-model", ref)
    browser.wait_until(lambda _: compare.is_enabled(), "bt-compare-rules-only enabled once a model is chosen")
    browser.click_element(compare)
    # A model acts through the arbiter: without it the form says so before sending anything.
    arbiter = browser.wait_for("bt-arbiter")
    browser.click_element(arbiter)
    browser.click("bt-submit")
    assert "arbiter" in browser.wait_for("bt-error").text, browser.text("bt-error")
    browser.click_element(arbiter)
    browser.click("bt-submit")
    browser.wait_until(lambda _: browser.visible("bt-report") or browser.visible("bt-error"), "the report or an error", 100)
    assert not browser.visible("bt-error"), browser.text("bt-error")
    report = browser.wait_for("bt-report")
    table = browser.wait_for("bt-compare-table", within=report)
    task = re.search(r"Report (\S+)", report.text).group(1)
    full = api(gw, f"/v1/backtest/report/{task}")
    assert full["ml_model"] == ref and "rules_only" in full["compare"], full.get("compare")
    roi = table.find_element("css selector", 'tr[data-metric="roi"]').find_elements("css selector", "td")
    shown = [float(c.text.replace("%", "").replace(",", "").replace("\u2212", "-")) for c in roi[:2]]
    assert abs(shown[0] - full["compare"]["rules_only"]["roi"]) < 0.006, (shown, full["compare"]["rules_only"]["roi"])
    assert abs(shown[1] - full["roi"]) < 0.006, (shown, full["roi"])
    browser.wait_for("equity-legend")
    assert browser.all("bt-report-model"), "the report names its model"
    browser.screenshot("backtest-compare")
    browser.driver.set_window_size(*PHONE)
    browser.wait_until(lambda _: browser.horizontal_overflow()[0] <= browser.horizontal_overflow()[1],
                       "the backtest report to fit a phone's width")
    browser.screenshot("backtest-compare-phone-width")
    browser.assert_no_console_errors()
