"""What the database file gives away: who may read it, and what it shows to whoever does.

Threat 1 of docs/privacy.md. The file, its WAL and SHM, backups and the secret key
are for the account that runs Reconnect alone; and a stolen copy shows in clear only
what docs/privacy.md ("What a stolen database file shows") lists, which
``READABLE`` below mirrors column by column.
"""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconnect.app import create_app
from reconnect.backup import backup
from reconnect.cli import main
from reconnect.database import NotPrivate
from tests.conftest import make_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- who may read the files -------------------------------------------------------


def test_the_data_folder_is_0700_and_its_files_0600(tmp_path, hana_and_ivan, app, settings):
    database = Path(app.state.engine.url.database)
    assert mode(settings.data_dir) == 0o700
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    files.append(settings.data_dir / "secret_key")
    assert all(path.exists() for path in files)
    assert {path.name: oct(mode(path)) for path in files} == {
        path.name: oct(0o600) for path in files
    }
    copy = tmp_path / "copy.db"
    backup(database, copy)
    assert mode(copy) == 0o600


def test_a_database_others_can_read_is_refused_at_start(tmp_path):
    settings = make_settings(tmp_path)
    create_app(settings).state.engine.dispose()
    database = settings.data_dir / "reconnect.db"
    database.chmod(0o644)
    with pytest.raises(NotPrivate) as refused:
        create_app(settings)
    assert f"chmod 600 {database}*" in str(refused.value)


