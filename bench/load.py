"""Load benchmark: the real app under load, against the bare stack's ceiling.

For SQLite (1 worker) and PostgreSQL (2 workers), with 100, 1,000 and 10,000 couples
in the database, it starts ``reconnect serve`` (one server per size, side by side)
and measures over loopback:

1. Closed loop, 32 connections (``--clients``), each a different signed-in person,
   one endpoint at a time and then mixed (today 4 : pace 3 : check-in 2 : progress 1):
   check-in POST (API), today page GET, progress page GET, pace GET (API). The load
   generator is wrk (Debian's package; installed with apt-get when missing), with
   bench/wrk/load.lua: one connection per wrk thread, so each connection carries its
   own person's token (bearer for the API, the same token as the session cookie for
   pages), and a ``done()`` that prints the counts, the percentiles and the latency
   histogram as one JSON line. An answer outside 2xx counts as an error. The ceiling
   is a hello-world route on the same framework, server, worker count and worker
   threads (bench/_hello.py), driven the same way in the same run; every throughput is a
   share of it. Phases are split into interleaved rounds: the machine's load drifts,
   and each size (and the ceiling) gets its share of every moment.
   Beside the ceiling, the floor: the same bare server with the least a signed-in
   request can do, one indexed read of the session by its token's hash, and that read
   with a one-row write committed, each run where the app runs its quick reads and
   writes (on SQLite on the event loop, on PostgreSQL in the thread pool). They are
   not targets. They show how much of the gap to a target is the app's own work and
   how much the stack's: a page that reads anything cannot beat the one read.
2. Open loop, at the largest size: requests arrive at a fixed rate, half the mixed
   workload's closed-loop capacity, and latency counts from each request's scheduled
   send time, so a stall counts against every request due during it (no coordinated
   omission). Debian's wrk 4.1 is closed-loop: its Lua ``delay()`` only postpones a
   connection's next request after the answer, so a slow server is sent fewer
   requests and each is timed from its late start (wrk2 is not packaged). A small
   asyncio client does this phase instead, over raw keep-alive sockets (64
   connections, each a signed-in person; each free connection takes the next
   scheduled slot, sleeps until it is due, sends). At half capacity it is light, and
   its own delays are counted against the server, never hidden.
3. CPU milliseconds per request of each hot endpoint alone, at the largest size: one
   client, N sequential requests, the server's processes' CPU time (/proc, children
   included, after waiting until no refresh of findings is left waiting and they are
   idle, so work handed to a background thread or the job worker counts, and work
   left by the phase before does not) divided by N. On PostgreSQL the database's own
   backends are shown beside it. Endpoints: today page, check-in form, pace API, notes
   page, progress page, check-in POST, note POST; and, for scale, hello and the floor.
4. Another couple's check-in while one partner writes 600 notes: the median latency
   of couple B's check-in POSTs (one client, sequential) while the server is idle,
   then while couple A's partner sends 600 notes (note API), one after another as
   fast as the app answers (wrk, one connection). The per-person note limit is
   raised for the whole run (RECONNECT_NOTES_PER_HOUR), so the notes are written
   rather than refused.

Sign-in (Argon2id, slow on purpose) is timed separately and kept out of the ratios.
The summary line checks, per backend, at the largest size: today page >= 40 % of the
ceiling, pace API >= 50 %, check-in POST >= 25 %; p99 at 32 clients <= 50 ms for today
and pace, <= 100 ms for check-in; open-loop p99 <= 25 ms; p95 growth from the fewest
to the most couples <= 1.2x; B's check-ins during A's notes within 1.2x of idle; and
no errors in any phase (a fast error is no figure). The heart-rate import's peak
memory has its own benchmark, bench/heartrate.py. Exit status 1 only if a backend
could not be measured at all; FAIL is a finding, not a crash.

The couples are synthetic (bench/_seed.py): the clients act as the first 16 couples,
who have weeks of history written through the app's own functions and a few notes;
the rest are background couples inserted in bulk. Every size starts from a copy of
the same active couples. The check-ins written during the run stay in the database;
the rounds give every size the same writes, so sizes compare like with like.

Run:  python bench/load.py            # whole run, ~12 min on 2 quiet cores, 20+ shared
      python bench/load.py --quick    # smoke run, SQLite only, small, under 2 minutes
Options: --backends sqlite,postgres  --sizes 100,1000,10000  --seconds 6  --clients 32
(--seconds: measured seconds per endpoint and size, whole seconds per round.)
PostgreSQL: RECONNECT_TEST_PG names a server database to create a scratch one from
(default postgresql://postgres@127.0.0.1:5432/test); it is dropped afterwards.
wrk is far lighter than the server it drives, but it still shares the machine's
cores: absolute figures are lower than with a separate client machine; the ratios,
measured in the same run on the same machine, are what compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import func, select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _hello  # noqa: E402
import _seed  # noqa: E402

from reconnect.database import make_engine, normalise_url, sqlite_module, upgrade  # noqa: E402
from reconnect.models import RefreshRequest, utcnow  # noqa: E402
from reconnect.settings import Settings, load_settings  # noqa: E402

PG_ADMIN_URL = os.environ.get("RECONNECT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
WRK_SCRIPT = HERE / "wrk" / "load.lua"
WRK_TIMEOUT_S = 10  # an answer slower than this counts as an error (wrk's --timeout)
REQUEST_TIMEOUT_S = 10.0  # the same for our own client
START_LIMIT_S = 300
POOL_SIZE = 10  # PostgreSQL connections each web process keeps, the app's and the floor's

ENDPOINTS = ("today", "checkin", "progress", "pace")  # closed loop, one at a time
MIX = {"today": 4, "pace": 3, "checkin": 2, "progress": 1}
CPU_ENDPOINTS = ("today", "checkin_form", "pace", "notes", "progress", "checkin", "note")
BARE = ("hello", "floor_read", "floor_write")  # on the bare stack, bench/_hello.py
FLOOR_NAMES = {"floor_read": "one read", "floor_write": "read+write"}
OPEN_LOOP_CONNECTIONS = 64
# Couple A's partner sending notes: one person, one phone, each note as soon as the
# last is answered. More connections would measure a saturated server, not a neighbour.
BURST_CONNECTIONS = 1
NOTES_PER_PERSON = 3  # seeded, so the notes page lists some

TARGET_TODAY_SHARE = 0.40
TARGET_PACE_SHARE = 0.50
TARGET_CHECKIN_SHARE = 0.25
TARGET_P99_READ_MS = 50.0  # today page and pace, at 32 clients
TARGET_P99_CHECKIN_MS = 100.0
TARGET_OPEN_P99_MS = 25.0
TARGET_GROWTH = 1.20
TARGET_NEIGHBOUR = 1.20

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
NOTE = {"text": "Thank you for listening tonight; I felt closer to you."}


@dataclass(frozen=True)
class Shape:
    """One kind of request. ``auth``: "bearer" (the API), "cookie" (a page: the same
    token is the session cookie, as after signing in) or "none"."""

    method: str
    path: str
    auth: str
    body: str = ""
    expected: int = 200


SHAPES = {
    "hello": Shape("GET", "/hello", "none"),
    # The floor under a signed-in request, beside hello (bench/_hello.py).
    "floor_read": Shape("GET", "/floor/read", "bearer"),
    "floor_write": Shape("POST", "/floor/write", "bearer"),
    "today": Shape("GET", "/today", "cookie"),
    "checkin_form": Shape("GET", "/checkin", "cookie"),
    "pace": Shape("GET", "/api/v1/pace", "bearer"),
    "notes": Shape("GET", "/notes", "cookie"),
    "progress": Shape("GET", "/progress", "cookie"),
    "checkin": Shape("POST", "/api/v1/checkins", "bearer", json.dumps(CHECKIN), 201),
    "note": Shape("POST", "/api/v1/notes", "bearer", json.dumps(NOTE), 201),
}


def plain_headers(shape: Shape) -> dict[str, str]:
    return {"Content-Type": "application/json"} if shape.body else {}


def headers_for(shape: Shape, token: str) -> dict[str, str]:
    headers = plain_headers(shape)
    if shape.auth == "bearer":
        headers["Authorization"] = f"Bearer {token}"
    elif shape.auth == "cookie":
        headers["Cookie"] = f"reconnect_session={token}"
    return headers


# --- what was measured ----------------------------------------------------------------------


@dataclass
class Sample:
    """Answers and their latencies, as a histogram in microseconds; runs merge exactly."""

    histogram: Counter[int] = field(default_factory=Counter)
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0

    def record(self, microseconds: int, ok: bool) -> None:
        self.histogram[microseconds] += 1
        self.requests += 1
        self.errors += not ok

    def merge(self, other: Sample) -> None:
        self.histogram.update(other.histogram)
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def ms(self, share: float) -> float:
        """The ``share`` percentile (nearest rank), in milliseconds."""
        total = sum(self.histogram.values())
        if not total:
            return float("nan")
        rank, seen = max(1, math.ceil(share * total)), 0
        for microseconds in sorted(self.histogram):
            seen += self.histogram[microseconds]
            if seen >= rank:
                return microseconds / 1000
        return max(self.histogram) / 1000


# --- wrk: the closed-loop load --------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed: installing it (apt-get install -y wrk)", flush=True)
    install = ["apt-get", "install", "-y", "wrk"]
    if subprocess.run(install, stdout=subprocess.DEVNULL, check=False).returncode != 0:  # noqa: S603
        print("  apt-get install failed; apt-get update, then again", flush=True)
        subprocess.run(["apt-get", "update"], stdout=subprocess.DEVNULL, check=False)  # noqa: S607
        subprocess.run(install, stdout=subprocess.DEVNULL, check=False)  # noqa: S603
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("bench/load.py needs wrk: apt-get install wrk (as root)")
    return found


def lua_string(text: str) -> str:
    if not text.isascii():
        raise ValueError("the plans hold ASCII only")
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def write_plan(path: Path, tokens: list[str], weights: dict[str, int], quota: int = 0) -> Path:
    """The Lua chunk bench/wrk/load.lua reads: who the connections are, what they send."""
    lines = ["return {", "  people = {"]
    lines += [f"    {lua_string(token)}," for token in tokens]
    lines += ["  },", f"  quota = {quota},", "  requests = {"]
    for endpoint, weight in weights.items():
        shape = SHAPES[endpoint]
        body = lua_string(shape.body) if shape.body else "nil"
        listed = ", ".join(
            f"[{lua_string(k)}] = {lua_string(v)}" for k, v in plain_headers(shape).items()
        )
        lines.append(
            f"    {{weight = {weight}, method = {lua_string(shape.method)}, "
            f"path = {lua_string(shape.path)}, auth = {lua_string(shape.auth)}, "
            f"headers = {{{listed}}}, body = {body}}},"
        )
    lines += ["  },", "}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk_command(port: int, plan: Path, connections: int, seconds: int) -> list[str]:
    # One connection per thread: a thread's Lua state is the only per-connection state.
    return [
        *(ensure_wrk(), "-t", str(connections), "-c", str(connections)),
        *("-d", f"{seconds}s", "--timeout", f"{WRK_TIMEOUT_S}s"),
        *("-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}", "--", str(plan)),
    ]


def parse_wrk(stdout: str, stderr: str) -> Sample:
    for line in stdout.splitlines():
        if line.startswith("WRK-JSON "):
            found = json.loads(line.removeprefix("WRK-JSON "))
            return Sample(
                Counter({int(us): int(n) for us, n in found["histogram"]}),
                requests=found["requests"],
                errors=found["errors"],
                seconds=found["seconds"],
            )
    raise SystemExit(f"wrk printed no result:\n{stdout}\n{stderr}")


def run_wrk(port: int, plan: Path, connections: int, seconds: int) -> Sample:
    """wrk for ``seconds`` (whole seconds), ``connections`` people at once."""
    done = subprocess.run(  # noqa: S603 - wrk, with our own arguments
        wrk_command(port, plan, connections, seconds),
        capture_output=True,
        text=True,
        timeout=seconds + WRK_TIMEOUT_S + 60,
        check=False,
    )
    return parse_wrk(done.stdout, done.stderr)


# --- our own small client (open loop, one at a time) ----------------------------------------
# For the phases wrk cannot do. A lean keep-alive HTTP/1.1 client: httpx costs more
# CPU per request than the server's bare route does, on the same two cores.


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

    async def timed(
        self, raw: bytes, port: int, limit_s: float = REQUEST_TIMEOUT_S
    ) -> tuple[int, Connection]:
        """``request``, or status 0 after ``limit_s`` (or a broken connection) and a
        fresh connection."""
        try:
            return await asyncio.wait_for(self.request(raw), limit_s), self
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            self.close()
            return 0, await Connection.open(port)

    def close(self) -> None:
        self.writer.close()


def raw_request(endpoint: str, token: str) -> bytes:
    shape = SHAPES[endpoint]
    body = shape.body.encode()
    lines = [f"{shape.method} {shape.path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers_for(shape, token).items()]
    if body or shape.method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def open_loop(
    port: int, tokens: list[str], rate: float, seconds: float, warmup: float
) -> Sample:
    """Requests of the mix due at a fixed ``rate``; each timed from when it was due.

    Each free connection takes the next slot, sleeps until it is due and sends; when
    every connection is busy, the waiting slots' latency already runs."""
    rng = random.Random(17)
    total = int(rate * (warmup + seconds))
    chosen = rng.choices(list(MIX), weights=list(MIX.values()), k=total)
    sample = Sample()
    slots = iter(range(total))
    start = time.perf_counter() + 0.5  # every connection open by then
    counted_from = start + warmup
    last_answer = counted_from

    async def connection(index: int) -> None:
        nonlocal last_answer
        token = tokens[index % len(tokens)]
        link = await Connection.open(port)
        try:
            for slot in slots:
                due = start + slot / rate
                if (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                endpoint = chosen[slot]
                status, link = await link.timed(raw_request(endpoint, token), port)
                answered = time.perf_counter()
                if due >= counted_from:
                    sample.record(int((answered - due) * 1e6), status == SHAPES[endpoint].expected)
                    last_answer = max(last_answer, answered)
        finally:
            link.close()

    await asyncio.gather(*(connection(i) for i in range(OPEN_LOOP_CONNECTIONS)))
    # Answered per second: over the time the answers took, if longer than the plan.
    sample.seconds = max(seconds, last_answer - counted_from)
    return sample


async def one_by_one(port: int, token: str, endpoint: str, count: int) -> Sample:
    """``count`` requests in a row on one connection, each timed."""
    sample = Sample()
    link = await Connection.open(port)
    raw = raw_request(endpoint, token)
    began = time.perf_counter()
    try:
        for _ in range(count):
            sent = time.perf_counter()
            status, link = await link.timed(raw, port)
            sample.record(
                int((time.perf_counter() - sent) * 1e6), status == SHAPES[endpoint].expected
            )
    finally:
        link.close()
    sample.seconds = time.perf_counter() - began
    return sample


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_answering(port: int, process: subprocess.Popen[bytes], path: str) -> None:
    # Generous: workers import the whole app while the servers started before them
    # still load theirs, on two cores other people use too.
    deadline = time.monotonic() + START_LIMIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        with suppress(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
            return
        time.sleep(0.1)
    raise SystemExit(f"the server did not start within {START_LIMIT_S} s")


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
        RECONNECT_DB_POOL_SIZE=str(POOL_SIZE),
        # Couple A's partner writes hundreds of notes on purpose (phase 4); the limit
        # is still checked and recorded on every note, only never reached. Their notes
        # are still spaced (ratelimit.WriteSpacing): phase 4 measures what that spares
        # the others.
        RECONNECT_NOTES_PER_HOUR="1000000",
    )
    command = [sys.executable, "-m", "reconnect.cli", "serve"]
    command += ["--port", str(port), "--workers", str(workers)]
    return server(command, env, port, "/api/v1/me")


def hello_server(
    workers: int, port: int, threads: int, floor_db: str
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    command = [sys.executable, str(HERE / "_hello.py"), str(port), str(workers), str(threads)]
    env = {**os.environ, "HELLO_FLOOR_DB": floor_db, "HELLO_FLOOR_POOL": str(POOL_SIZE)}
    return server(command, env, port, "/hello")


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
    """Wait until the servers have finished their work in hand (start-up, or anything
    a request left to a background thread): under 5% of a core over half a second."""
    deadline = time.monotonic() + limit_s
    before = sum(_cpu_seconds(p.pid) for p in processes)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        after = sum(_cpu_seconds(p.pid) for p in processes)
        if after - before < 0.025:
            return
        before = after


def wait_until_done(
    process: subprocess.Popen[bytes], database_url: str, limit_s: float = 60.0
) -> None:
    """Wait until the app has done the work it owes: no refresh of findings left
    waiting, then its processes idle. A quiet moment alone does not show the first: a
    person's refresh is held back a few seconds after their last one (jobs.GAP_S), and
    would otherwise run during the next phase and be counted against it."""
    deadline = time.monotonic() + limit_s
    if database_url:
        engine = make_engine(database_url)
        waiting = select(func.count()).select_from(RefreshRequest)
        try:
            while time.monotonic() < deadline:
                with engine.connect() as connection:
                    if not connection.scalar(waiting):
                        break
                time.sleep(0.2)
        finally:
            engine.dispose()
    wait_until_idle([process], limit_s=max(1.0, deadline - time.monotonic()))


def _backend_pids(database_url: str) -> list[int]:
    """The PostgreSQL server processes serving this database, if they run here."""
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))
        return [int(row[0]) for row in rows]


