"""Black-box tests of the backtest report PDF (SPEC §15: `GET /v1/backtest/report/{task_id}/export?format=pdf`):
the real gateway on a real redis-server; the PDF is read with poppler's `pdfinfo`, `pdftotext`
and `pdftoppm` (Debian `poppler-utils`), which know nothing of how it was drawn.

Each page's picture lands in test-artifacts/screenshots/ (`report-pdf-page-N.png`) for a person
to look at.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from browser import SCREENSHOTS
from helpers import write_wave_csv
from test_jobs import BIG, BIG_BARS, SMALL, rest, rest_json, run, wait_status


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("pdf-datasets")
    r = run("sample-data", "--out", str(d), "--bars", "3000", timeout=120)
    assert r.returncode == 0, r.stderr
    return d


@pytest.fixture(scope="module")
def big_dataset(datasets) -> Path:
    """A long market, so that a backtest of it keeps the only job worker busy for a while."""
    write_wave_csv(datasets / BIG, BIG_BARS)
    return datasets


def poppler(tool: str, *args: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} is missing: install Debian's poppler-utils (make test-deps does)"
    r = subprocess.run([path, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"{tool} failed: {r.stderr}"
    return r.stdout


def completed_backtest(gw) -> str:
    status, _, raw = rest(gw, "/v1/backtest/submit", role="TRADER", method="POST",
                          body={"strategy": "sma_cross", "dataset": SMALL, "params": {"fast": 5, "slow": 20},
                                "initial_balance": 10000, "commission": 0.001, "slippage": 0.0005})
    assert status == 200, raw
    task = json.loads(raw)["task_id"]
    wait_status(gw, task, "COMPLETED")
    return task


def table_time(rfc3339: str) -> str:
    """`2024-03-10T14:05:00Z` as the trade table prints it: `2024-03-10 14:05`."""
    return rfc3339[:10] + " " + rfc3339[11:16]


def test_pdf_holds_the_metrics_charts_and_every_trade(start_gateway, datasets, tmp_path):
    gw = start_gateway({"jobs": {"data_dir": str(datasets)}})
    task = completed_backtest(gw)
    _, report = rest_json(gw, f"/v1/backtest/report/{task}")
    trades = report["trades"]
    assert len(trades) > 40, "enough trades for more than one table page"

    status, hdrs, body = rest(gw, f"/v1/backtest/report/{task}/export?format=pdf")
    assert status == 200, body[:200]
    assert hdrs["content-type"] == "application/pdf"
    assert hdrs["content-disposition"] == f'attachment; filename="backtest-{task}.pdf"'
    assert body.startswith(b"%PDF-")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(body)

    info = poppler("pdfinfo", str(pdf))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    # Title page, chart page, then the trade table at 38 rows a page.
    assert pages == 2 + math.ceil(len(trades) / 38), info
    assert re.search(r"^Title:\s+Backtest report: sma_cross$", info, re.M), info

    text = poppler("pdftotext", "-layout", str(pdf), "-")
    page_texts = text.split("\f")
    summary, charts, table = page_texts[0], page_texts[1], "\f".join(page_texts[2:])
    # The summary: readable labels with the report's values as formatted (2 decimals, units).
    assert re.search(rf"Trades\s+{report['total_trades']}\b", summary), summary
    assert re.search(rf"Return on investment\s+{report['roi']:.2f} %", summary), summary
    assert re.search(rf"Max drawdown\s+{report['max_drawdown']:.2f} %", summary), summary
    assert re.search(rf"Final balance\s+{report['final_balance']:.2f}", summary), summary
    assert task in summary and "fast = 5, slow = 20" in summary
    # The charts, with time labels on their axes.
    assert "Equity" in charts and "Drawdown (%)" in charts
    assert re.search(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 20\d\d\b", charts), charts
    # The trade table: the first trade's row, every trade numbered, the header on every page.
    first = trades[0]
    row = re.search(rf"^\s*1\s+{table_time(first['entry_time'])}\s+{table_time(first['exit_time'])}\s+{first['side']}\s.*$",
                    table, re.M)
    assert row, table[:2000]
    assert f"{first['pnl']:.2f}" in row.group(0)
    assert re.search(rf"^\s*{len(trades)}\s+\d{{4}}-", table, re.M), "the last trade is in the table"
    assert table.count("Entry time") == pages - 2
    assert "Signal" in table or "End of data" in table, "exit reasons in words"

    # One picture per page, for a person to look at (and proof that poppler can draw it).
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    poppler("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "3", str(pdf), str(SCREENSHOTS / "report-pdf-page"))
    assert sorted(p.name for p in SCREENSHOTS.glob("report-pdf-page-*.png"))[:3] == [
        "report-pdf-page-1.png", "report-pdf-page-2.png", "report-pdf-page-3.png"]


def test_pdf_refusals(start_gateway, big_dataset):
    gw = start_gateway({"jobs": {"data_dir": str(big_dataset), "workers": 1}})
    task = completed_backtest(gw)

    # No token: 401; unknown task: 404; a format that does not exist: 400 naming the ones that do.
    status, _, raw = gw.http("GET", f"/v1/backtest/report/{task}/export?format=pdf")
    assert status == 401 and json.loads(raw)["error_code"] == "UNAUTHENTICATED"
    status, _, raw = rest(gw, "/v1/backtest/report/bt-0000000000000000/export?format=pdf")
    assert status == 404 and json.loads(raw)["error_code"] == "NOT_FOUND", raw
    status, _, raw = rest(gw, f"/v1/backtest/report/{task}/export?format=docx")
    assert status == 400 and "json, csv or pdf" in json.loads(raw)["message"], raw

    # An optimisation has no PDF: 400 saying which formats it has.
    status, _, raw = rest(gw, "/v1/optimize/parameters", role="TRADER", method="POST",
                          body={"strategy": "sma_cross", "dataset": SMALL, "grid": {"fast": [5, 10], "slow": [30]}})
    assert status == 200, raw
    opt = json.loads(raw)["task_id"]
    wait_status(gw, opt, "COMPLETED")
    status, _, raw = rest(gw, f"/v1/backtest/report/{opt}/export?format=pdf")
    answer = json.loads(raw)
    assert status == 400 and answer["error_code"] == "BAD_REQUEST", raw
    assert "backtest" in answer["message"] and "json or csv" in answer["message"]
    assert rest(gw, f"/v1/backtest/report/{opt}/export?format=csv")[0] == 200

    # A job still waiting for the one worker (busy with a long one): 409 until it is COMPLETED.
    busy = []
    for _ in range(2):
        status, _, raw = rest(gw, "/v1/backtest/submit", role="TRADER", method="POST",
                              body={"strategy": "sma_cross", "dataset": BIG})
        assert status == 200, raw
        busy.append(json.loads(raw)["task_id"])
    assert rest_json(gw, f"/v1/backtest/status/{busy[1]}")[1]["status"] == "PENDING"
    status, _, raw = rest(gw, f"/v1/backtest/report/{busy[1]}/export?format=pdf")
    answer = json.loads(raw)
    assert status == 409 and answer["error_code"] == "CONFLICT" and "PENDING" in answer["message"], raw
    for t in busy:
        assert rest(gw, f"/v1/backtest/cancel/{t}", role="TRADER", method="POST")[0] == 200
