// Benchmarks for `make bench` (TradingCore figures). Filled in by the trading-core work.
print("no benchmarks yet")