def _database_cpu_seconds(database_url: str) -> float | None:
    if not database_url.startswith("postgresql"):
        return None
    pids = _backend_pids(database_url)
    if not all(Path(f"/proc/{pid}/stat").exists() for pid in pids):
        return None  # the database runs elsewhere
    return sum(_cpu_seconds(pid) for pid in pids)


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
    seconds: int  # measured per endpoint and size, over all rounds
    clients: int
    active: int  # couples the clients act as
    history_days: int
    logins: int
    hash_kib: int
    cpu_requests: int  # per endpoint, phase 3
    burst_notes: int  # couple A's partner's notes, phase 4
    neighbour_checkins: int  # couple B's check-ins while idle, phase 4
    settle: int = 3  # seconds of mixed load after each start, not counted
    rounds: int = 3  # each phase is split over this many interleaved rounds
    open_seconds: float = 12.0
    open_warmup: float = 1.0

    @property
    def chunk(self) -> int:
        return max(1, round(self.seconds / self.rounds))


@dataclass
class Cpu:
    app_ms: float
    database_ms: float | None
    p50_ms: float
    errors: int


@dataclass
class Neighbour:
    idle: Sample
    busy: Sample
    notes: Sample

    @property
    def ratio(self) -> float:
        return self.busy.ms(0.5) / self.idle.ms(0.5)


