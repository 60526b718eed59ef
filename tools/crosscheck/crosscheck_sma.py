#!/usr/bin/env python3
"""Cross-check bedrock's `sma_cross` against backtesting.py (https://kernc.github.io/backtesting.py/)
on the real public market data that ships with it (GOOG daily 2004-2013, BTCUSD monthly
2012-2024, EURUSD hourly 2017-2018).

For each data set: export it to CSV, run `bedrock backtest --strategy sma_cross --format json`
and the same strategy in backtesting.py, then assert
  * the same trades: entry/exit times equal, entry/exit prices equal (1e-9 relative);
  * the same final balance within 1 % (the only expected difference: backtesting.py buys whole
    units, bedrock fractional ones, so a large starting balance keeps the rounding tiny).

Settings matched on both sides (SPEC §8 and backtesting.py semantics):
  * signal on bar i's close: enter when fast[i-1] < slow[i-1] and fast[i] > slow[i]
    (backtesting.lib.crossover is exactly this), exit on the opposite cross; long only;
  * market orders fill at bar i+1's open (backtesting.py trade_on_close=False, the default);
  * all available cash per trade (backtesting.py size = full equity; bedrock sma_cross has
    weight 1.0 capped by cash incl. commission);
  * at the end of data bedrock closes an open position at the last close (END_OF_DATA).
    backtesting.py's finalize_trades=True would close it at the last bar's *open* (its final
    broker pass reuses the last bar), so it runs with finalize_trades=False instead: its final
    equity is then the open position marked at the last close, which equals bedrock's
    END_OF_DATA exit less the exit commission (0 without commission), and its still-open
    trade (entry time and price) is compared with bedrock's END_OF_DATA trade;
  * the risk guard is off (--no-risk-guard): backtesting.py has none, and bedrock's default
    max-drawdown kill switch stops new entries after BTC's 2018 fall;
  * commission: rate x notional on each fill on both sides; no slippage/spread.

Usage: python3 tools/crosscheck/crosscheck_sma.py [--bedrock PATH] [--commission R]
Exit status 0 when every data set matches, 1 otherwise. Prints one summary line per data set.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import warnings

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAST, SLOW = 10, 20
CASH = 10_000_000.0


def find_bedrock(explicit=None):
    """The bedrock binary: --bedrock, $BEDROCK_BIN, or a build under the repository."""
    candidates = [explicit, os.environ.get("BEDROCK_BIN")]
    candidates += [os.path.join(REPO, d, "bedrock") for d in
                   (".build/debug", ".build/release", ".build/x86_64-unknown-linux-gnu/debug",
                    ".build/x86_64-unknown-linux-gnu/release")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def backtesting_py(data, commission):
    """Run sma_cross in backtesting.py; return (trades, final equity)."""
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    def sma(values, n):
        import pandas as pd
        return pd.Series(values).rolling(n).mean()

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self):
            if crossover(self.fast, self.slow):
                if not self.position:
                    self.buy()
            elif crossover(self.slow, self.fast):
                self.position.close()

    bt = Backtest(data, SmaCross, cash=CASH, commission=commission, trade_on_close=False,
                  exclusive_orders=False, finalize_trades=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # "some trades remain open" is expected here
        stats = bt.run()
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    trades = []
    for _, t in stats["_trades"].sort_values("EntryTime").iterrows():
        trades.append({
            "entry_time": t["EntryTime"].strftime(stamp),
            "exit_time": t["ExitTime"].strftime(stamp),
            "entry_price": float(t["EntryPrice"]),
            "exit_price": float(t["ExitPrice"]),
            "size": float(t["Size"]),
        })
    # The trade still open at the end: bedrock closes it END_OF_DATA at the last close.
    for t in stats["_strategy"].trades:
        trades.append({
            "entry_time": t.entry_time.strftime(stamp),
            "exit_time": data.index[-1].strftime(stamp),
            "entry_price": float(t.entry_price),
            "exit_price": float(data["Close"].iloc[-1]),
            "size": float(t.size),
        })
    return trades, float(stats["Equity Final [$]"])


def bedrock(binary, csv_path, commission, fast=FAST):
    """Run sma_cross in bedrock; return (trades, final balance, report)."""
    cmd = [binary, "backtest", "--data", csv_path, "--strategy", "sma_cross",
           "--param", f"fast={fast}", "--param", f"slow={SLOW}", "--balance", str(CASH),
           "--commission", str(commission), "--slippage", "0", "--no-risk-guard", "--format", "json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    trades = sorted(report["trades"], key=lambda t: t["entry_time"])
    return trades, float(report["final_balance"]), report


def compare(name, data, binary, commission, tmp, bedrock_fast=FAST):
    """Compare one data set; return a list of problems (empty when it matches).
    `bedrock_fast` exists to prove the check can fail (a different fast period must mismatch)."""
    csv_path = os.path.join(tmp, f"{name}.csv")
    frame = data.copy()
    frame.index = frame.index.tz_localize(None) if frame.index.tz is not None else frame.index
    frame.to_csv(csv_path, index_label="time", date_format="%Y-%m-%dT%H:%M:%SZ")
    ref_trades, ref_final = backtesting_py(data, commission)
    our_trades, our_final, report = bedrock(binary, csv_path, commission, bedrock_fast)
    problems = []
    if len(ref_trades) != len(our_trades):
        problems.append(f"trade count: backtesting.py {len(ref_trades)}, bedrock {len(our_trades)}")
    for i, (a, b) in enumerate(zip(ref_trades, our_trades)):
        for key in ("entry_time", "exit_time"):
            if a[key] != b[key]:
                problems.append(f"trade {i + 1} {key}: backtesting.py {a[key]}, bedrock {b[key]}")
        for key in ("entry_price", "exit_price"):
            if not math.isclose(a[key], b[key], rel_tol=1e-9):
                problems.append(f"trade {i + 1} {key}: backtesting.py {a[key]}, bedrock {b[key]}")
        if len(problems) > 10:
            break
    diff = abs(our_final - ref_final) / ref_final
    if diff > 0.01:
        problems.append(f"final balance differs by {diff:.4%}: backtesting.py {ref_final:.2f}, bedrock {our_final:.2f}")
    print(f"{name:7s} bars={len(data):5d} trades={len(our_trades):3d} (backtesting.py {len(ref_trades):3d}) "
          f"final: bedrock {our_final:,.2f} backtesting.py {ref_final:,.2f} (diff {diff:.4%}) "
          f"commission={commission} -> {'OK' if not problems else 'MISMATCH'}")
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bedrock", help="path of the bedrock binary")
    ap.add_argument("--commission", type=float, action="append",
                    help="commission rate(s) to test (default: 0 and 0.001)")
    args = ap.parse_args(argv)
    binary = find_bedrock(args.bedrock)
    if binary is None:
        print("bedrock binary not found: build it (swift build) or pass --bedrock / set BEDROCK_BIN",
              file=sys.stderr)
        return 2
    from backtesting.test import BTCUSD, EURUSD, GOOG
    datasets = [("GOOG", GOOG), ("BTCUSD", BTCUSD), ("EURUSD", EURUSD)]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for commission in args.commission or [0.0, 0.001]:
            for name, data in datasets:
                for p in compare(name, data, binary, commission, tmp):
                    failures.append(f"{name} (commission {commission}): {p}")
    for f in failures:
        print("  " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
