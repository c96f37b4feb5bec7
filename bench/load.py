"""Load benchmark: the real app under concurrent clients, against the bare stack's ceiling.

For SQLite (1 worker) and PostgreSQL (2 workers), with 100, 1,000 and 10,000 couples
in the database, it starts ``reconnect serve`` and drives it over loopback from 32
concurrent keep-alive connections, one endpoint at a time and then mixed:

  check-in POST (API), today page GET, progress page GET, pace GET (API)

and, separately, sign-in (Argon2id is slow on purpose: reported, not compared).
The ceiling is a hello-world route on the same framework, server and worker count
(bench/_hello.py), measured in the same run. Each endpoint's requests/second is
shown as a share of that ceiling, with p50/p95/p99 latency, then how p95 grows
with the number of couples, then one summary line against the targets.

The couples are synthetic (bench/_seed.py): the clients act as the first 16
couples, who have weeks of history written through the app's own functions; the
rest are background couples inserted in bulk. The database grows between sizes,
so the same active couples are measured at every size; the check-ins the clients
write during a size are removed after it, so each size starts from the same history.

Run:  python bench/load.py            # whole run, about 8-10 minutes on 2 cores
      python bench/load.py --quick    # smoke run, SQLite only, under a minute
Options: --backends sqlite,postgres  --sizes 100,1000,10000  --seconds 5  --clients 32
PostgreSQL: RECONNECT_TEST_PG names a server database to create a scratch one from
(default postgresql://postgres@127.0.0.1:5432/test); it is dropped afterwards.
The load generator shares the machine's cores with the server, so absolute figures
are lower than on a separate client machine; the ratios are what compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _seed  # noqa: E402

from reconnect.database import make_engine, normalise_url, upgrade  # noqa: E402
from reconnect.models import utcnow  # noqa: E402
from reconnect.settings import Settings, load_settings  # noqa: E402

PG_ADMIN_URL = os.environ.get("RECONNECT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ENDPOINTS = ("today", "checkin", "progress", "pace")
MIX = {"today": 4, "pace": 3, "checkin": 2, "progress": 1}
TARGET_RATIO = 0.40  # today page and check-in, of the ceiling
TARGET_P99_MS = 50.0
TARGET_GROWTH = 1.30
REQUEST_TIMEOUT_S = 30.0  # a request taking longer counts as an error
CHECKIN = {
    "activation": 3,
    "state": "settled",
    "safety": 7,
    "urgency": 3,
    "readiness": 5,
    "drivers": [],
    "body_signals": [],
    "note": "a calm evening",
}


# --- a small keep-alive HTTP/1.1 client --------------------------------------------------
# httpx costs the client more CPU per request than the server's bare route does,
# and the client shares the machine: a lean client keeps the ceiling honest.


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> int:
        """Send one request; read the whole answer; return its status."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length, chunked = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def build(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Client:
    """One synthetic person: a bearer token for the API, the same token as the
    session cookie for pages (both are sign-in sessions)."""

    token: str

    def request(self, endpoint: str) -> tuple[bytes, int]:
        bearer = {"Authorization": f"Bearer {self.token}"}
        cookie = {"Cookie": f"reconnect_session={self.token}"}
        if endpoint == "today":
            return build("GET", "/today", cookie), 200
        if endpoint == "progress":
            return build("GET", "/progress", cookie), 200
        if endpoint == "pace":
            return build("GET", "/api/v1/pace", bearer), 200
        if endpoint == "checkin":
            body = json.dumps(CHECKIN).encode()
            headers = {**bearer, "Content-Type": "application/json"}
            return build("POST", "/api/v1/checkins", headers, body), 201
        if endpoint == "hello":
            return build("GET", "/hello", {}), 200
        raise ValueError(endpoint)


@dataclass
class Result:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # endpoint -> ms
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, endpoint: str, ms: float, ok: bool) -> None:
        self.latencies.setdefault(endpoint, []).append(ms)
        if not ok:
            self.errors[endpoint] = self.errors.get(endpoint, 0) + 1

    def rate(self, endpoint: str) -> float:
        return len(self.latencies.get(endpoint, [])) / self.seconds if self.seconds else 0.0

    def percentile(self, endpoint: str, share: float) -> float:
        values = sorted(self.latencies.get(endpoint, []))
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(share * len(values)))]