@dataclass
class Run:
    backend: str
    workers: int
    hello: Sample = field(default_factory=Sample)
    floor: dict[str, Sample] = field(default_factory=dict)  # floor_read, floor_write
    by_size: dict[int, dict[str, Sample]] = field(default_factory=dict)
    login: Sample | None = None
    open_rate: float = 0.0
    open_loop: Sample | None = None
    cpu: dict[str, Cpu] = field(default_factory=dict)
    neighbour: Neighbour | None = None

    @property
    def label(self) -> str:
        return f"{self.backend}/{self.workers}w"

    @property
    def ceiling(self) -> float:
        return self.hello.rate

    @property
    def largest(self) -> dict[str, Sample]:
        return self.by_size[max(self.by_size)]


def sign_in(port: int, names: list[str]) -> list[str]:
    """Each person's session token; each also sends a few notes to their partner."""
    tokens = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        for name in names:
            answer = http.post(
                "/api/v1/auth/login", json={"username": name, "password": _seed.PASSWORD}
            )
            answer.raise_for_status()
            tokens.append(answer.json()["token"])
            for _ in range(NOTES_PER_PERSON):
                sent = http.post(
                    "/api/v1/notes",
                    json=NOTE,
                    headers={"Authorization": f"Bearer {tokens[-1]}"},
                )
                sent.raise_for_status()
    return tokens


