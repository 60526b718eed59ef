"""pytest: bedrock's sma_cross agrees with backtesting.py on its bundled real market data.

Skips only when the bedrock binary has not been built; a missing `backtesting` package or any
mismatch fails.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crosscheck_sma  # noqa: E402

BEDROCK = crosscheck_sma.find_bedrock()


@pytest.fixture(scope="module")
def bedrock_binary():
    if BEDROCK is None:
        pytest.skip("bedrock is not built (swift build); set BEDROCK_BIN to point at it")
    return BEDROCK


@pytest.mark.parametrize("commission", [0.0, 0.001])
@pytest.mark.parametrize("name", ["GOOG", "BTCUSD", "EURUSD"])
def test_sma_cross_matches_backtesting_py(bedrock_binary, tmp_path, name, commission):
    import backtesting.test as data  # the reference library and its real public data

    frame = getattr(data, name)
    problems = crosscheck_sma.compare(name, frame, bedrock_binary, commission, str(tmp_path))
    assert problems == []


def test_script_exit_status(bedrock_binary):
    assert crosscheck_sma.main(["--bedrock", bedrock_binary, "--commission", "0"]) == 0


def test_a_different_strategy_is_caught(bedrock_binary, tmp_path):
    """The comparison is not vacuous: bedrock with fast=11 must not match backtesting.py's 10."""
    from backtesting.test import GOOG

    problems = crosscheck_sma.compare("GOOG", GOOG, bedrock_binary, 0.0, str(tmp_path), bedrock_fast=11)
    assert problems, "a different fast period went unnoticed"
