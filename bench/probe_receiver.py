"""Probe `opsdash webhooks` the way issue 22 did: slow clients at a 1,024-descriptor limit, and a password guesser.

    python bench/probe_receiver.py slow [--clients 1100] [--addresses 1] [--seconds 60]
    python bench/probe_receiver.py guess [--seconds 20] [--connections 32] [--addresses 1]

The receiver runs as `opsdash webhooks` (with `--plain`: the same app on uvicorn's defaults, as before
issue 22) in its own process with its soft descriptor limit at 1,024 (the usual
default), on 127.0.0.1, against a fresh database.

`slow`: CLIENTS connections from ADDRESSES loopback addresses (127.0.1.1, ...) each send a request line and
then one header byte per second (reconnecting as soon as the receiver cuts them, like a slowloris), while
one real sender on 127.0.0.1 delivers an event every 0.25 s and retries what fails. Printed: the longest time the real sender went without a stored delivery (the stall),
deliveries stored, what the slow clients were answered, and the bytes the receiver wrote to its log.

`guess`: CONNECTIONS connections from ADDRESSES loopback addresses (127.0.1.1, 127.0.1.2, ...) post with a
wrong password as fast as they are answered. Printed: guesses checked per second (401 answers; a 429 is a
refusal without a check), and whether the right password from a locked-out address was accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
AUTH = ("probe", "probe-password-issue-22")
FD_LIMIT = 1024


def event(n: int) -> bytes:
    image = {"id": f"ci-{n}", "invoice_number": f"CI-{n}", "currency": "EUR", "total_amount": 100,
             "total_tax_amount": "0", "balance": 100, "carrier_id": "c", "status": "open",
             "due_date": "2026-12-01", "updated_at": "2026-11-20T10:00:00"}
    return json.dumps({"id": f"e{n}", "createdAt": "2026-11-20T10:00:00", "updatedAt": "2026-11-20T10:00:00",
                       "status": "PENDING", "operation": "INSERT", "table": "carrier_invoices",
                       "payload": {"new": image, "old": None}}).encode()


PLAIN = ("import sys, uvicorn; from webhooks.webhooks import webhook_app; "
         "uvicorn.run(webhook_app(), host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')")


def start_receiver(folder: Path, port: int, plain: bool = False) -> tuple[subprocess.Popen[bytes], Path]:
    log = folder / "receiver.log"
    env = {**os.environ, "OPSDASH_DB": str(folder / "probe.db"), "OPSDASH_WEBHOOK_USER": AUTH[0],
           "OPSDASH_WEBHOOK_PASSWORD": AUTH[1], "PYTHONPATH": str(ROOT)}

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    with log.open("wb") as out:
        command = ["-c", PLAIN, str(port)] if plain else ["-m", "cli", "webhooks", "--port", str(port)]
        proc = subprocess.Popen([sys.executable, *command], cwd=folder, env=env,
                                stdout=out, stderr=subprocess.STDOUT, preexec_fn=limit)  # noqa: PLW1509
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/webhooks/upwell", content=b"{}", timeout=1)
            return proc, log
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the receiver did not start")


async def slow_client(port: int, address: str, stop: float, answers: Counter[str]) -> None:
    while time.monotonic() < stop:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
        except OSError:
            answers["connect failed"] += 1
            await asyncio.sleep(1)
            continue
        try:
            writer.write(b"POST /webhooks/upwell HTTP/1.1\r\nHost: x\r\n")
            while time.monotonic() < stop:
                writer.write(b"X")
                await writer.drain()
                try:
                    data = await asyncio.wait_for(reader.read(64), timeout=1.0)
                except TimeoutError:
                    continue
                answers[data.split(b"\r\n")[0].decode(errors="replace") or "closed without a word"] += 1
                break
        except OSError:
            answers["reset"] += 1
        finally:
            writer.close()


async def real_sender(port: int, stop: float, result: dict[str, float]) -> None:
    url = f"http://127.0.0.1:{port}/webhooks/upwell"
    last_ok, n = time.monotonic(), 0
    async with httpx.AsyncClient(auth=AUTH, timeout=5) as http:
        while time.monotonic() < stop:
            try:
                response = await http.post(url, content=event(n), headers={"content-type": "application/json"})
                if response.status_code == 200:
                    n += 1
                    result["stall"] = max(result["stall"], time.monotonic() - last_ok)
                    last_ok = time.monotonic()
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.25)
    result["stall"] = max(result["stall"], time.monotonic() - last_ok)
    result["stored"] = n


async def probe_slow(port: int, clients: int, addresses: int, seconds: float) -> dict[str, object]:
    stop = time.monotonic() + seconds
    answers: Counter[str] = Counter()
    result = {"stall": 0.0, "stored": 0.0}
    tasks = [asyncio.create_task(slow_client(port, f"127.0.1.{1 + i % addresses}", stop, answers))
             for i in range(clients)]
    await asyncio.sleep(2)  # let the slow clients take their places first
    await real_sender(port, stop, result)
    await asyncio.gather(*tasks)
    return {"longest stall (s)": round(result["stall"], 1), "deliveries stored": int(result["stored"]),
            "slow clients answered": dict(answers.most_common(5))}


async def guesser(port: int, address: str, stop: float, statuses: Counter[int]) -> None:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(auth=(AUTH[0], "wrong"), timeout=10, transport=transport) as http:
        while time.monotonic() < stop:
            try:
                statuses[(await http.post(f"http://127.0.0.1:{port}/webhooks/upwell", content=b"{}")).status_code] += 1
            except httpx.HTTPError:
                statuses[0] += 1


async def probe_guess(port: int, connections: int, addresses: int, seconds: float) -> dict[str, object]:
    stop = time.monotonic() + seconds
    statuses: Counter[int] = Counter()
    hosts = [f"127.0.1.{1 + i % addresses}" for i in range(connections)]
    right = asyncio.create_task(right_guess(port, hosts[0], seconds / 2))
    await asyncio.gather(*(guesser(port, host, stop, statuses) for host in hosts))
    return {"guesses checked per s": round(statuses[401] / seconds, 2), "answers": dict(statuses),
            "right password from a guessing address, half-way": await right}


async def right_guess(port: int, address: str, after: float) -> int:
    """The right password from one of the guessing addresses, in the middle of the flood."""
    await asyncio.sleep(after)
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(auth=AUTH, timeout=10, transport=transport) as http:
        response = await http.post(f"http://127.0.0.1:{port}/webhooks/upwell", content=event(1),
                                   headers={"content-type": "application/json"})
    return response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("probe", choices=("slow", "guess"))
    parser.add_argument("--clients", type=int, default=1100)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--addresses", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--port", type=int, default=8602)
    parser.add_argument("--plain", action="store_true",
                        help="the receiver on uvicorn's defaults (before issue 22), for comparison")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    with tempfile.TemporaryDirectory() as folder:
        proc, log = start_receiver(Path(folder), args.port, args.plain)
        try:
            if args.probe == "slow":
                found = asyncio.run(probe_slow(args.port, args.clients, args.addresses, args.seconds))
            else:
                found = asyncio.run(probe_guess(args.port, args.connections, args.addresses, args.seconds))
        finally:
            proc.terminate()
            proc.wait(10)
        found["receiver log (bytes)"] = log.stat().st_size
        found["receiver log lines"] = log.read_text(errors="replace").splitlines()[:6]
    print(json.dumps(found, indent=2))


if __name__ == "__main__":
    main()