async def time_logins(port: int, names: list[str], count: int, concurrency: int) -> Sample:
    """Sign-ins, ``concurrency`` at a time, each timed on its own."""
    sample = Sample()
    queue = [names[i % len(names)] for i in range(count)]
    started = time.perf_counter()

    async def one() -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            while queue:
                body = {"username": queue.pop(), "password": _seed.PASSWORD}
                began = time.perf_counter()
                answer = await http.post("/api/v1/auth/login", json=body)
                sample.record(int((time.perf_counter() - began) * 1e6), answer.is_success)

    await asyncio.gather(*(one() for _ in range(concurrency)))
    sample.seconds = time.perf_counter() - started
    return sample


def check_shapes(port: int, token: str) -> None:
    """Every request the benchmark sends gets the answer it expects, once, first."""

    async def each() -> list[str]:
        wrong = []
        for endpoint, shape in SHAPES.items():
            if endpoint in BARE:
                continue
            link = await Connection.open(port)
            began = time.perf_counter()
            # The first request a worker answers may load a model: no hurry here.
            status, link = await link.timed(raw_request(endpoint, token), port, 300)
            link.close()
            if time.perf_counter() - began > REQUEST_TIMEOUT_S:
                print(f"  (first {endpoint}: {time.perf_counter() - began:.0f} s)", flush=True)
            if status != shape.expected:
                wrong.append(f"{shape.method} {shape.path}: {status}, not {shape.expected}")
        return wrong

    if wrong := asyncio.run(each()):
        raise SystemExit("the app answered unexpectedly: " + "; ".join(wrong))


