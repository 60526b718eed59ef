"""nginx in front of gateways for the integration tests: the real site file of the repository
(deploy/nginx/bedrock.conf) with its listen port, upstream addresses and access log substituted,
included in a minimal nginx.conf, run as a foreground process on a free port.

    proxy = Nginx(tmp_path, [gw1.port, gw2.port]); proxy.start()
    ... ws://127.0.0.1:{proxy.port}/ws ...
    proxy.stop()
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from helpers import REPO, free_port, stop_process, tail

SITE = REPO / "deploy" / "nginx" / "bedrock.conf"
# What the site file says, replaced for the test (each must appear exactly once).
SITE_LISTEN = "listen 8080;"
SITE_UPSTREAMS = ("127.0.0.1:8081", "127.0.0.1:8082")
SITE_ACCESS_LOG = "/var/log/nginx/bedrock.access.log"


def render_site(port: int, upstream_ports: list[int], access_log: Path) -> str:
    text = SITE.read_text()
    replacements = [(SITE_LISTEN, f"listen 127.0.0.1:{port};"), (SITE_ACCESS_LOG, str(access_log))]
    replacements += [(site, f"127.0.0.1:{p}") for site, p in zip(SITE_UPSTREAMS, upstream_ports, strict=True)]
    for old, new in replacements:
        assert text.count(old) == 1, f"{SITE} no longer holds {old!r} exactly once"
        text = text.replace(old, new)
    return text


class Nginx:
    """A foreground `nginx -p <dir> -c <dir>/nginx.conf -g 'daemon off;'` in front of gateways."""

    def __init__(self, workdir: Path, upstream_ports: list[int]):
        self.dir = workdir
        self.port = free_port()
        self.access_log = workdir / "access.log"
        self.error_log = workdir / "error.log"
        self.conf = workdir / "nginx.conf"
        (workdir / "temp").mkdir(parents=True, exist_ok=True)
        (workdir / "bedrock.conf").write_text(render_site(self.port, upstream_ports, self.access_log))
        temp = " ".join(f"{kind}_temp_path {workdir}/temp/{kind};"
                        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # As root, nginx's workers would run as nobody, who cannot enter pytest's 0700 temp dirs.
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf.write_text(f"""{user}
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {self.error_log} info;
events {{ worker_connections 16384; }}
http {{
    {temp}
    include {workdir}/bedrock.conf;
}}
""")
        self.proc: subprocess.Popen | None = None

    def command(self, *extra: str) -> list[str]:
        exe = shutil.which("nginx") or "/usr/sbin/nginx"
        assert Path(exe).exists(), "nginx not installed (apt-get install nginx; make test-deps)"
        return [exe, "-p", str(self.dir), "-c", str(self.conf), "-e", str(self.error_log), *extra]

    def check(self) -> subprocess.CompletedProcess:
        """`nginx -t` on the rendered configuration."""
        return subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)

    def start(self) -> None:
        checked = self.check()
        assert checked.returncode == 0, f"nginx -t failed:\n{checked.stderr}"
        self.proc = subprocess.Popen(self.command("-g", "daemon off;"), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"nginx exited {self.proc.returncode}:\n{tail(self.error_log)}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nginx not listening on {self.port}:\n{tail(self.error_log)}")

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc)
        self.proc = None
