"""The one place that reads configuration.

Every field can be set by an environment variable named ``RECONNECT_<FIELD>``
(``RECONNECT_DATABASE_URL``, ``RECONNECT_DATA_DIR`` ...) or by the matching
command-line flag. Each field's description is its help text: the CLI and
``docs/configuration.md`` both show it, and a test checks that they agree.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reconnect.database import private_folder, refuse_shared

APP_NAME = "reconnect"
# Worker threads of a web process unless RECONNECT_THREADS says otherwise. On SQLite
# the work is all Python, and a few threads answer more than many (bench/load.py:
# today's page 150 to 205 a second at 32 clients, 40 threads against 4). On
# PostgreSQL an API read holds its connection between two trips to the threads, so
# fewer threads than requests at once could leave the pool's connections waiting:
# FastAPI's own number stays (docs/deployment.md).
SQLITE_THREADS = 4
POSTGRES_THREADS = 40


class SettingsError(Exception):
    """Configuration that cannot work; the message says which setting and why."""


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RECONNECT_", extra="forbid", frozen=True, validate_default=True
    )

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder for the SQLite database and the generated secret key.",
    )
    database_url: str = Field(
        default="",
        description=(
            "SQLAlchemy URL of the database. Empty means an SQLite file in the data "
            "folder; use postgresql://user@host/dbname for PostgreSQL."
        ),
    )
    threads: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description=(
            "Worker threads of each web process: the requests it works on at once; "
            "more wait their turn. Empty means 4 on SQLite and 40 (FastAPI's own) on "
            "PostgreSQL. Python runs one thread at a time, and many taking turns cost "
            "more than the work; see docs/deployment.md."
        ),
    )
    db_pool_size: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="PostgreSQL connections each web process keeps open (ignored for SQLite).",
    )
    db_max_overflow: int = Field(
        default=5,
        ge=0,
        le=1000,
        description=(
            "Extra PostgreSQL connections a web process may open when all kept ones are "
            "busy; they close again when idle."
        ),
    )
    db_pool_timeout: int = Field(
        default=30,
        ge=1,
        le=600,
        description=(
            "Seconds a request waits for a free PostgreSQL connection before it is "
            "answered with an error."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address the web server listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the web server listens on.")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "Web server processes. More than one needs PostgreSQL; see docs/deployment.md."
        ),
    )
    # Empty by default: trusting 127.0.0.1 let anyone on the machine claim any address
    # and spread their guesses past the per-address sign-in limit.
    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated addresses of reverse proxies whose X-Forwarded-For and "
            "X-Forwarded-Proto headers are believed. Empty (the default) believes no one; "
            "'*' believes any sender."
        ),
    )
    secret_key: str = Field(
        default="",
        description=(
            "Secret used to sign form tokens. Empty means a random key kept in "
            "<data folder>/secret_key, created on first start."
        ),
    )
    session_hours: int = Field(
        default=12,
        ge=1,
        le=24 * 30,
        description="How long a sign-in lasts before the person is asked to sign in again.",
    )
    login_attempts_per_account: int = Field(
        default=5,
        ge=1,
        description=(
            "Failed sign-ins allowed per account from unknown devices, and per known device, "
            "in the rate-limit window; also wrong passwords within one sign-in (password "
            "change, two-step off, deletion)."
        ),
    )
    login_attempts_per_address: int = Field(
        default=20,
        ge=1,
        description=(
            "Failed sign-ins from unknown devices allowed per network address in the "
            "rate-limit window."
        ),
    )
    login_window_minutes: int = Field(
        default=15, ge=1, description="Length of the sign-in rate-limit window, in minutes."
    )
    redis_url: str = Field(
        default="",
        description=(
            "Redis URL (redis://host:6379/0) for the rate-limit counters (sign-ins, and each "
            "person's writes), shared by every process. Empty keeps them in the database."
        ),
    )
    redis_prefix: str = Field(
        default="reconnect",
        min_length=1,
        max_length=100,
        description="Prefix of this installation's Redis keys, so several can share one Redis.",
    )
    job_key: str = Field(
        default="",
        description=(
            "Key the web processes and `reconnect worker` share to hand a person's refresh "
            "to the worker; at least 32 random characters, kept in the environment, never "
            "in the data folder. Empty: a new one in memory at each `reconnect serve` (a "
            "refresh a crash left waiting is then done at its owner's next visit). Needed "
            "with a Redis queue and for `reconnect worker`."
        ),
    )
    queue_url: str = Field(
        default="",
        description=(
            "Where jobs wait for the worker (the detectors' refresh after a write). Empty: "
            "a file in the data folder, worked by `reconnect serve` itself. redis://host:6379/0: "
            "shared by every process; run `reconnect worker` beside the web processes. "
            "`immediate` runs each job in the request, after its write is committed (tests)."
        ),
    )
    job_threads: int = Field(
        default=1,
        ge=1,
        le=32,
        description="Jobs one worker runs at a time (threads).",
    )
    # Per person, far above what any couple writes: they keep one partner from slowing
    # the other (or another couple) by writing hundreds of times (ratelimit.WriteLimits).
    notes_per_hour: int = Field(
        default=60,
        ge=1,
        description="Notes one person may send in an hour; more wait, kept in the box, with 429.",
    )
    statuses_per_hour: int = Field(
        default=30,
        ge=1,
        description="Statuses one person may share in an hour; more wait, with 429.",
    )
    heart_imports_per_day: int = Field(
        default=20,
        ge=1,
        description="Heart-rate export files one person may import in a day; more wait, with 429.",
    )
    heart_readings_per_hour: int = Field(
        default=120,
        ge=1,
        description=(
            "Heart-rate readings one person may enter by hand in an hour; more wait, with 429."
        ),
    )
    max_body_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        description="Largest request body accepted, in bytes; larger requests get 413.",
    )
    max_upload_bytes: int = Field(
        default=2 * 1024**3,
        ge=1024,
        description="Largest heart-rate export accepted for import, in bytes (read from disk).",
    )
    instruments_dir: str = Field(
        default="",
        description=(
            "Folder of questionnaire definitions an operator is licensed to use (CSI-4, "
            "ECR-S...). A file that does not load is reported and skipped."
        ),
    )
    quick_exit_url: str = Field(
        default="https://www.bbc.com/weather",
        description="Neutral page the quick-exit control opens in place of the app.",
    )
    demo: bool = Field(
        default=False,
        description="Offer one-click sign-in as the demo couple. Only `reconnect demo` sets it.",
    )
    password_hash_memory_kib: int = Field(
        default=64 * 1024,
        ge=8,
        description="Argon2id memory cost for password hashes, in KiB (tests lower it).",
    )

    @field_validator("secret_key", "job_key")
    @classmethod
    def _refuse_placeholder_secret(cls, value: str) -> str:
        if value and (len(value) < 32 or value.lower() in {"changeme", "secret", "change-me"}):
            raise ValueError("must be at least 32 random characters (or empty to generate one)")
        return value

    @field_validator("queue_url")
    @classmethod
    def _queue_scheme(cls, value: str) -> str:
        if (
            value
            and value != "immediate"
            and not value.startswith(("redis://", "rediss://", "unix://"))
        ):
            raise ValueError(
                "must be empty, immediate, or start with redis://, rediss:// or unix://"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix:// (or be empty)")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        # The model is frozen; derived defaults are set once here.
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'reconnect.db'}")
        if self.queue_url not in ("", "immediate") and not self.job_key:
            raise ValueError(
                "RECONNECT_JOB_KEY must be set with a Redis queue: every web process and "
                "`reconnect worker` need the same one (docs/deployment.md)"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def worker_threads(self) -> int:
        if self.threads is not None:
            return self.threads
        return SQLITE_THREADS if self.is_sqlite else POSTGRES_THREADS

    def ensure_secret_key(self) -> str:
        """The configured secret, or the one kept in the data folder (created if absent)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            private_folder(self.data_dir)
            # Created with 0600 so other local accounts cannot read it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        refuse_shared(self.data_dir, path)
        return path.read_text().strip()


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment plus explicit overrides (CLI flags, tests).

    Raises SettingsError with a readable message instead of a pydantic traceback.
    """
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**clean)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"]) or "settings"
            problems.append(f"RECONNECT_{name.upper()}: {item['msg']}")
        raise SettingsError("; ".join(problems)) from None


def describe_settings() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting, for docs and --help."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = "" if field.default_factory is not None else str(field.default)
        if name == "data_dir":
            default = "the platform's user data folder"
        rows.append((f"RECONNECT_{name.upper()}", default, field.description or ""))
    return rows
