"""One flooding WebSocket client in a process of its own, for test_ws_socket_policy.py: several
flooders in one interpreter share its GIL, and a starved client cannot even read the close frame
it was sent. Sends `{"type":"ping"}` at a paced rate until the server closes or time is up, then
prints one JSON line: {"code": <close code received, or "open", or null: closed without a close
frame>, "sent": N, "took": seconds}.

    python flood_client.py WS_URL_WITH_TOKEN PER_SECOND SECONDS
"""
import json
import sys
import time

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


def main() -> None:
    url, per_second, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    ws = connect(url, subprotocols=["bedrock.v1"], compression=None, proxy=None, open_timeout=5,
                 close_timeout=3, ping_interval=None, max_size=None, max_queue=None)
    deadline = time.monotonic() + 5
    while not any(json.loads(line).get("type") == "welcome" for line in ws.recv(timeout=5).split("\n")):
        assert time.monotonic() < deadline, "no welcome"
    per_step = max(1, per_second // 100)  # paced in steps of at most 10 ms
    interval = per_step / per_second
    frame = json.dumps({"type": "ping"})
    start = time.monotonic()
    step = sent = 0
    code: object = "open"
    try:
        while time.monotonic() - start < seconds:
            for _ in range(per_step):
                ws.send(frame)
                sent += 1
            step += 1
            pause = start + step * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            else:
                step = int((time.monotonic() - start) / interval)  # behind: skip, never catch up in a burst
    except ConnectionClosed as e:
        code = e.rcvd.code if e.rcvd is not None else None
    finally:
        took = time.monotonic() - start
        ws.close()
    print(json.dumps({"code": code, "sent": sent, "took": took}))


if __name__ == "__main__":
    main()
