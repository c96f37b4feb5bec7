"""Private means private: the threat model of docs/privacy.md, one named test per line.

Hana is the hurt partner and Ivan the involved partner; Olga belongs to another
couple. A canary string is typed into every private field; it must never be
readable anywhere the attacker of each threat can look.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from reconnect import keys
from reconnect.accounts.signed_in import token_hash
from reconnect.backup import backup
from reconnect.cli import main
from reconnect.models import AuthSession, CheckInEntry, Membership, Person
from tests.conftest import PASSWORD
from tests.on_disk import assert_absent, sqlite_files
from tests.payloads import CALM, GOOD

CANARY = "CANARY-7f3a-never-on-disk"
NEW_PASSWORD = "another calm evening walk"


def write_private_everything(hana, ivan) -> dict[str, int]:
    """A check-in and a reflection from each partner, with the canary in every private field."""
    ids = {}
    for name, person in (("hana", hana), ("ivan", ivan)):
        checkin = person.post(
            "/api/v1/checkins",
            {**CALM, "note": f"{CANARY} {name} note", "body_signals": [f"{CANARY[:30]}"]},
        )
        assert checkin.status_code == 201, checkin.text
        ids[f"{name}_checkin"] = checkin.json()["id"]
    logged = hana.post(
        "/api/v1/experiences",
        {"practice_id": "walk-side-by-side", **GOOD, "note": f"{CANARY} hana reflection"},
    )
    assert logged.status_code == 201, logged.text
    ids["experience"] = logged.json()["id"]
    joined = ivan.post(
        "/api/v1/experiences",
        {"experience_id": ids["experience"], **GOOD, "note": f"{CANARY} ivan reflection"},
    )
    assert joined.status_code == 201, joined.text
    return ids


# --- threat 1: a copy of the database file, its WAL or a backup is stolen -------------


def test_threat_1_no_private_word_is_in_the_database_file_its_wal_or_a_backup(
    hana_and_ivan, app, tmp_path
):
    hana, ivan = hana_and_ivan
    write_private_everything(hana, ivan)
    files = sqlite_files(app)
    assert any(p.name.endswith("-wal") for p in files), "the WAL is part of the scan"
    copy = tmp_path / "stolen-backup.db"
    backup(files[0], copy)
    assert_absent(CANARY.encode(), *files, copy)
    # ...while the owner, signed in, reads every word back.
    assert CANARY in hana.get("/api/v1/checkins").json()[0]["note"]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_threat_1_no_private_word_is_in_a_postgresql_dump(
    backend, hana_and_ivan, settings, tmp_path
):
    hana, ivan = hana_and_ivan
    write_private_everything(hana, ivan)
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.fail("pg_dump is needed for this check (Debian package postgresql-client)")
    url = settings.database_url
    dump = subprocess.run(  # noqa: S603 - a fixed tool on a test database
        [pg_dump, "--data-only", url], capture_output=True, check=True, timeout=60
    ).stdout
    assert b"checkin" in dump
    assert CANARY.encode() not in dump


# --- threat 2: someone reads the disk but does not know the person's password -------


def test_threat_2_the_disk_alone_unlocks_nothing(hana_and_ivan, app):
    hana, ivan = hana_and_ivan
    write_private_everything(hana, ivan)
    with app.state.reconnect.sessions() as db:
        hana_row = db.scalar(select(Person).where(Person.username == "hana"))
        sessions = db.scalars(select(AuthSession)).all()
        # What is on disk: token hashes, wraps, salts, the app's secret key file.
        secret = app.state.reconnect.secret
        for row in sessions:
            for guess in (row.token_hash, secret):
                with pytest.raises(keys.SealBroken):
                    keys.unseal(
                        keys.token_key(guess), row.key_wrap, f"wrap:session:{row.token_hash}"
                    )
        with pytest.raises(keys.SealBroken):
            kek = keys.password_key(
                "password123456",
                hana_row.kdf_salt,
                keys.KdfParams(hana_row.kdf_memory_kib, hana_row.kdf_time_cost, 4),
            )
            keys.unseal(kek, hana_row.key_by_password, f"wrap:password:person:{hana_row.id}")


def test_private_entries_are_sealed_with_authenticated_encryption_per_owner(hana_and_ivan, app):
    hana, ivan = hana_and_ivan
    write_private_everything(hana, ivan)
    with app.state.reconnect.sessions() as db:
        rows = db.scalars(select(CheckInEntry)).all()
        assert len({row.person_id for row in rows}) == 2
        assert all(len(row.sealed) > 28 and CANARY.encode() not in row.sealed for row in rows)


def test_moving_a_sealed_entry_to_another_row_fails_loudly(people, app):
    hana = people.register("hana")
    first = hana.post("/api/v1/checkins", {**CALM, "note": "first"}).json()["id"]
    second = hana.post("/api/v1/checkins", {**CALM, "note": "second"}).json()["id"]
    with app.state.reconnect.sessions() as db:
        a, b = db.get(CheckInEntry, first), db.get(CheckInEntry, second)
        a.sealed, b.sealed = b.sealed, a.sealed
        db.commit()
    response = hana.get("/api/v1/checkins")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "entry_unreadable"


def test_a_flipped_bit_in_a_sealed_entry_fails_loudly(people, app):
    hana = people.register("hana")
    entry = hana.post("/api/v1/checkins", CALM).json()["id"]
    with app.state.reconnect.sessions() as db:
        row = db.get(CheckInEntry, entry)
        tampered = bytearray(row.sealed)
        tampered[-1] ^= 0x01
        row.sealed = bytes(tampered)
        db.commit()
    assert hana.get("/api/v1/checkins").json()["error"]["code"] == "entry_unreadable"


# --- threat 3: the partner uses the app normally -------------------------------------
# The access-control matrix (test_access_matrix.py), the byte-identical partner views
# (security/test_partner_view.py) and the privacy of pace explanations
# (tests/pacing/test_api.py) cover this threat; these add what is specific to entries.


def test_threat_3_the_partner_never_reads_the_other_partners_entries(hana_and_ivan):
    hana, ivan = hana_and_ivan
    write_private_everything(hana, ivan)
    for path in ("/api/v1/checkins", "/api/v1/export", "/api/v1/pace", "/api/v1/me"):
        text = ivan.get(path).text
        assert "hana note" not in text and "hana reflection" not in text, path


def test_an_export_holds_only_the_persons_own_words_opened(hana_and_ivan):
    hana, ivan = hana_and_ivan
    write_private_everything(hana, ivan)
    document = hana.get("/api/v1/export").json()
    assert document["format"] == "reconnect-export/1"
    assert [c["note"] for c in document["checkins"]] == [f"{CANARY} hana note"]
    assert [r["note"] for r in document["reflections"]] == [f"{CANARY} hana reflection"]
    assert "ivan note" not in json.dumps(document)
    archive = zipfile.ZipFile(io.BytesIO(hana.get("/api/v1/export?format=csv").content))
    assert set(archive.namelist()) == {
        "checkins.csv",
        "reflections.csv",
        "questionnaires.csv",
        "hard_dates.csv",
        "triggers.csv",
        "shared.csv",
        "commitments.csv",
        "letters.csv",
        "rituals.csv",
        "disclosure.csv",
        "about.json",
    }
    assert f"{CANARY} hana note" in archive.read("checkins.csv").decode()


def test_the_export_holds_questionnaires_triggers_and_what_one_shared_not_the_partners(
    hana_and_ivan,
):
    hana, ivan = hana_and_ivan
    gad7 = {str(n): 1 for n in range(1, 8)}
    assert hana.post("/api/v1/questionnaires/gad-7", {"answers": gad7}).status_code == 201
    told = {"what": f"{CANARY} a song in a shop", "strength": 6, "tell_partner": True}
    assert hana.post("/api/v1/triggers", told).status_code == 201
    assert (
        hana.post("/api/v1/status", {"status": "okay", "words": "hana's words"}).status_code == 201
    )
    assert hana.post("/api/v1/notes", {"text": "a note from hana"}).status_code == 201
    assert ivan.post("/api/v1/notes", {"text": "a note from ivan"}).status_code == 201
    document = hana.get("/api/v1/export").json()
    [taken] = document["questionnaires"]
    assert (taken["instrument"], taken["total"], taken["answers"]) == ("gad-7", 7, gad7)
    assert [(t["what"], t["strength"], t["told"]) for t in document["triggers"]] == [
        (f"{CANARY} a song in a shop", 6, True)
    ]
    assert [(s["kind"], s.get("words") or s.get("text")) for s in document["shared"]] == [
        ("status", "hana's words"),
        ("note", "a note from hana"),
    ]
    assert "a note from ivan" not in json.dumps(document), "the partner's words are theirs"
    assert CANARY not in ivan.get("/api/v1/export").text
    archive = zipfile.ZipFile(io.BytesIO(hana.get("/api/v1/export?format=csv").content))
    [row] = csv.DictReader(io.StringIO(archive.read("questionnaires.csv").decode()))
    assert json.loads(row["answers"]) == gad7 and row["total"] == "7"
    assert "a note from hana" in archive.read("shared.csv").decode()


FORMULAS = ['=HYPERLINK("http://x","open")', "+1+2", "-3+4", "@SUM(A1)", "\tx", "\rx"]


def test_the_csv_export_neutralises_formulas_and_the_json_keeps_them_as_typed(hana_and_ivan):
    hana, _ = hana_and_ivan
    for text in FORMULAS:
        assert hana.post("/api/v1/checkins", {**CALM, "note": text}).status_code == 201
    told = {"what": "=cmd|' /C calc'!A0", "strength": 5, "tell_partner": True}
    assert hana.post("/api/v1/triggers", told).status_code == 201
    assert hana.post("/api/v1/notes", {"text": "@partner read this"}).status_code == 201
    document = hana.get("/api/v1/export").json()
    assert [c["note"] for c in document["checkins"]] == FORMULAS, "JSON is unchanged"
    archive = zipfile.ZipFile(io.BytesIO(hana.get("/api/v1/export?format=csv").content))
    cells = {
        name: [cell for row in csv.reader(io.StringIO(archive.read(name).decode())) for cell in row]
        for name in ("checkins.csv", "triggers.csv", "shared.csv")
    }
    assert [c for c in cells["checkins.csv"] if c.lstrip("'") in FORMULAS] == [
        f"'{text}" for text in FORMULAS
    ]
    assert "'=cmd|' /C calc'!A0" in cells["triggers.csv"]
    assert "'@partner read this" in cells["shared.csv"]
    for name, found in cells.items():
        assert not [c for c in found if c[:1] in ("=", "+", "-", "@", "\t", "\r")], name


# --- keys: password change, recovery, fresh start, the couple key --------------------


def test_changing_the_password_rewraps_only_the_key(people, app):
    hana = people.register("hana")
    hana.post("/api/v1/checkins", {**CALM, "note": "kept exactly"})
    other_token = people.login("hana")
    with app.state.reconnect.sessions() as db:
        before = db.scalars(select(CheckInEntry.sealed)).all()
    changed = hana.post(
        "/api/v1/auth/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204
    with app.state.reconnect.sessions() as db:
        assert db.scalars(select(CheckInEntry.sealed)).all() == before  # byte-identical
    assert hana.get("/api/v1/checkins").json()[0]["note"] == "kept exactly"
    ended = hana.client.get("/api/v1/me", headers={"Authorization": f"Bearer {other_token}"})
    assert ended.status_code == 401, "other sign-ins end with a password change"
    login = hana.client.post("/api/v1/auth/login", json={"username": "hana", "password": PASSWORD})
    assert login.status_code == 401
    relogin = hana.client.post(
        "/api/v1/auth/login", json={"username": "hana", "password": NEW_PASSWORD}
    )
    token = relogin.json()["token"]
    notes = hana.client.get("/api/v1/checkins", headers={"Authorization": f"Bearer {token}"})
    assert notes.json()[0]["note"] == "kept exactly"


def test_a_wrong_current_password_changes_nothing(people):
    hana = people.register("hana")
    response = hana.post(
        "/api/v1/auth/password", {"current_password": "not it at all", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 403
    assert hana.get("/api/v1/me").status_code == 200


def test_the_recovery_key_sets_a_new_password_and_keeps_everything(client):
    created = client.post(
        "/api/v1/auth/register", json={"username": "hana", "password": PASSWORD}
    ).json()
    token = client.post(
        "/api/v1/auth/login", json={"username": "hana", "password": PASSWORD}
    ).json()["token"]
    auth_header = {"Authorization": f"Bearer {token}"}
    client.post("/api/v1/checkins", json={**CALM, "note": "still mine"}, headers=auth_header)
    recovered = client.post(
        "/api/v1/auth/recover",
        json={
            "username": "hana",
            "recovery_key": created["recovery_key"].lower(),
            "new_password": NEW_PASSWORD,
        },
    )
    assert recovered.status_code == 204
    assert client.get("/api/v1/me", headers=auth_header).status_code == 401
    token = client.post(
        "/api/v1/auth/login", json={"username": "hana", "password": NEW_PASSWORD}
    ).json()["token"]
    notes = client.get("/api/v1/checkins", headers={"Authorization": f"Bearer {token}"})
    assert notes.json()[0]["note"] == "still mine"


def test_without_the_recovery_key_the_person_starts_fresh_and_is_told_why(people, app, settings):
    hana = people.register("hana")
    hana.post("/api/v1/checkins", {**CALM, "note": "unreachable now"})
    result = CliRunner().invoke(
        main,
        [
            "reset-password",
            "--user",
            "hana",
            "--data-dir",
            str(settings.data_dir),
            "--database-url",
            settings.database_url,
        ],
        input=f"y\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "cannot be opened" in result.output
    assert "start fresh" in result.output
    token = hana.client.post(
        "/api/v1/auth/login", json={"username": "hana", "password": NEW_PASSWORD}
    ).json()["token"]
    notes = hana.client.get("/api/v1/checkins", headers={"Authorization": f"Bearer {token}"})
    assert notes.json() == []


def test_operators_export_a_person_only_with_that_persons_password(people, settings, tmp_path):
    hana = people.register("hana")
    hana.post("/api/v1/checkins", {**CALM, "note": "for my own records"})
    target = tmp_path / "hana.json"
    args = ["export", "--user", "hana", "--output", str(target)]
    args += ["--data-dir", str(settings.data_dir), "--database-url", settings.database_url]
    refused = CliRunner().invoke(main, args, input="not her password\n")
    assert refused.exit_code == 1 and not target.exists()
    done = CliRunner().invoke(main, args, input=f"{PASSWORD}\n")
    assert done.exit_code == 0, done.output
    assert json.loads(target.read_text())["checkins"][0]["note"] == "for my own records"


def test_both_partners_hold_the_same_couple_key_and_the_code_carries_it_once(people, app):
    hana, ivan = people.register("hana"), people.register("ivan")
    hana.post("/api/v1/couples", {"role": "hurt"})
    code = hana.post("/api/v1/couples/invites").json()["code"]
    ivan.post("/api/v1/couples/join", {"code": code, "role": "involved"})
    from reconnect.accounts.auth import session_for_token
    from reconnect.couples.store import couple_key_for
    from reconnect.models import Invite, utcnow

    with app.state.reconnect.sessions() as db:
        unlocked = [session_for_token(db, p.token, utcnow()) for p in (hana, ivan)]
        couple_keys = {
            couple_key_for(db.get(Membership, s.person.id), s.data_key) for s in unlocked
        }
        assert len(couple_keys) == 1
        assert db.scalar(select(Invite.couple_key_wrap)) is None, "a used code carries nothing"
        assert token_hash(hana.token) != hana.token


# --- people's rights: deletion and unlinking ----------------------------------------


def test_deleting_an_account_removes_the_persons_rows_and_key_wraps(hana_and_ivan, app):
    hana, ivan = hana_and_ivan
    ids = write_private_everything(hana, ivan)
    with app.state.reconnect.sessions() as db:
        hana_row = db.scalar(select(Person).where(Person.username == "hana"))
        wraps = [hana_row.key_by_password, hana_row.key_by_recovery]
        sealed = db.get(CheckInEntry, ids["hana_checkin"]).sealed
    deleted = hana.post("/api/v1/account/delete", {"password": PASSWORD})
    assert deleted.status_code == 204
    files = sqlite_files(app)
    for needle in (*wraps, sealed, b"hana", b"account:hana"):
        assert_absent(needle, *files)
    # Ivan keeps his own entries; the shared experience has left his view.
    assert ivan.get("/api/v1/checkins").json()[0]["id"] == ids["ivan_checkin"]
    assert ivan.get("/api/v1/couples/current").status_code == 404
    again = ivan.post("/api/v1/experiences", {"experience_id": ids["experience"], **GOOD})
    assert again.status_code == 404
    assert [r["note"] for r in ivan.get("/api/v1/export").json()["reflections"]] == [
        f"{CANARY} ivan reflection"
    ]


def test_either_partner_can_unlink_alone_and_shared_items_become_404(hana_and_ivan):
    hana, ivan = hana_and_ivan
    ids = write_private_everything(hana, ivan)
    assert ivan.post("/api/v1/couples/leave").status_code == 204
    for person in (hana, ivan):
        assert person.get("/api/v1/couples/current").status_code == 404
        assert person.get("/api/v1/pace").status_code == 409
        response = person.post("/api/v1/experiences", {"experience_id": ids["experience"], **GOOD})
        assert response.status_code == 404
    assert len(hana.get("/api/v1/checkins").json()) == 1


# --- optional two-step sign-in ----------------------------------------------------------


def test_two_step_sign_in_asks_for_the_code_once_turned_on(people, app):
    import pyotp

    hana = people.register("hana")
    fresh = hana.get("/api/v1/auth/totp/new").json()
    assert fresh["uri"].startswith("otpauth://totp/")
    wrong = hana.post("/api/v1/auth/totp", {"secret": fresh["secret"], "code": "000000"})
    assert wrong.status_code == 422
    code = pyotp.TOTP(fresh["secret"]).now()
    assert (
        hana.post("/api/v1/auth/totp", {"secret": fresh["secret"], "code": code}).status_code == 204
    )
    with app.state.reconnect.sessions() as db:
        stored = db.scalar(select(Person.totp_sealed))
        assert fresh["secret"].encode() not in stored, "the secret is sealed, not stored as is"
    login = {"username": "hana", "password": PASSWORD}
    without = hana.client.post("/api/v1/auth/login", json=login)
    assert without.status_code == 401
    assert without.json()["error"]["code"] == "second_step_needed"
    code = pyotp.TOTP(fresh["secret"]).now()
    with_code = hana.client.post("/api/v1/auth/login", json={**login, "totp": code})
    assert with_code.status_code == 200
    assert hana.post("/api/v1/auth/totp/disable", {"password": PASSWORD}).status_code == 204
    assert hana.client.post("/api/v1/auth/login", json=login).status_code == 200
