#!/usr/bin/env python3
"""Live engine throughput, end to end (docs/ENGINE.md): `bedrock sample-data` writes two synthetic
markets, two `bedrock replay --speed 0` publish them at once into a fresh redis-server, and the
gateway(s) consume them through the engine's consumer group. Prints bars per second from the
start of the replays until every bar of both streams is acknowledged (pending 0).

    loadtest/engine-throughput.py [--bin .build/release/bedrock] [--bars 5000] [--gateways 1] [--model M.json]

With `--model`, the XGBoost JSON model (at most 32 MiB: it goes through `POST /v1/models/import`)
is imported and deployed to 100 % before the replays, so every signal is scored (docs/ML.md).
`--ml-weight 0` keeps the arbiter's decisions those of the rules alone (the score is computed and
recorded but weighs nothing), so a run with a model trades exactly like one without: the
difference is the cost of scoring.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from helpers import free_port  # noqa: E402
from resp import Redis  # noqa: E402

MARKETS = ("BTCUSDT", "ETHUSDT")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(REPO / ".build" / "release" / "bedrock"))
    ap.add_argument("--bars", type=int, default=5000)
    ap.add_argument("--gateways", type=int, default=1)
    ap.add_argument("--model", help="XGBoost JSON model to import and deploy before the replays")
    ap.add_argument("--ml-weight", type=float, help="arbiter.ml_weight (default: the config's 0.3)")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="engine-throughput-")
    rport = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--dir", work,
                              "--save", "", "--appendonly", "yes", "--appendfsync", "everysec"],
                             stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{rport}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDROCK_")}
    gateways = []
    ports = []
    try:
        time.sleep(0.5)
        for g in range(a.gateways):
            data = Path(work) / f"data{g}"
            data.mkdir()
            cfg = Path(work) / f"gw{g}.json"
            cfg.write_text(json.dumps({"mode": "dev", "data_dir": str(data), "jwt": {"secret": "x" * 40},
                                       "server": {"public_dir": str(REPO / "public")}, "redis": {"url": url}, "engine": {"discover_interval_ms": 100},
                                       **({"arbiter": {"ml_weight": a.ml_weight}} if a.ml_weight is not None else {})}))
            ports.append(free_port())
            gateways.append(subprocess.Popen([a.bin, "serve", "--config", str(cfg), "--port", str(ports[-1])],
                                             cwd=work, env=env, stdout=open(Path(work) / f"gw{g}.log", "w"),
                                             stderr=subprocess.STDOUT))
        subprocess.run([a.bin, "sample-data", "--out", f"{work}/sample", "--bars", str(a.bars), "--seed", "7"],
                       check=True, cwd=work, env=env, stdout=subprocess.DEVNULL)
        time.sleep(1.5)
        if a.model:
            deploy_model(a.bin, Path(work) / "gw0.json", Path(work) / "data0", ports[0], Path(a.model), env)
        r = Redis(port=rport)
        t0 = time.monotonic()
        feeds = [subprocess.Popen([a.bin, "replay", "--data", f"{work}/sample/{m}-1h.csv", "--market", m,
                                   "--interval", "1h", "--speed", "0", "--redis", url], cwd=work, env=env,
                                  stdout=subprocess.DEVNULL) for m in MARKETS]

        def done() -> bool:
            for m in MARKETS:
                try:
                    groups = r.execute("XINFO", "GROUPS", f"bedrock:stream:klines:{m}:1h")
                except Exception:  # noqa: BLE001 - stream not there yet
                    return False
                if not groups:
                    return False
                g = dict(zip(groups[0][0::2], groups[0][1::2]))
                if int(g["pending"]) or int(g.get("entries-read") or 0) < a.bars:
                    return False
            return True

        while not done():
            time.sleep(0.02)
        elapsed = time.monotonic() - t0
        for f in feeds:
            f.wait()
        total = len(MARKETS) * a.bars
        print(f"{total} bars, {a.gateways} gateway(s): {elapsed:.2f} s, {total / elapsed:.0f} bars/s "
              f"(signals {r.execute('GET', 'bedrock:seq:signal')}, positions {r.execute('GET', 'bedrock:seq:position')})")
    finally:
        for g in gateways:
            g.terminate()
            g.wait(10)
        redis.terminate()
        redis.wait(5)


def deploy_model(binary: str, cfg: Path, data: Path, port: int, model: Path, env: dict) -> None:
    """Imports `model` as `bench` version 1 and deploys it to 100 % through the REST API."""
    token = subprocess.run([binary, "token", "--config", str(cfg), "--data-dir", str(data), "--sub", "bench",
                            "--role", "ADMIN"], check=True, capture_output=True, text=True, env=env).stdout.split()[-1]

    def post(path: str, body: dict) -> dict:
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    version = post("/v1/models/import", {"name": "bench", "model": json.loads(model.read_text())})
    post(f"/v1/models/bench/{version['version']}/deploy", {"traffic_percentage": 100})
    print(f"deployed bench@{version['version']} ({version['trees']} trees)")


if __name__ == "__main__":
    main()