@pytest.mark.parametrize(
    "args",
    [
        ["serve"],
        ["db", "upgrade"],
        ["db", "status"],
        ["backup", "{tmp}/copy.db"],
        ["export", "--user", "hana", "--output", "{tmp}/out.json"],
        ["reset-password", "--user", "hana"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
@pytest.mark.parametrize("shared", ["folder", "database", "wal"])
def test_every_command_refuses_a_shared_data_folder_in_one_line(tmp_path, args, shared):
    data = tmp_path / "data"
    result = CliRunner().invoke(main, ["db", "upgrade", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    database = data / "reconnect.db"
    target = {"folder": data, "database": database, "wal": Path(f"{database}-wal")}[shared]
    target.touch()
    target.chmod(0o755 if shared == "folder" else 0o644)

    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    result = CliRunner().invoke(main, [*args, "--data-dir", str(data)], input="x\n")

    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: Other users of this computer can read ")
    assert lines[0].endswith(f"Run: chmod 700 {data}; chmod 600 {database}*")
    assert "Traceback" not in result.output


def test_a_shared_secret_key_is_refused(tmp_path):
    settings = make_settings(tmp_path)
    settings.ensure_secret_key()
    (settings.data_dir / "secret_key").chmod(0o640)
    with pytest.raises(NotPrivate, match="secret_key"):
        settings.ensure_secret_key()


# --- what a stolen file shows ---------------------------------------------------------
# Every column of every table, classified. A new column fails
# test_a_stolen_database_file_shows_only_what_docs_privacy_lists until it is added here
# and, if it is readable, to "What a stolen database file shows" in docs/privacy.md.

SEALED = "sealed"  # ciphertext (AES-256-GCM) under a key the file does not hold
DIGEST = "digest"  # a hash, a keyed digest or a password hash
ID = "id"  # a row id or a foreign key
LEGACY = "legacy"  # null: kept only for rows from before migration 0010 (reseal.py)
# The pace is computed while a partner is signed out, from coarse signals only
# (docs/pacing.md): what each signal and each decision shows is in docs/privacy.md.
PACE = "readable: the pace's coarse signals and decisions, computed while a partner is away"

COLUMNS: dict[str, dict[str, str]] = {
    "alembic_version": {"version_num": "readable: the schema version, to migrate"},
    "person": {
        "id": ID,
        "username": "readable: the name one signs in with",
        "password_hash": DIGEST,
        "created_at": "readable: when the account was made (shown in the export)",
        "kdf_salt": "readable: random salt; with the password it derives the key",
        "kdf_memory_kib": "readable: Argon2id cost, needed to derive the key",
        "kdf_time_cost": "readable: Argon2id cost, needed to derive the key",
        "kdf_parallelism": "readable: Argon2id cost, needed to derive the key",
        "key_by_password": SEALED,
        "key_by_recovery": SEALED,
        "totp_sealed": SEALED,
        "totp_step_sealed": SEALED,
        "time_zone": "readable: the zone the person's own days are cut in",
        "is_therapist": "readable: whether the account was made by a couples therapist",
    },
    "auth_session": {
        "token_hash": DIGEST,
        "person_id": ID,
        "kind": "readable: browser or API",
        "created_at": "readable: to the hour, only for sign-ins that have not ended",
        "expires_at": "readable: to the hour; a token is refused after it without any key",
        "key_wrap": SEALED,
    },
    "couple": {
        "id": ID,
        "created_at": "readable: when the couple space was made",
        "time_zone": "readable: the pace counts separate days in it while a partner is away",
        "policy_version": "readable: the pacing policy the pace is computed under",
    },
    "membership": {
        "person_id": ID,
        "couple_id": ID,
        "role": "readable: hurt, involved or both hurt; the pace and the partner need it",
        "joined_at": "readable: when the partner joined; both partners see it",
        "couple_key_wrap": SEALED,
    },
    "invite": {
        "id": ID,
        "couple_id": ID,
        "code_hash": DIGEST,
        "created_by": ID,
        "created_at": "readable: the one-time code's life, checked without any key",
        "expires_at": "readable: the one-time code's life, checked without any key",
        "used_at": "readable: a code works once",
        "couple_key_wrap": SEALED,
    },
    "safety_screen": {"person_id": ID, "sealed": SEALED},
    "login_failure": {
        "id": ID,
        "key": DIGEST,
        "at": "readable: the sign-in rate-limit window",
    },
    "checkin": {
        "id": ID,
        "person_id": ID,
        "recorded_at": "readable: the owner's pages list check-ins by it; the same time is "
        "in pace_signal (see the lead's change)",
        "created_at": "readable: when the check-in was written (as recorded_at)",
        "sealed": SEALED,
    },
    "experience": {
        "id": ID,
        "couple_id": ID,
        "practice_id": "readable: the practice the couple did together; both see it",
        "tier": "readable: its tier, which the pace counts",
        "occurred_at": "readable: when; both see it and the pace counts separate days",
        "created_by": ID,
        "created_at": "readable: when it was logged; both see it",
        "ahead_of_pace": "readable: logged above the permitted tier; both see it",
        "started_by": ID,
    },
    "experience_rating": {
        "id": ID,
        "experience_id": ID,
        "person_id": ID,
        "created_at": "readable: when the reflection was written",
        "sealed": SEALED,
    },
    "experience_fact": {
        "id": ID,
        "experience_id": ID,
        "person_id": ID,
        "left": "readable: the couple's pattern detectors run while a partner is away",
        "ended_activated": "readable: the couple's pattern detectors run while a partner is away",
    },
    "pace_signal": {
        "id": ID,
        "couple_id": ID,
        "person_id": ID,
        "kind": PACE,
        "at": PACE,
        "data": PACE,
    },
    "pace_decision": {
        "id": ID,
        "couple_id": ID,
        "decided_at": PACE,
        "policy_version": PACE,
        "permitted_tier": PACE,
        "ladder_tier": PACE,
        "data": PACE,
        "superseded": PACE,
    },
    "shared_status": {
        "id": ID,
        "couple_id": ID,
        "person_id": ID,
        "at": "readable: shared with the partner, who sees when",
        "sealed": SEALED,
    },
    "trigger": {
        "id": ID,
        "person_id": ID,
        "couple_id": ID,
        "at": "readable: only for a trigger told to the partner, to the minute (the "
        "partner is shown it); null for one not told",
        "sealed": SEALED,
        "told_sealed": SEALED,
        "response_kind": "readable: the partner's response to a told trigger; both see it",
        "responded_at": "readable: when the partner responded; both see it",
    },
    "proposal": {
        "id": ID,
        "couple_id": ID,
        "proposed_by": ID,
        "at": "readable: both partners see the proposal",
        "sealed": SEALED,
        "response": "readable: accepted or declined; both see it",
        "responded_at": "readable: both see it",
    },
    "flood_break": {
        "id": ID,
        "couple_id": ID,
        "started_by": ID,
        "started_at": "readable: the break both partners see",
        "return_at": "readable: the agreed time to come back, which both see",
    },
    "heart_rate_import": {
        "id": ID,
        "person_id": ID,
        "file_hash": DIGEST,
        "span_sealed": SEALED,
        "sealed": SEALED,
        "calm_sealed": SEALED,
    },
    "finding": {
        "id": ID,
        "couple_id": ID,
        "person_id": ID,
        "created_at": "readable: when a detector last ran (a couple's pattern: the day only)",
        "sealed": SEALED,
    },
    "questionnaire_response": {
        "id": ID,
        "person_id": ID,
        "instrument_id": LEGACY,
        "taken_at": LEGACY,
        "sealed": SEALED,
    },
    "therapist_invite": {
        "id": ID,
        "couple_id": ID,
        "code_hash": DIGEST,
        "created_by": ID,
        "created_at": "readable: the one-time code's life, checked without any key",
        "expires_at": "readable: the one-time code's life, checked without any key",
        "couple_key_wrap": SEALED,
    },
    "therapist_link": {
        "id": ID,
        "couple_id": ID,
        "therapist_id": ID,
        "created_at": "readable: when the therapist joined; the partners see it",
        "reviewed_at": "readable: when the therapist last looked; the therapist's own",
        "couple_key_wrap": SEALED,
        "public_key": "readable: a public key; it opens nothing",
        "private_key_sealed": SEALED,
    },
    "therapist_consent": {
        "id": ID,
        "link_id": ID,
        "person_id": ID,
        "granted_at": "readable: when consent was given; the partners see it",
    },
    "therapist_share": {
        "id": ID,
        "link_id": ID,
        "person_id": ID,
        "at": "readable: what was shared with the therapist is dated on their page; "
        "exists only while both partners consent",
        "sealed": SEALED,
    },
    "shared_note": {
        "id": ID,
        "couple_id": ID,
        "person_id": ID,
        "at": "readable: sent to the partner, who sees when",
        "sealed": SEALED,
    },
    # A person's questionnaire plan: its row exists once they answer or plan one (their
    # results' rows already say as much); what it holds is sealed, padded to 256 bytes.
    "questionnaire_plan": {"person_id": ID, "sealed": SEALED},
    "hard_dates": {"person_id": ID, "sealed": SEALED},
    "commitment": {"id": ID, "couple_id": ID, "person_id": ID, "sealed": SEALED},
    "ritual": {"id": ID, "couple_id": ID, "sealed": SEALED},
    "letter": {
        "id": ID,
        "couple_id": ID,
        "person_id": ID,
        "sealed": SEALED,
        "shared_sealed": SEALED,
    },
    "disclosure": {
        "id": ID,
        "couple_id": ID,
        "person_id": ID,
        "sealed": SEALED,
        "shared_sealed": SEALED,
        "review_key": "readable: a public key, made when its writer asked the therapist "
        "to read their account first (so that much is known); its private half is sealed",
        # Sealed to that key: the partner holding the file cannot open it.
        "review_sealed": SEALED,
    },
    # The therapist's request of both partners, under the couple key.
    "couple_questionnaire_plan": {"couple_id": ID, "sealed": SEALED},
    # Rows live from a write until the worker has refreshed the findings (about a second).
    "refresh_request": {
        "person_id": ID,
        "shared": "readable while it waits: whether a write the partner sees is among them",
        # Under the job key, which lives in the processes' memory, never on this disk.
        "sealed_key": SEALED,
        "asked_at": "readable while it waits: when the latest write was",
        "waiting_since": "readable while it waits: when the first write was",
        "opened": "readable: a random number",
        "latest": "readable: a random number",
    },
}

NONCE_AND_TAG = 12 + 16
DOCS = Path(__file__).parents[1] / "docs" / "privacy.md"


def stolen_demo(app, tmp_path: Path) -> tuple[Path, dict[str, list[dict[str, object]]]]:
    """The full demo, plus what it lacks (a trigger not told, a heart-rate reading, a
    sign-in each), then every row of every table, read as a thief would."""
    import sqlite3  # the standard library's: any SQLite reads the file

    from reconnect.accounts import auth
    from reconnect.accounts.auth import kdf_params
    from reconnect.accounts.signed_in import SignedIn
    from reconnect.demo import build_demo
    from reconnect.heart import store as heart
    from reconnect.moments import store as moments

    state = app.state.reconnect
    demo = build_demo(state.sessions, state.hasher, kdf_params(state.settings), DEMO_NOW)
    with state.sessions() as db:
        for account in (demo.hurt, demo.involved):
            person = db.merge(account.person)
            auth.start_session(
                db,
                person=person,
                data_key=account.data_key,
                kind="browser",
                settings=state.settings,
                now=DEMO_NOW,
            )
        hana = SignedIn(db.merge(demo.hurt.person), demo.hurt.data_key, "")
        moments.log_trigger(
            db, signed_in=hana, what=UNTOLD, strength=8, tell_partner=False, now=DEMO_NOW
        )
        heart.add_reading(db, signed_in=hana, at=DEMO_NOW, bpm=112, now=DEMO_NOW)
        db.commit()
    database = Path(app.state.engine.url.database)
    copy = tmp_path / "stolen.db"
    for end in ("", "-wal"):
        if Path(f"{database}{end}").exists():
            Path(f"{copy}{end}").write_bytes(Path(f"{database}{end}").read_bytes())
    rows: dict[str, list[dict[str, object]]] = {}
    with sqlite3.connect(f"file:{copy}?mode=ro", uri=True) as thief:
        thief.row_factory = sqlite3.Row
        tables = [
            name
            for (name,) in thief.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            columns = [info[1] for info in thief.execute(f'PRAGMA table_info("{table}")')]
            found = thief.execute(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608
            rows[table] = [dict(zip(columns, row, strict=True)) for row in found] or [
                dict.fromkeys(columns)
            ]
    return database, rows


DEMO_NOW = datetime(2026, 11, 24, 12, 34, 56, tzinfo=UTC)
UNTOLD = "UNTOLD the blue car outside the office"


def test_a_stolen_database_file_shows_only_what_docs_privacy_lists(app, tmp_path):
    _, rows = stolen_demo(app, tmp_path)
    found = {table: set(table_rows[0]) for table, table_rows in rows.items()}
    assert found == {table: set(columns) for table, columns in COLUMNS.items()}, (
        "a table or column is not classified in COLUMNS (and docs/privacy.md)"
    )

    for table, columns in COLUMNS.items():
        for column, kind in columns.items():
            values = [row[column] for row in rows[table] if row[column] is not None]
            where = f"{table}.{column}"
            if kind == SEALED:
                assert all(isinstance(v, bytes) and len(v) >= NONCE_AND_TAG for v in values), where
            elif kind == ID:
                assert all(isinstance(v, int) for v in values), where
            elif kind == LEGACY:
                assert values == [], f"{where} is written in clear again"
            elif kind == DIGEST:
                assert all(isinstance(v, str) and (len(v) >= 64) for v in values), where

    # Every private fact that had a column in clear is now sealed or coarse.
    assert len(rows["safety_screen"]) == 2  # Hana's and Ivan's outcomes, sealed
    untold = [row for row in rows["trigger"] if row["told_sealed"] is None]
    told = [row for row in rows["trigger"] if row["told_sealed"] is not None]
    assert untold and all(row["at"] is None for row in untold)
    assert told and all(stored(row["at"]).second == 0 for row in told)  # to the minute
    assert rows["heart_rate_import"][0]["span_sealed"] is not None
    assert len(rows["auth_session"]) == 2
    for row in rows["auth_session"]:
        for column in ("created_at", "expires_at"):
            assert stored(row[column]) == stored(row[column]).replace(minute=0, second=0), column
    # The pace keeps only what it must: no owner-only signal, no one's own reasons.
    assert "urgency_gap" not in {row["kind"] for row in rows["pace_signal"]}
    for row in rows["pace_decision"]:
        decision = json.loads(row["data"])
        assert {r["audience"] for r in decision["reasons"]} <= {"couple"}
        assert decision["state"]["urgency"] == []


def stored(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value))
    assert moment.microsecond == 0
    return moment


def test_docs_privacy_lists_every_column_a_stolen_file_shows():
    section = DOCS.read_text().split("## What a stolen database file shows", 1)[1]
    section = section.split("\n## ", 1)[0]
    readable = {
        f"{table}.{column}"
        for table, columns in COLUMNS.items()
        for column, kind in columns.items()
        if kind.startswith("readable") or kind == PACE
    }
    named = re.findall(r"`([a-z_]+)\.([a-z_]+)`", section)
    listed = {f"{table}.{column}" for table, column in named if table in COLUMNS}
    assert listed == readable


def test_no_private_word_of_the_demo_is_in_the_file_or_its_wal(app, tmp_path):
    from reconnect.demo import DEMO_NOTES, NOTES

    database, _ = stolen_demo(app, tmp_path)
    private = [
        UNTOLD,
        "A song from that summer",  # a trigger told to the partner: under the couple key
        "I want us to be close again, right now.",
        "It went too fast. I had to leave the room.",
        "phq-9",  # which questionnaire was taken
        "gad-7",
        *(note for note in NOTES if note),
        *(text for notes in DEMO_NOTES.values() for _, _, text in notes),
    ]
    files = [Path(f"{database}{end}") for end in ("", "-wal")]
    assert files[1].exists(), "the WAL is checked too"
    for path in files:
        data = path.read_bytes()
        shown = [word for word in private if word.encode() in data]
        assert shown == [], f"{path.name} shows {shown}"


# --- rows from before migration 0010 ------------------------------------------------


def test_the_upgrade_removes_clear_screen_outcomes_and_coarsens_what_it_cannot_seal(tmp_path):
    from reconnect.database import current_revision, make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0009")
    future = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=5)
    with engine.begin() as db:
        db.exec_driver_sql(
            "INSERT INTO person (id, username, password_hash, created_at, kdf_salt, "
            "kdf_memory_kib, kdf_time_cost, kdf_parallelism, key_by_password, "
            "key_by_recovery, time_zone) VALUES "
            "(1, 'hana', 'x', '2026-01-01 00:00:00', x'00', 8, 1, 1, x'00', x'00', 'UTC')"
        )
        db.exec_driver_sql(
            "INSERT INTO safety_screen VALUES (1, '2026-01-02 09:13:14.000000', 1, NULL)"
        )
        db.exec_driver_sql(
            'INSERT INTO "trigger" (id, person_id, at, sealed, told_sealed) VALUES '
            "(1, 1, '2026-01-03 10:11:12.131415', x'00', NULL), "
            "(2, 1, '2026-01-03 10:11:12.131415', x'00', x'00')"
        )
        db.exec_driver_sql(
            "INSERT INTO heart_rate_import (person_id, imported_at, file_hash, first_at, "
            "last_at, sealed) VALUES (1, '2026-01-04 08:00:00', 'h', '2026-01-01 07:00:00', "
            "'2026-01-03 22:00:00', x'00')"
        )
        db.exec_driver_sql(
            "INSERT INTO auth_session VALUES ('ended', 1, 'api', '2026-01-01 09:15:00', "
            "'2026-01-01 21:15:00', x'00'), (?, 1, 'api', ?, ?, x'00')",
            ("live", future - timedelta(hours=12), future),
        )
    upgrade(engine, "0010")
    assert current_revision(engine) == "0010"
    with engine.connect() as db:
        assert db.exec_driver_sql("SELECT * FROM safety_screen").all() == []
        triggers = db.exec_driver_sql('SELECT id, at FROM "trigger" ORDER BY id').all()
        # Not told: kept until Hana's key seals it at her next sign-in. Told: to the minute.
        assert [str(at) for _, at in triggers] == [
            "2026-01-03 10:11:12.131415",
            "2026-01-03 10:11:00.000000",
        ]
        heart = db.exec_driver_sql("SELECT * FROM heart_rate_import").mappings().one()
        assert set(heart) == {"id", "person_id", "file_hash", "span_sealed", "sealed"}
        sessions = db.exec_driver_sql("SELECT token_hash, created_at, expires_at FROM auth_session")
        ((token, created, expires),) = sessions.all()
        assert token == "live"
        assert stored(created).minute == 0 and stored(expires).minute == 0
        assert stored(expires) >= future


def test_what_was_in_clear_is_sealed_at_the_owners_next_sign_in(people, app):
    import json

    from sqlalchemy import select

    from reconnect import keys
    from reconnect.accounts import auth
    from reconnect.measures import store as measures
    from reconnect.models import HeartRateImport, Person, QuestionnaireResponse, Trigger
    from reconnect.moments import store as moments
    from tests.conftest import PASSWORD

    hana = people.register("hana")
    answers = {str(n): 1 for n in range(1, 8)}
    assert hana.post("/api/v1/questionnaires/gad-7", {"answers": answers}).status_code == 201
    reading = {"at": "2026-01-06T09:00:00+00:00", "bpm": 72}
    assert hana.post("/api/v1/heart-rate", reading).status_code == 201
    before = {path: hana.get(path).json() for path in ("/api/v1/questionnaires/gad-7/history",)}
    # An untold trigger as an older version wrote it: its time in clear, not sealed.
    with app.state.reconnect.sessions() as db:
        person = db.scalars(select(Person)).one()
        key = auth.unlock_with_password(person, PASSWORD)
        taken = db.scalars(select(QuestionnaireResponse)).one()
        content = measures.opened(taken, key)
        taken.instrument_id = content.pop("instrument")
        taken.taken_at = datetime.fromisoformat(content.pop("taken_at"))
        taken.sealed = keys.seal(key, json.dumps(content).encode(), measures.context(taken))
        old = Trigger(person_id=person.id, at=datetime(2026, 1, 3, 10, 11, tzinfo=UTC), sealed=b"")
        db.add(old)
        db.flush()
        old.sealed = keys.seal(
            key,
            json.dumps({"what": "the old street", "strength": 4}).encode(),
            moments._trigger_context(old, told=False),
        )
        db.scalars(select(HeartRateImport)).one().span_sealed = None
        db.commit()
    assert (
        hana.get("/api/v1/questionnaires/gad-7/history").json()
        == before["/api/v1/questionnaires/gad-7/history"]
    )

    hana.token = people.login("hana")

    with app.state.reconnect.sessions() as db:
        taken = db.scalars(select(QuestionnaireResponse)).one()
        assert taken.instrument_id is None and taken.taken_at is None
        assert db.scalars(select(Trigger)).one().at is None
        assert db.scalars(select(HeartRateImport)).one().span_sealed is not None
    assert (
        hana.get("/api/v1/questionnaires/gad-7/history").json()
        == before["/api/v1/questionnaires/gad-7/history"]
    )
    (mine,) = hana.get("/api/v1/triggers").json()["mine"]
    assert mine["what"] == "the old street"
    assert mine["at"].startswith("2026-01-03T10:11:00")


def test_what_was_sealed_unpadded_is_padded_at_the_owners_next_sign_in(people, app):
    """Older versions sealed a screen outcome and questionnaire results at their own
    length: "true" is a byte shorter than "false", and a crisis flag longer than none."""
    import json

    from sqlalchemy import select

    from reconnect import keys
    from reconnect.accounts import auth
    from reconnect.measures import store as measures
    from reconnect.models import Person, QuestionnaireResponse, SafetyScreen
    from reconnect.safety import store as safety
    from tests.conftest import PASSWORD

    hana = people.register("hana")
    answers = {str(n): 1 for n in range(1, 8)}
    assert hana.post("/api/v1/questionnaires/gad-7", {"answers": answers}).status_code == 201
    history = hana.get("/api/v1/questionnaires/gad-7/history").json()
    with app.state.reconnect.sessions() as db:
        person = db.scalars(select(Person)).one()
        key = auth.unlock_with_password(person, PASSWORD)
        screen = db.get_one(SafetyScreen, person.id)
        context = safety.screen_context(person.id)
        outcome = keys.unseal(key, screen.sealed, context).rstrip()
        screen.sealed = keys.seal(key, outcome, context)
        taken = db.scalars(select(QuestionnaireResponse)).one()
        content = json.dumps(measures.opened(taken, key)).encode()
        taken.sealed = keys.seal(key, content, measures.context(taken))
        assert not keys.is_padded(screen.sealed) and not keys.is_padded(taken.sealed)
        db.commit()

    hana.token = people.login("hana")
    with app.state.reconnect.sessions() as db:
        screen = db.scalars(select(SafetyScreen)).one()
        taken = db.scalars(select(QuestionnaireResponse)).one()
        assert keys.is_padded(screen.sealed) and keys.is_padded(taken.sealed)
        assert keys.unseal(key, screen.sealed, context).rstrip() == outcome
    assert hana.get("/api/v1/questionnaires/gad-7/history").json() == history
    assert hana.post("/api/v1/couples", {"role": "hurt"}).status_code == 201, "screen still open"