@dataclass
class Database:
    settings: Settings
    cleanup: Callable[[], None]


def sqlite_copy(base: Settings, size: int, config: Config) -> Database:
    folder = Path(tempfile.mkdtemp(prefix=f"reconnect-bench-{size}-"))
    shutil.copyfile(base.data_dir / "reconnect.db", folder / "reconnect.db")
    (folder / "reconnect.db").chmod(0o600)  # the app refuses a file others can read
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
        tokens = sign_in(port, names)
        check_shapes(port, tokens[0])
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
        _measure(run, databases, tokens, config)
    finally:
        for database in databases.values():
            database.cleanup()
    return run


def _measure(run: Run, databases: dict[int, Database], tokens: list[str], config: Config) -> None:
    plans = Path(tempfile.mkdtemp(prefix="reconnect-bench-plans-"))
    try:
        with ExitStack() as servers:
            ports: dict[int, int] = {}
            processes: dict[int, subprocess.Popen[bytes]] = {}
            for size, database in databases.items():
                ports[size] = free_port()
                processes[size] = servers.enter_context(
                    app_server(database.settings, run.workers, ports[size])
                )
            hello_port = free_port()
            threads = next(iter(databases.values())).settings.worker_threads
            floor_db = _floor_database(run.backend, databases, plans)
            _hello.prepare_floor(floor_db, tokens)
            hello = servers.enter_context(hello_server(run.workers, hello_port, threads, floor_db))
            wait_until_idle([*processes.values(), hello])

            def app_done() -> None:
                for size, process in processes.items():
                    wait_until_done(process, databases[size].settings.database_url, limit_s=120)

            _closed_loop(run, ports, hello_port, tokens, plans, config, app_done)
            largest = max(databases)
            port, process = ports[largest], processes[largest]
            url = databases[largest].settings.database_url
            # Work the closed loop left behind (to a background thread, say) is done
            # before each of the phases that follow, so it is not counted against them.
            wait_until_done(process, url, limit_s=120)
            run.open_rate = run.largest["mixed"].rate / 2
            print(f"  {run.label}: open loop at {run.open_rate:.0f} req/s", flush=True)
            run.open_loop = asyncio.run(
                open_loop(port, tokens, run.open_rate, config.open_seconds, config.open_warmup)
            )
            # One person for the CPU phase (couple 0's first partner); their notes
            # are couple A's, whose partner sends the burst after it.
            wait_until_done(process, url, limit_s=120)
            for endpoint in CPU_ENDPOINTS:
                run.cpu[endpoint] = _cpu_per_request(
                    process, port, tokens[0], endpoint, config.cpu_requests, url
                )
            for bare in BARE:
                run.cpu[bare] = _cpu_per_request(
                    hello, hello_port, tokens[0], bare, config.cpu_requests, ""
                )
            print(f"  {run.label}: CPU per request measured", flush=True)
            run.neighbour = _neighbour(process, port, tokens, plans, config, url)
            print(f"  {run.label}: another couple's check-ins measured", flush=True)
    finally:
        shutil.rmtree(plans, ignore_errors=True)


