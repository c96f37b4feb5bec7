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
Options: --backends sqlite,postgres  --sizes 100,1000,10000  --seconds 6  --clients 32
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
from contextlib import AbstractContextManager, ExitStack, closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _seed  # noqa: E402

from reconnect.database import make_engine, normalise_url, sqlite_module, upgrade  # noqa: E402
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
    into: Result | None = None,
) -> Result:
    """Each client loops on its own connection until the time is up; only requests
    started after the warm-up are counted (added to ``into`` when given)."""
    result = into if into is not None else Result()
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
    result.seconds += seconds
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
def server(
    command: list[str], env: dict[str, str], port: int, path: str
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, env=env, stdout=subprocess.DEVNULL, stderr=None, start_new_session=True
    )
    try:
        wait_until_answering(port, process, path)
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def app_server(
    settings: Settings, workers: int, port: int
) -> AbstractContextManager[subprocess.Popen[bytes]]:
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


def hello_server(workers: int, port: int) -> AbstractContextManager[subprocess.Popen[bytes]]:
    command = [sys.executable, str(HERE / "_hello.py"), str(port), str(workers)]
    return server(command, dict(os.environ), port, "/hello")


def _cpu_seconds(root: int) -> float:
    """CPU time used so far by a process and all its descendants (Linux /proc)."""
    total, pending = 0.0, [root]
    while pending:
        pid = pending.pop()
        with suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
    return total


def wait_until_idle(processes: list[subprocess.Popen[bytes]], limit_s: float = 90.0) -> None:
    """Wait until the servers have finished their start-up work (workers import, load
    the message coach's model...): under 5% of a core over half a second."""
    deadline = time.monotonic() + limit_s
    before = sum(_cpu_seconds(p.pid) for p in processes)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        after = sum(_cpu_seconds(p.pid) for p in processes)
        if after - before < 0.025:
            return
        before = after


@contextmanager
def scratch_postgres(template: str = "") -> Iterator[str]:
    """A new PostgreSQL database (a copy of ``template`` when given), dropped after."""
    name = f"reconnect_bench_{uuid.uuid4().hex[:8]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{copy}')
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
    rounds: int = 3  # each phase is split over this many interleaved rounds


@dataclass
class Run:
    backend: str
    workers: int
    hello: Result = field(default_factory=Result)
    by_size: dict[int, dict[str, Result]] = field(default_factory=dict)
    login: Result | None = None

    @property
    def ceiling(self) -> float:
        return self.hello.rate("hello")


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


@dataclass
class Database:
    settings: Settings
    cleanup: Callable[[], None]


def sqlite_copy(base: Settings, size: int, config: Config) -> Database:
    folder = Path(tempfile.mkdtemp(prefix=f"reconnect-bench-{size}-"))
    shutil.copyfile(base.data_dir / "reconnect.db", folder / "reconnect.db")
    settings = load_settings(data_dir=folder, password_hash_memory_kib=config.hash_kib)
    return Database(settings, lambda: shutil.rmtree(folder, ignore_errors=True))


def postgres_copy(base: Settings, size: int, config: Config) -> Database:
    scratch = scratch_postgres(template=base.database_url.rsplit("/", 1)[1])
    url = scratch.__enter__()
    folder = Path(tempfile.mkdtemp(prefix=f"reconnect-bench-{size}-"))
    settings = load_settings(
        data_dir=folder, database_url=normalise_url(url), password_hash_memory_kib=config.hash_kib
    )

    def cleanup() -> None:
        scratch.__exit__(None, None, None)
        shutil.rmtree(folder, ignore_errors=True)

    return Database(settings, cleanup)