async def drive(
    port: int,
    clients: list[Client],
    choose: Callable[[random.Random], str],
    seconds: float,
    warmup: float,
) -> Result:
    """Each client loops on its own connection until the time is up; only requests
    started after the warm-up are counted."""
    result = Result()
    start = time.perf_counter()
    counting_from, until = start + warmup, start + warmup + seconds

    async def one(client: Client, rng: random.Random) -> None:
        connection = await Connection.open(port)
        try:
            while (began := time.perf_counter()) < until:
                endpoint = choose(rng)
                raw, expected = client.request(endpoint)
                try:
                    status = await asyncio.wait_for(connection.request(raw), REQUEST_TIMEOUT_S)
                except TimeoutError:
                    # Counted as an error; a fresh connection, as a browser would.
                    status = 0
                    connection.close()
                    connection = await Connection.open(port)
                if began >= counting_from:
                    result.add(endpoint, (time.perf_counter() - began) * 1000, status == expected)
        finally:
            connection.close()

    await asyncio.gather(*(one(c, random.Random(i)) for i, c in enumerate(clients)))
    result.seconds = seconds
    return result


def only(endpoint: str) -> Callable[[random.Random], str]:
    return lambda _rng: endpoint


def mixed(rng: random.Random) -> str:
    return rng.choices(list(MIX), weights=list(MIX.values()))[0]


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_answering(port: int, process: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        with suppress(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
            return
        time.sleep(0.1)
    raise SystemExit("the server did not start within 60 s")


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, path: str) -> Iterator[None]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, env=env, stdout=subprocess.DEVNULL, stderr=None, start_new_session=True
    )
    try:
        wait_until_answering(port, process, path)
        yield
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def app_server(settings: Settings, workers: int, port: int) -> AbstractContextManager[None]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONNECT_")}
    env.update(
        RECONNECT_DATA_DIR=str(settings.data_dir),
        RECONNECT_DATABASE_URL=settings.database_url,
        RECONNECT_PASSWORD_HASH_MEMORY_KIB=str(settings.password_hash_memory_kib),
        RECONNECT_LOGIN_ATTEMPTS_PER_ADDRESS="1000000",
        RECONNECT_DB_POOL_SIZE="10",
    )
    command = [sys.executable, "-m", "reconnect.cli", "serve"]
    command += ["--port", str(port), "--workers", str(workers)]
    return server(command, env, port, "/api/v1/me")


def hello_server(workers: int, port: int) -> AbstractContextManager[None]:
    command = [sys.executable, "-m", "uvicorn", "_hello:app", "--app-dir", str(HERE)]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    return server(command, dict(os.environ), port, "/hello")


@contextmanager
def scratch_postgres() -> Iterator[str]:
    name = f"reconnect_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- one backend -----------------------------------------------------------------------------


@dataclass
class Config:
    sizes: list[int]
    seconds: float
    warmup: float
    clients: int
    active: int  # couples the clients act as
    history_days: int
    logins: int
    hash_kib: int
    settle: float = 3.0  # seconds of mixed load after each start, not counted


@dataclass
class Run:
    backend: str
    workers: int
    ceilings: dict[int, float] = field(default_factory=dict)  # by size, measured just before
    by_size: dict[int, dict[str, Result]] = field(default_factory=dict)
    login: Result | None = None


def sign_in(port: int, names: list[str]) -> list[Client]:
    clients = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        for name in names:
            answer = http.post(
                "/api/v1/auth/login", json={"username": name, "password": _seed.PASSWORD}
            )
            answer.raise_for_status()
            clients.append(Client(answer.json()["token"]))
    return clients