def _floor_database(backend: str, databases: dict[int, Database], scratch: Path) -> str:
    """Where the floor routes read and write: a file of their own beside the plans on
    SQLite; on PostgreSQL, tables of their own in the largest size's scratch database."""
    if backend == "sqlite":
        return f"sqlite:{scratch / 'floor.db'}"
    url = databases[max(databases)].settings.database_url
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _closed_loop(
    run: Run,
    ports: dict[int, int],
    hello_port: int,
    tokens: list[str],
    plans: Path,
    config: Config,
    app_done: Callable[[], None],
) -> None:
    """Each endpoint alone, then mixed, at every size; the ceiling and the floor first
    in each round, once the app servers have done the work the round before left
    them (the refreshes its check-ins asked for). Run beside them, that work would
    lower the ceiling and flatter every share."""
    people = tokens * (config.clients // len(tokens) + 1)
    people = people[: config.clients]  # connection i is person i
    plan = {
        endpoint: write_plan(plans / f"{endpoint}.lua", people, {endpoint: 1})
        for endpoint in (*ENDPOINTS, *BARE)
    }
    plan["mixed"] = write_plan(plans / "mixed.lua", people, MIX)
    for port in ports.values():
        # Settle: pools, caches and templates warm in every worker.
        run_wrk(port, plan["mixed"], config.clients, config.settle)
    for bare in BARE:  # the floor's connections open here, too
        run_wrk(hello_port, plan[bare], config.clients, config.settle)
    run.by_size = {size: {} for size in ports}
    for round_ in range(config.rounds):
        sizes = list(ports) if round_ % 2 == 0 else list(reversed(ports))
        app_done()
        run.hello.merge(run_wrk(hello_port, plan["hello"], config.clients, config.chunk))
        for floor in FLOOR_NAMES:
            into = run.floor.setdefault(floor, Sample())
            into.merge(run_wrk(hello_port, plan[floor], config.clients, config.chunk))
        for endpoint in (*ENDPOINTS, "mixed"):
            for size in sizes:
                into = run.by_size[size].setdefault(endpoint, Sample())
                into.merge(run_wrk(ports[size], plan[endpoint], config.clients, config.chunk))
        print(f"  {run.label}: round {round_ + 1} of {config.rounds} measured", flush=True)


def _cpu_per_request(
    process: subprocess.Popen[bytes],
    port: int,
    token: str,
    endpoint: str,
    count: int,
    database_url: str,
) -> Cpu:
    """The server's CPU time over ``count`` sequential requests, per request."""
    asyncio.run(one_by_one(port, token, endpoint, 3))  # connections and caches warm
    wait_until_done(process, database_url)
    app_before = _cpu_seconds(process.pid)
    database_before = _database_cpu_seconds(database_url)
    timed = asyncio.run(one_by_one(port, token, endpoint, count))
    # Work left to a background thread or to the job worker counts.
    wait_until_done(process, database_url)
    app_after = _cpu_seconds(process.pid)
    database_after = _database_cpu_seconds(database_url)
    database_ms = None
    if database_before is not None and database_after is not None:
        database_ms = (database_after - database_before) * 1000 / count
    return Cpu((app_after - app_before) * 1000 / count, database_ms, timed.ms(0.5), timed.errors)


def _neighbour(
    process: subprocess.Popen[bytes],
    port: int,
    tokens: list[str],
    plans: Path,
    config: Config,
    database_url: str,
) -> Neighbour:
    """Couple B's check-ins, one at a time, idle and then while couple A's partner
    sends ``burst_notes`` notes over BURST_CONNECTIONS connections."""
    writer, other = tokens[0], tokens[2]  # couple 0's first partner; couple 1's
    wait_until_done(process, database_url)
    asyncio.run(one_by_one(port, other, "checkin", 3))
    idle = asyncio.run(one_by_one(port, other, "checkin", config.neighbour_checkins))
    wait_until_done(process, database_url)
    quota = math.ceil(config.burst_notes / BURST_CONNECTIONS)
    plan = write_plan(plans / "burst.lua", [writer], {"note": 1}, quota=quota)
    burst = subprocess.Popen(  # noqa: S603 - wrk, with our own arguments
        wrk_command(port, plan, BURST_CONNECTIONS, 600),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    finished = threading.Event()
    said: list[str] = []

    def watch() -> None:
        # Each wrk thread says so when its share is sent; wrk itself sleeps for its
        # whole duration unless interrupted, so it is interrupted then.
        reached = 0
        for line in burst.stderr or ():
            said.append(line)
            reached += line.strip() == "quota reached"
            if reached == BURST_CONNECTIONS:
                finished.set()
                burst.send_signal(signal.SIGINT)
        finished.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    async def during() -> Sample:
        sample = Sample()
        link = await Connection.open(port)
        raw = raw_request("checkin", other)
        await asyncio.sleep(0.2)  # the burst's connections open
        began = time.perf_counter()
        while not finished.is_set():
            sent = time.perf_counter()
            status, link = await link.timed(raw, port)
            if not finished.is_set():
                sample.record(int((time.perf_counter() - sent) * 1e6), status == 201)
        link.close()
        sample.seconds = time.perf_counter() - began
        return sample

    busy = asyncio.run(during())
    stdout = burst.stdout.read() if burst.stdout else ""  # printed once interrupted
    burst.wait(timeout=60)
    watcher.join(timeout=5)
    return Neighbour(idle, busy, parse_wrk(stdout, "".join(said)))


# --- the report -------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _checks(run: Run, growth: float, config: Config) -> list[tuple[str, str, str, bool]]:
    """Each target: its name, the figure, the target, whether it is met."""
    last, n, o = run.largest, run.neighbour, run.open_loop
    share = {e: last[e].rate / run.ceiling for e in ENDPOINTS}
    p99 = {e: last[e].ms(0.99) for e in ENDPOINTS}
    at = f"p99@{config.clients}"
    checks = [
        (
            "today share",
            f"{share['today']:.0%}",
            f">= {TARGET_TODAY_SHARE:.0%}",
            share["today"] >= TARGET_TODAY_SHARE,
        ),
        (
            "pace share",
            f"{share['pace']:.0%}",
            f">= {TARGET_PACE_SHARE:.0%}",
            share["pace"] >= TARGET_PACE_SHARE,
        ),
        (
            "check-in share",
            f"{share['checkin']:.0%}",
            f">= {TARGET_CHECKIN_SHARE:.0%}",
            share["checkin"] >= TARGET_CHECKIN_SHARE,
        ),
        (
            f"{at} today",
            f"{p99['today']:.0f} ms",
            f"<= {TARGET_P99_READ_MS:.0f} ms",
            p99["today"] <= TARGET_P99_READ_MS,
        ),
        (
            f"{at} pace",
            f"{p99['pace']:.0f} ms",
            f"<= {TARGET_P99_READ_MS:.0f} ms",
            p99["pace"] <= TARGET_P99_READ_MS,
        ),
        (
            f"{at} check-in",
            f"{p99['checkin']:.0f} ms",
            f"<= {TARGET_P99_CHECKIN_MS:.0f} ms",
            p99["checkin"] <= TARGET_P99_CHECKIN_MS,
        ),
        (
            "open-loop p99 mixed",
            f"{o.ms(0.99):.0f} ms" if o else "-",
            f"<= {TARGET_OPEN_P99_MS:.0f} ms",
            bool(o and o.ms(0.99) <= TARGET_OPEN_P99_MS),
        ),
        (
            f"p95 growth {min(run.by_size)}->{max(run.by_size)}",
            f"{growth:.2f}x",
            f"<= {TARGET_GROWTH}x",
            growth <= TARGET_GROWTH,
        ),
        (
            "check-in beside notes",
            f"{n.ratio:.2f}x" if n else "-",
            f"<= {TARGET_NEIGHBOUR}x",
            bool(n and n.ratio <= TARGET_NEIGHBOUR),
        ),
    ]
    # An error anywhere fails the run: an answer that failed fast is no figure.
    errors = sum(s.errors for samples in run.by_size.values() for s in samples.values())
    errors += (o.errors if o else 0) + (n.idle.errors + n.busy.errors + n.notes.errors if n else 0)
    errors += sum(cpu.errors for cpu in run.cpu.values())
    errors += run.hello.errors + sum(s.errors for s in run.floor.values())
    checks.append(("errors", str(errors), "= 0", errors == 0))
    return checks


def report(runs: list[Run], config: Config, stopped: dict[str, str]) -> bool:
    print()
    print(
        f"Closed loop: {config.clients} connections (wrk), each a different person, "
        f"{config.chunk * config.rounds} s per endpoint and size in {config.rounds} "
        "interleaved rounds; share = req/s over the hello-world ceiling."
    )
    header = (
        f"{'backend':<12}{'couples':>8}  {'endpoint':<10}{'req/s':>8}{'share':>7}"
        f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'errors':>8}"
    )
    print(header)
    print("-" * len(header))

    def row(label: str, size: object, name: str, sample: Sample, share: str) -> None:
        print(
            f"{label:<12}{size!s:>8}  {name:<10}{sample.rate:>8.0f}{share:>7}"
            f"{sample.ms(0.5):>8.1f}{sample.ms(0.95):>8.1f}{sample.ms(0.99):>8.1f}"
            f"{sample.errors:>8}"
        )

    for run in runs:
        row(run.label, "", "hello", run.hello, "100%")
        for floor, name in FLOOR_NAMES.items():
            sample = run.floor[floor]
            row(run.label, "", name, sample, f"{sample.rate / run.ceiling:.0%}")
        for size, samples in run.by_size.items():
            for endpoint in (*ENDPOINTS, "mixed"):
                sample = samples[endpoint]
                row(run.label, size, endpoint, sample, f"{sample.rate / run.ceiling:.0%}")
        if run.login:
            r = run.login
            print(
                f"{run.label:<12}{'':>8}  {'login*':<10}{r.rate:>8.1f}{'':>7}"
                f"{r.ms(0.5):>8.0f}{r.ms(0.95):>8.0f}{r.ms(0.99):>8.0f}{r.errors:>8}"
            )
    print(
        f"* login: Argon2id ({config.hash_kib} KiB) twice per sign-in, 2 at a time, "
        f"{config.logins} sign-ins; slow on purpose, outside the shares."
    )
    print(
        "one read, read+write: the floor under any signed-in request, on hello's bare "
        "stack: one indexed select of the session by its token's hash, and that plus one "
        "row written and committed (bench/_hello.py). Not targets; what a page or a "
        "check-in costs on top of them is the app's own."
    )

    print()
    print("p95 (ms) by couples in the database, and its growth from the fewest to the most:")
    growth: dict[str, float] = {}
    for run in runs:
        sizes = list(run.by_size)
        print(f"{run.label:<12}" + "".join(f"{s:>9}" for s in sizes) + f"{'growth':>9}")
        worst = 0.0
        for endpoint in ENDPOINTS:
            p95 = [run.by_size[s][endpoint].ms(0.95) for s in sizes]
            ratio = p95[-1] / p95[0] if p95[0] else float("nan")
            worst = max(worst, ratio)
            print(f"  {endpoint:<10}" + "".join(f"{v:>9.1f}" for v in p95) + f"{ratio:>8.2f}x")
        growth[run.label] = worst

    print()
    print(
        "Open loop at the largest size: the mix arriving at a fixed rate, half the "
        "closed-loop mixed capacity; latency from each request's due time."
    )
    for run in runs:
        if run.open_loop:
            o = run.open_loop
            print(
                f"  {run.label:<12} asked {run.open_rate:.0f} req/s, answered {o.rate:.0f} "
                f"req/s: p50 {o.ms(0.5):.1f} ms, p95 {o.ms(0.95):.1f} ms, "
                f"p99 {o.ms(0.99):.1f} ms, {o.errors} errors"
            )

    print()
    print(
        f"CPU per request at the largest size, one client, {config.cpu_requests} requests "
        "in a row: CPU ms of the app's processes (+ PostgreSQL's backends, db), and the "
        "median answer time."
    )
    print(f"  {'endpoint':<18}" + "".join(f"{run.label:>28}" for run in runs))
    for endpoint in (*CPU_ENDPOINTS, *BARE):
        cells = []
        for run in runs:
            cpu = run.cpu.get(endpoint)
            if cpu is None:
                cells.append(f"{'-':>28}")
                continue
            database = f" +{cpu.database_ms:.1f} db" if cpu.database_ms is not None else ""
            failed = f" ({cpu.errors} err)" if cpu.errors else ""
            text = f"{cpu.app_ms:.1f}{database}{failed}  p50 {cpu.p50_ms:.0f} ms"
            cells.append(f"{text:>28}")
        shape = SHAPES[endpoint]
        print(f"  {shape.method + ' ' + endpoint:<18}" + "".join(cells))

    print()
    print(
        f"Another couple's check-ins (one client, in a row) while one partner sends "
        f"{config.burst_notes} notes over {BURST_CONNECTIONS} connection(s):"
    )
    for run in runs:
        n = run.neighbour
        if n:
            print(
                f"  {run.label:<12} idle p50 {n.idle.ms(0.5):.1f} ms ({n.idle.requests}); "
                f"during the notes p50 {n.busy.ms(0.5):.1f} ms ({n.busy.requests}, "
                f"{n.busy.errors} errors) = {n.ratio:.2f}x; the notes: {n.notes.requests} "
                f"in {n.notes.seconds:.1f} s, p50 {n.notes.ms(0.5):.0f} ms, "
                f"{n.notes.errors} errors"
            )
    print("Heart-rate import peak memory: see python bench/heartrate.py.")

    print()
    passed = True
    parts = []
    for run in runs:
        checks = _checks(run, growth[run.label], config)
        print(f"{run.label}:")
        for name, value, target, ok in checks:
            print(f"  {name:<26}{value:>9}  {target:<10} {_verdict(ok)}")
        floor = ", ".join(
            f"{name} {run.floor[endpoint].rate / run.ceiling:.0%}"
            for endpoint, name in FLOOR_NAMES.items()
        )
        print(f"  (the floor, not a target: {floor} of hello)")
        passed = passed and all(ok for *_, ok in checks)
        listed = [f"{name} {value} ({target}) {_verdict(ok)}" for name, value, target, ok in checks]
        parts.append(f"{run.label} (floor: {floor}): " + ", ".join(listed))
    for backend, why in stopped.items():
        passed = False
        parts.append(f"{backend}: not measured ({why}) FAIL")
    print()
    print("SUMMARY " + "; ".join(parts) + f" => {_verdict(passed)}")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: SQLite, small, short")
    parser.add_argument("--backends", default="", help="sqlite,postgres (default: both)")
    parser.add_argument("--sizes", default="", help="couples in the database, ascending")
    parser.add_argument(
        "--seconds", type=int, default=0, help="measured seconds per endpoint and size"
    )
    parser.add_argument("--clients", type=int, default=0, help="concurrent connections")
    args = parser.parse_args()
    if args.quick:
        config = Config(
            sizes=[50, 200],
            seconds=2,
            clients=8,
            active=2,
            history_days=7,
            logins=4,
            hash_kib=1024,
            cpu_requests=20,
            burst_notes=120,
            neighbour_checkins=20,
            settle=1,
            rounds=2,
            open_seconds=3.0,
            open_warmup=0.5,
        )
        backends = ["sqlite"]
    else:
        config = Config(
            sizes=[100, 1000, 10000],
            seconds=6,
            clients=32,
            active=16,
            history_days=28,
            logins=12,
            hash_kib=64 * 1024,  # the app's default
            cpu_requests=100,
            burst_notes=600,
            neighbour_checkins=60,
        )
        backends = ["sqlite", "postgres"]
    if args.backends:
        backends = args.backends.split(",")
    if args.sizes:
        config.sizes = [int(s) for s in args.sizes.split(",")]
    config.seconds = args.seconds or config.seconds
    config.clients = args.clients or config.clients
    if config.active < 2:
        raise SystemExit("phase 4 needs two couples")
    # Stopped (Ctrl+C, kill), the servers are stopped and the scratch databases dropped:
    # a shell starts a background job with SIGINT ignored, so both are said here.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ensure_wrk()
    runs: list[Run] = []
    stopped: dict[str, str] = {}  # backend -> why it was not measured
    started = time.perf_counter()
    for backend in backends:
        print(f"== {backend}", flush=True)
        folder = Path(tempfile.mkdtemp(prefix="reconnect-bench-base-"))
        try:
            if backend == "sqlite":
                base = load_settings(data_dir=folder, password_hash_memory_kib=config.hash_kib)
                runs.append(measure_backend("sqlite", 1, base, config))
            else:
                with scratch_postgres() as url:
                    base = load_settings(
                        data_dir=folder,
                        database_url=normalise_url(url),
                        password_hash_memory_kib=config.hash_kib,
                    )
                    runs.append(measure_backend("postgres", 2, base, config))
        except SystemExit as error:  # the other backend's figures are still worth having
            stopped[backend] = str(error.code)
            print(f"  {backend}: stopped: {error.code}", flush=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    report(runs, config, stopped)
    print(f"(whole run {time.perf_counter() - started:.0f} s)")
    return 1 if stopped else 0  # a FAIL is a finding; a backend that stopped is not


if __name__ == "__main__":
    sys.exit(main())
