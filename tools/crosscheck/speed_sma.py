#!/usr/bin/env python3
"""Whole-process speed reference: backtesting.py running `sma_cross` (fast 10, slow 20) on a
bedrock market-data CSV (`time,open,high,low,close,volume`), with the settings of
crosscheck_sma.py, printing the final equity and the trade count. Time it against
`bedrock backtest --strategy sma_cross ... --no-risk-guard` on the same file (docs/BACKTESTING.md).

    python tools/crosscheck/speed_sma.py BTCUSDT-1h.csv [commission]
"""
import sys

import pandas as pd

from crosscheck_sma import backtesting_py


def main(path: str, commission: float) -> None:
    data = pd.read_csv(path)
    data.index = pd.to_datetime(data.pop("time"), utc=True).dt.tz_localize(None)
    data = data.rename(columns=str.capitalize)
    trades, final = backtesting_py(data, commission)
    print(f"bars={len(data)} trades={len(trades)} final={final:.2f}")


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 0.001)
