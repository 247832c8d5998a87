"""The team on one machine that bench/bench_cluster.py measures: its processes, started and stopped by PID.

One PostgreSQL (a throwaway cluster, tests/pgcluster.py), the vendor sandbox at its documented limits
(`opsdash sandbox`), 3 dashboard servers (`opsdash serve`, in-process worker off) behind a sticky HAProxy
frontend, 2 workers (`opsdash worker`), 2 webhook receivers (`opsdash webhooks`) behind a second frontend
(and a third frontend with receiver A alone, for the one-receiver rate). Everything binds 127.0.0.1; HAProxy
runs as a child process with a config generated into a temp dir (never the system service).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.context import SandboxConfig
from sandbox.server import client_env, free_port

AUTH = ("bench", "bench-chaos-password")  # bench_chaos.AUTH: the receivers accept the chaos senders
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
START_S = 90.0


@dataclass
class Proc:
    """One child process of ours: its command, environment, port and log file; restartable after a kill."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    port: int
    log: Path
    ready: str  # URL polled until it answers (any HTTP status)
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        if self.ready:
            wait_http(self.ready, self)

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def kill9(self) -> None:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


def wait_http(url: str, proc: Proc | None = None, timeout: float = START_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.popen is not None and proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}); see {proc.log}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all threads (clock ticks from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Cluster:
    tmp: Path
    admin_url: str  # the PostgreSQL superuser URL (pgcluster.start/stop key)
    db_url: str
    sandbox: Proc
    sandbox_url: str
    env: dict[str, str]  # what every opsdash process gets
    servers: list[Proc] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)
    receivers: list[Proc] = field(default_factory=list)
    balancer: Proc | None = None
    dash_url: str = ""
    hooks_url: str = ""  # both receivers
    hook_a_url: str = ""  # receiver A alone

    def proc(self, name: str, args: list[str], port: int = 0, ready: str = "", **env: str) -> Proc:
        return Proc(name, [sys.executable, "-m", "cli", *args], {**self.env, **env}, port,
                    self.tmp / f"{name}.log", ready)

    def stats(self, vendor: str | None = None) -> Any:
        path = f"/_admin/stats/{vendor}" if vendor else "/_admin/stats"
        return httpx.get(self.sandbox_url + path, timeout=10).json()

    def admin(self, path: str, body: Any) -> Any:
        return httpx.post(self.sandbox_url + path, json=body, timeout=10).json()

    def restart_postgres(self) -> float:
        """Stop PostgreSQL (fast: clients cut off) and start it again; returns the seconds it was down."""
        from tests import pgcluster

        started = time.monotonic()
        pgcluster.stop(self.admin_url)
        pgcluster.start(self.admin_url)
        return time.monotonic() - started


def _haproxy_config(dash: list[int], hooks: list[int], ports: dict[str, int]) -> str:
    """Sticky dashboards (a cookie naming the server, websockets tunnelled); receivers round robin, a
    connection refused or cut before any answer retried on the other one (a webhook is idempotent by its id)."""
    servers = "\n".join(f"    server s{i} 127.0.0.1:{p} check inter 1s cookie s{i}" for i, p in enumerate(dash, 1))
    hook_lines = "\n".join(f"    server r{chr(97 + i)} 127.0.0.1:{p} check inter 500ms fall 1 rise 1"
                           for i, p in enumerate(hooks))
    return f"""global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout tunnel 1h
    option http-server-close
frontend dash
    bind 127.0.0.1:{ports['dash']}
    default_backend dash
backend dash
    balance roundrobin
    cookie OPSDASH_SERVER insert indirect nocache
{servers}
frontend hooks
    bind 127.0.0.1:{ports['hooks']}
    default_backend hooks
backend hooks
    balance roundrobin
    option redispatch 1
    retries 3
    retry-on conn-failure empty-response response-timeout
{hook_lines}
frontend hook_a
    bind 127.0.0.1:{ports['hook_a']}
    default_backend hook_a
backend hook_a
    server ra 127.0.0.1:{hooks[0]}
"""


def _create_database(admin_url: str) -> str:
    from tests import pgcluster

    return pgcluster.migrated_database(admin_url, "opsdash")


@contextmanager
def cluster(scale: str = "small", factor: float = 1.0, servers: int = 3, workers: int = 2,
            receivers: int = 2) -> Iterator[Cluster]:
    """The whole team, up; everything we started is stopped (by PID) on the way out."""
    from tests import pgcluster

    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="opsdash-cluster-"))  # logs and config, kept for reading afterwards
        admin_url = stack.enter_context(pgcluster.cluster())
        db_url = _create_database(admin_url)
        port = free_port()
        sandbox_env = {**os.environ, "PYTHONPATH": str(ROOT)}
        sandbox = Proc("sandbox", [sys.executable, "-m", "cli", "sandbox", "--port", str(port), "--scale", scale,
                                   "--factor", str(factor), "--tick-seconds", "0"], sandbox_env, port,
                       tmp / "sandbox.log", f"http://127.0.0.1:{port}/_admin/health")
        env = {**os.environ, **client_env(SandboxConfig(port=port)), "OPSDASH_DB": db_url,
               "OPSDASH_WEBHOOK_USER": AUTH[0], "OPSDASH_WEBHOOK_PASSWORD": AUTH[1],
               "OPSDASH_INPROCESS_WORKER": "false", "PYTHONPATH": str(ROOT)}
        c = Cluster(tmp, admin_url, db_url, sandbox, sandbox.ready.rsplit("/_admin", 1)[0], env)
        stack.callback(_stop_all, c)
        sandbox.start()
        for i in range(receivers):
            p = free_port()
            c.receivers.append(c.proc(f"receiver-{chr(97 + i)}", ["webhooks", "--port", str(p)], p,
                                      f"http://127.0.0.1:{p}/webhooks/upwell"))
        for i in range(servers):
            p = free_port()
            c.servers.append(c.proc(f"server-{i + 1}", ["serve", "--port", str(p)], p,
                                    f"http://127.0.0.1:{p}/_stcore/health"))
        c.workers = [c.proc(f"worker-{i + 1}", ["worker"]) for i in range(workers)]
        for proc in [*c.receivers, *c.servers]:
            proc.start()
        ports = {"dash": free_port(), "hooks": free_port(), "hook_a": free_port()}
        config = tmp / "haproxy.cfg"
        config.write_text(_haproxy_config([s.port for s in c.servers], [r.port for r in c.receivers], ports))
        c.balancer = Proc("haproxy", [HAPROXY, "-db", "-f", str(config)], env, ports["dash"], tmp / "haproxy.log",
                          f"http://127.0.0.1:{ports['dash']}/_stcore/health")
        c.balancer.start()
        c.dash_url = f"http://127.0.0.1:{ports['dash']}"
        c.hooks_url = f"http://127.0.0.1:{ports['hooks']}/webhooks/upwell"
        c.hook_a_url = f"http://127.0.0.1:{ports['hook_a']}/webhooks/upwell"
        yield c


def _stop_all(c: Cluster) -> None:
    for proc in [c.balancer, *c.workers, *c.servers, *c.receivers, c.sandbox]:
        if proc is not None:
            proc.stop()