async def time_logins(port: int, names: list[str], count: int, concurrency: int) -> Result:
    """Sign-ins, ``concurrency`` at a time, each timed on its own."""
    result = Result()
    queue = [names[i % len(names)] for i in range(count)]
    started = time.perf_counter()
    body = {"username": "", "password": _seed.PASSWORD}

    async def one() -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            while queue:
                body["username"] = queue.pop()
                began = time.perf_counter()
                answer = await http.post("/api/v1/auth/login", json=dict(body))
                result.add("login", (time.perf_counter() - began) * 1000, answer.is_success)

    await asyncio.gather(*(one() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


def measure_backend(backend: str, workers: int, database_url: str, config: Config) -> Run:
    run = Run(backend, workers)
    data_dir = Path(tempfile.mkdtemp(prefix=f"reconnect-bench-{backend}-"))
    try:
        settings = load_settings(
            data_dir=data_dir,
            database_url=database_url or None,
            password_hash_memory_kib=config.hash_kib,
        )
        engine = make_engine(settings.database_url)
        upgrade(engine)
        now = utcnow()
        seeded = 0
        clients: list[Client] = []
        names = [_seed.username(i, p) for i in range(config.active) for p in (0, 1)]
        for size in config.sizes:
            began = time.perf_counter()
            _seed.add_couples(engine, settings, first=seeded, count=size - seeded, now=now)
            if seeded == 0:
                _seed.add_history(
                    engine, settings, couples=config.active, days=config.history_days, now=now
                )
            seeded = size
            if engine.dialect.name == "postgresql":
                with engine.connect() as connection:
                    connection.exec_driver_sql("ANALYZE")
            print(f"  {backend}: {size} couples seeded in {time.perf_counter() - began:.0f} s")
            # The ceiling just before the app's phases: the machine's load drifts.
            port = free_port()
            with hello_server(workers, port):
                hello = asyncio.run(
                    drive(port, [Client("")] * config.clients, only("hello"), config.seconds, 1.0)
                )
            run.ceilings[size] = hello.rate("hello")
            port = free_port()
            with app_server(settings, workers, port):
                if not clients:
                    clients = sign_in(port, names)
                    run.login = asyncio.run(time_logins(port, names, config.logins, 2))
                clients_now = [clients[i % len(clients)] for i in range(config.clients)]
                marks = _seed.high_water(engine)
                # Settle: every worker past its start-up work, pools and templates warm.
                asyncio.run(drive(port, clients_now, mixed, config.settle, 0.0))
                results = {}
                for endpoint in (*ENDPOINTS, "mixed"):
                    choose = mixed if endpoint == "mixed" else only(endpoint)
                    results[endpoint] = asyncio.run(
                        drive(port, clients_now, choose, config.seconds, config.warmup)
                    )
                run.by_size[size] = results
            # The clients' own check-ins go, so every size starts from the same history.
            _seed.remove_written_since(engine, marks)
            print(f"  {backend}: {size} couples measured", flush=True)
        engine.dispose()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return run


# --- the report -------------------------------------------------------------------------------


def report(runs: list[Run], config: Config) -> bool:
    print()
    print(
        f"Load: {config.clients} concurrent clients on loopback, {config.seconds:g} s per "
        "endpoint after warm-up; ratio = req/s over the hello-world ceiling measured "
        "just before."
    )
    header = (
        f"{'backend':<10}{'couples':>8}  {'endpoint':<10}{'req/s':>8}{'ratio':>7}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'errors':>8}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        label = f"{run.backend}/{run.workers}w"
        for size, results in run.by_size.items():
            ceiling = run.ceilings[size]
            print(f"{label:<10}{size:>8}  {'hello':<10}{ceiling:>8.0f}{1:>7.0%}")
            for endpoint in ENDPOINTS:
                r = results[endpoint]
                print(
                    f"{label:<10}{size:>8}  {endpoint:<10}{r.rate(endpoint):>8.0f}"
                    f"{r.rate(endpoint) / ceiling:>7.0%}{r.percentile(endpoint, 0.5):>8.1f}"
                    f"{r.percentile(endpoint, 0.95):>8.1f}{r.percentile(endpoint, 0.99):>8.1f}"
                    f"{r.errors.get(endpoint, 0):>8}"
                )
            mix = results["mixed"]
            total = sum(mix.rate(e) for e in ENDPOINTS)
            every = [ms for e in ENDPOINTS for ms in mix.latencies.get(e, [])]
            merged = Result({"all": every}, seconds=mix.seconds)
            print(
                f"{label:<10}{size:>8}  {'mixed':<10}{total:>8.0f}{total / ceiling:>7.0%}"
                f"{merged.percentile('all', 0.5):>8.1f}{merged.percentile('all', 0.95):>8.1f}"
                f"{merged.percentile('all', 0.99):>8.1f}{sum(mix.errors.values()):>8}"
            )
        if run.login:
            r = run.login
            print(
                f"{label:<10}{'':>8}  {'login*':<10}{r.rate('login'):>8.1f}{'':>7}"
                f"{r.percentile('login', 0.5):>8.0f}{r.percentile('login', 0.95):>8.0f}"
                f"{r.percentile('login', 0.99):>8.0f}{r.errors.get('login', 0):>8}"
            )
    print(
        f"* login: Argon2id ({config.hash_kib} KiB) twice per sign-in, 2 at a time, "
        f"{config.logins} sign-ins; slow on purpose, outside the ratios."
    )

    print()
    print("p95 (ms) by couples in the database, and its growth from the fewest to the most:")
    verdicts = []
    for run in runs:
        label = f"{run.backend}/{run.workers}w"
        sizes = list(run.by_size)
        print(f"{label:<10}" + "".join(f"{s:>9}" for s in sizes) + f"{'growth':>9}")
        growths = []
        for endpoint in ENDPOINTS:
            p95 = [run.by_size[s][endpoint].percentile(endpoint, 0.95) for s in sizes]
            growth = p95[-1] / p95[0] if p95[0] else float("nan")
            growths.append(growth)
            print(f"  {endpoint:<8}" + "".join(f"{v:>9.1f}" for v in p95) + f"{growth:>8.2f}x")
        last = run.by_size[sizes[-1]]
        ceiling = run.ceilings[sizes[-1]]
        today = last["today"].rate("today") / ceiling
        checkin = last["checkin"].rate("checkin") / ceiling
        p99 = max(last[e].percentile(e, 0.99) for e in ENDPOINTS)
        worst = max(growths)
        verdicts.append(
            (
                label,
                today >= TARGET_RATIO and checkin >= TARGET_RATIO,
                p99 <= TARGET_P99_MS,
                worst <= TARGET_GROWTH,
                f"{label}: today {today:.0%} & check-in {checkin:.0%} of ceiling "
                f"(>= {TARGET_RATIO:.0%}), p99 max {p99:.0f} ms (<= {TARGET_P99_MS:.0f}), "
                f"p95 growth {sizes[0]}->{sizes[-1]} max {worst:.2f}x (<= {TARGET_GROWTH}x)",
            )
        )
    print()
    passed = all(all(v[1:4]) for v in verdicts)
    parts = []
    for _label, ratio_ok, p99_ok, growth_ok, text in verdicts:
        marks = "/".join("PASS" if ok else "FAIL" for ok in (ratio_ok, p99_ok, growth_ok))
        parts.append(f"{text} [{marks}]")
    print("SUMMARY " + "; ".join(parts) + f" => {'PASS' if passed else 'FAIL'}")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: SQLite, small, short")
    parser.add_argument("--backends", default="", help="sqlite,postgres (default: both)")
    parser.add_argument("--sizes", default="", help="couples in the database, ascending")
    parser.add_argument("--seconds", type=float, default=0.0, help="measured seconds per phase")
    parser.add_argument("--clients", type=int, default=0, help="concurrent connections")
    args = parser.parse_args()
    if args.quick:
        config = Config(
            sizes=[50, 200],
            seconds=1.5,
            warmup=0.5,
            clients=8,
            active=2,
            history_days=7,
            logins=4,
            hash_kib=1024,
            settle=1.0,
        )
        backends = ["sqlite"]
    else:
        config = Config(
            sizes=[100, 1000, 10000],
            seconds=5.0,
            warmup=1.0,
            clients=32,
            active=16,
            history_days=28,
            logins=12,
            hash_kib=64 * 1024,  # the app's default
        )
        backends = ["sqlite", "postgres"]
    if args.backends:
        backends = args.backends.split(",")
    if args.sizes:
        config.sizes = [int(s) for s in args.sizes.split(",")]
    config.seconds = args.seconds or config.seconds
    config.clients = args.clients or config.clients
    runs = []
    started = time.perf_counter()
    for backend in backends:
        print(f"== {backend}", flush=True)
        if backend == "sqlite":
            runs.append(measure_backend("sqlite", 1, "", config))
        else:
            with scratch_postgres() as url:
                runs.append(measure_backend("postgres", 2, normalise_url(url), config))
    report(runs, config)
    print(f"(whole run {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