def measure_backend(backend: str, workers: int, base: Settings, config: Config) -> Run:
    """One database per size, all measured in interleaved rounds: the machine's load
    drifts, and each size (and the ceiling) gets its share of every moment."""
    run = Run(backend, workers)
    now = utcnow()
    names = [_seed.username(i, p) for i in range(config.active) for p in (0, 1)]
    began = time.perf_counter()
    # The active couples and their history, once; every size starts from a copy.
    engine = make_engine(base.database_url)
    upgrade(engine)
    _seed.add_couples(engine, base, first=0, count=config.active, now=now)
    _seed.add_history(engine, base, couples=config.active, days=config.history_days, now=now)
    engine.dispose()
    port = free_port()
    with app_server(base, workers, port):
        # Sessions are rows: made here, they are valid in every copy.
        clients = sign_in(port, names)
        run.login = asyncio.run(time_logins(port, names, config.logins, 2))
    if backend == "sqlite":
        with closing(sqlite_module().connect(base.data_dir / "reconnect.db")) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"  {backend}: active couples ready in {time.perf_counter() - began:.0f} s", flush=True)
    copy = sqlite_copy if backend == "sqlite" else postgres_copy
    databases: dict[int, Database] = {}
    try:
        for size in config.sizes:
            began = time.perf_counter()
            databases[size] = copy(base, size, config)
            engine = make_engine(databases[size].settings.database_url)
            _seed.add_couples(
                engine, base, first=config.active, count=size - config.active, now=now
            )
            if engine.dialect.name == "postgresql":
                with engine.connect() as connection:
                    connection.exec_driver_sql("ANALYZE")
            engine.dispose()
            print(f"  {backend}: {size} couples in {time.perf_counter() - began:.0f} s", flush=True)
        _measure(run, databases, clients, workers, config)
    finally:
        for database in databases.values():
            database.cleanup()
    return run


def _measure(
    run: Run, databases: dict[int, Database], clients: list[Client], workers: int, config: Config
) -> None:
    with ExitStack() as servers:
        ports = {}
        processes = []
        for size, database in databases.items():
            ports[size] = free_port()
            processes.append(
                servers.enter_context(app_server(database.settings, workers, ports[size]))
            )
        hello_port = free_port()
        processes.append(servers.enter_context(hello_server(workers, hello_port)))
        load = [clients[i % len(clients)] for i in range(config.clients)]
        bare = [Client("")] * config.clients
        wait_until_idle(processes)
        for port in ports.values():
            # Settle: pools, caches and templates warm in every worker.
            asyncio.run(drive(port, load, mixed, config.settle, 0.0))
        asyncio.run(drive(hello_port, bare, only("hello"), config.settle, 0.0))
        run.by_size = {size: {} for size in databases}
        chunk = config.seconds / config.rounds
        for round_ in range(config.rounds):
            sizes = list(databases) if round_ % 2 == 0 else list(reversed(databases))
            asyncio.run(drive(hello_port, bare, only("hello"), chunk, config.warmup, run.hello))
            for endpoint in (*ENDPOINTS, "mixed"):
                choose = mixed if endpoint == "mixed" else only(endpoint)
                for size in sizes:
                    into = run.by_size[size].setdefault(endpoint, Result())
                    asyncio.run(drive(ports[size], load, choose, chunk, config.warmup, into))
            print(f"  {run.backend}: round {round_ + 1} of {config.rounds} measured", flush=True)


# --- the report -------------------------------------------------------------------------------


def report(runs: list[Run], config: Config) -> bool:
    print()
    print(
        f"Load: {config.clients} concurrent clients on loopback, {config.seconds:g} s per "
        f"endpoint after warm-up, in {config.rounds} interleaved rounds; ratio = req/s over "
        "the hello-world ceiling."
    )
    header = (
        f"{'backend':<10}{'couples':>8}  {'endpoint':<10}{'req/s':>8}{'ratio':>7}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'errors':>8}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        label = f"{run.backend}/{run.workers}w"
        ceiling = run.ceiling
        print(f"{label:<10}{'':>8}  {'hello':<10}{ceiling:>8.0f}{1:>7.0%}")
        for size, results in run.by_size.items():
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
        today = last["today"].rate("today") / run.ceiling
        checkin = last["checkin"].rate("checkin") / run.ceiling
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
            warmup=0.3,
            clients=8,
            active=2,
            history_days=7,
            logins=4,
            hash_kib=1024,
            settle=1.0,
            rounds=2,
        )
        backends = ["sqlite"]
    else:
        config = Config(
            sizes=[100, 1000, 10000],
            seconds=6.0,
            warmup=0.5,
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
            folder = Path(tempfile.mkdtemp(prefix="reconnect-bench-base-"))
            try:
                base = load_settings(data_dir=folder, password_hash_memory_kib=config.hash_kib)
                runs.append(measure_backend("sqlite", 1, base, config))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        else:
            folder = Path(tempfile.mkdtemp(prefix="reconnect-bench-base-"))
            try:
                with scratch_postgres() as url:
                    base = load_settings(
                        data_dir=folder,
                        database_url=normalise_url(url),
                        password_hash_memory_kib=config.hash_kib,
                    )
                    runs.append(measure_backend("postgres", 2, base, config))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    report(runs, config)
    print(f"(whole run {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
