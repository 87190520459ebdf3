"""A bounded HTTP load against a running local gateway: throughput, latency and connection errors.

Each client is a thread with its own keep-alive connection sending a fixed share of the requests, as a
small fleet of callers would; a failed connection or a non-2xx answer counts as an error and the
client reconnects. `burst` opens many connections at the same instant, as concurrent clients do when
they start together, and counts those that were refused, reset or left unanswered.

    python benchmarks/gateway_load.py http://127.0.0.1:3000 KEY   (bursts, then each product's requests)
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]


def example_request(event: str) -> tuple[str, str, Any]:
    """(method, path, JSON body) of an API Gateway event under events/."""
    sent = json.loads((ROOT / "events" / event).read_text())
    return sent["httpMethod"], sent["path"], json.loads(sent["body"]) if sent.get("body") else None


def requests_to_load() -> dict[str, str]:
    """What `make bench` and the command line send, from the product registry: each product's example
    request (everything in the body) and, where it declares one, its request by stored id."""
    from finscore.products import products

    found = {}
    for spec in products().values():
        if spec.example_event:
            found[spec.name] = spec.example_event
        if spec.stored_event:
            found[f"{spec.name} by id"] = spec.stored_event
    return found


@dataclass(frozen=True)
class LoadResult:
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    # What went wrong, counted: an HTTP status or the exception's name.
    error_kinds: Counter = field(default_factory=Counter)

    @property
    def requests_per_s(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99_ms(self) -> float:
        return self.percentile(0.99)


def _connection(base_url: str, timeout: float) -> http.client.HTTPConnection:
    url = urlsplit(base_url)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)


def load(base_url: str, api_key: str, method: str, path: str, body: Any, *, clients: int = 16,
         requests: int = 1600, timeout: float = 30.0) -> LoadResult:
    """REQUESTS requests of METHOD PATH with BODY, spread over CLIENTS concurrent keep-alive clients."""
    payload = json.dumps(body).encode() if body is not None else None
    headers = {"x-api-key": api_key, "Content-Type": "application/json"}
    latencies: list[float] = []
    kinds: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(count: int) -> None:
        connection = _connection(base_url, timeout)
        mine: list[float] = []
        failed: Counter = Counter()
        start.wait()
        for _ in range(count):
            began = time.perf_counter()
            try:
                connection.request(method, path, body=payload, headers=headers)
                response = connection.getresponse()
                response.read()
                kind = None if 200 <= response.status < 300 else str(response.status)
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException) as exc:
                kind = type(exc).__name__
                connection.close()
            if kind is None:
                mine.append((time.perf_counter() - began) * 1000)
            else:
                failed[kind] += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            kinds.update(failed)

    shares = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    threads = [threading.Thread(target=client, args=(share,), daemon=True) for share in shares]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return LoadResult(clients, requests, sum(kinds.values()), time.perf_counter() - began, latencies, kinds)


# Long enough for every health check of a burst to be answered by the one execution environment that
# serves them in turn (about 0.1 s each locally), so that what is counted is connections refused, reset
# or dropped, not a queue.
BURST_TIMEOUT_S = 30.0


def burst(base_url: str, clients: int, path: str = "/v1/health", timeout: float = BURST_TIMEOUT_S) -> Counter:
    """What went wrong, counted by kind, for CLIENTS connections opened at the same instant, each
    sending GET PATH: empty when every one got its 200 within TIMEOUT seconds."""
    kinds: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client() -> None:
        connection = _connection(base_url, timeout)
        try:
            start.wait()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            kind = None if response.status == 200 else str(response.status)
        except (OSError, http.client.HTTPException) as exc:
            kind = type(exc).__name__
        finally:
            connection.close()
        if kind is not None:
            with lock:
                kinds[kind] += 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return kinds


# Requests per client for warming up: every execution environment the load reaches starts cold once.
WARM_UP_PER_CLIENT = 4
BURSTS = (20, 64)


def measure(base_url: str, api_key: str, *, clients: int = 16, requests: int = 1600) -> dict[str, Any]:
    """Connection errors of each burst in BURSTS, then every request of requests_to_load() under the same load."""
    bursts = {concurrent: burst(base_url, concurrent) for concurrent in BURSTS}
    loads = {}
    for name, event in requests_to_load().items():
        method, path, body = example_request(event)
        load(base_url, api_key, method, path, body, clients=clients, requests=clients * WARM_UP_PER_CLIENT)
        loads[name] = load(base_url, api_key, method, path, body, clients=clients, requests=requests)
    return {"bursts": bursts, "loads": loads}


def main(argv: list[str]) -> int:
    base_url, api_key = argv[0], argv[1]
    clients = int(argv[2]) if len(argv) > 2 else 16
    requests = int(argv[3]) if len(argv) > 3 else 1600
    measured = measure(base_url, api_key, clients=clients, requests=requests)
    for concurrent, kinds in measured["bursts"].items():
        print(f"burst of {concurrent} connections: {sum(kinds.values())} errors {dict(kinds) or ''}")
    for name, result in measured["loads"].items():
        print(f"{name:<16} {clients} clients {requests} requests: {result.requests_per_s:7.1f} req/s  "
              f"p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms  errors {result.errors} "
              f"{dict(result.error_kinds) or ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
