import datetime as dt

import pytest

from billing import db, identity

MARIA_DOB = dt.date(1985, 3, 3)


@pytest.mark.parametrize("answer", [
    {"account_number": "40012345"},
    {"account_number": "4001 2345"},
    {"full_name": "Maria Garcia"},
    {"full_name": "maria  GARCIA"},
    {"full_name": "María García"},
    {"full_name": "Garcia, Maria"},
    {"full_name": "Maria L. Garcia"},
])
def test_date_of_birth_and_account_or_name_verify(seeded_url, answer):
    with db.session_scope(seeded_url) as session:
        match = identity.verify(session, "riverside", MARIA_DOB, **answer)
    assert match is not None and match.patient_id == "p-maria-garcia"
    assert match.account_numbers == ("40012345",)


@pytest.mark.parametrize("client,dob,answer", [
    ("riverside", dt.date(1985, 3, 4), {"account_number": "40012345"}),   # wrong date of birth
    ("riverside", MARIA_DOB, {"account_number": "40023456"}),              # someone else's account
    ("riverside", MARIA_DOB, {"full_name": "Maria Lopez"}),
    ("riverside", MARIA_DOB, {"full_name": "Maria"}),                      # first name alone
    ("lakeside", MARIA_DOB, {"account_number": "40012345"}),               # another client's patient
    ("riverside", MARIA_DOB, {}),                                          # date of birth alone
    ("riverside", dt.date(1990, 2, 14), {"account_number": "40078901"}),   # Emily is lakeside's
])
def test_anything_less_than_a_full_match_verifies_nobody(seeded_url, client, dob, answer):
    with db.session_scope(seeded_url) as session:
        assert identity.verify(session, client, dob, **answer) is None


def test_attempts_are_recorded_without_the_answers(seeded_url):
    with db.session_scope(seeded_url) as session:
        identity.record_check(session, client_id="riverside", conversation_id="c1", outcome="no_match", channel="rest")
    import sqlalchemy as sa

    with db.get_engine(seeded_url).connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM identity_checks")).mappings().one()
    assert row["outcome"] == "no_match" and "1985" not in " ".join(str(v) for v in row.values())


# --- failures count per patient, across conversations and channels (DESIGN.md, Identity) ---

T0 = dt.datetime(2026, 12, 1, 9, 0)
WRONG_DOBS = [dt.date(1980, 1, d) for d in range(1, 29)]


def _guess(session, conversation, dob, failed_before=0, at=T0, channel="rest", client="riverside", **answer):
    answer = answer or {"account_number": "40012345"}
    return identity.check(session, client, dob, conversation_id=conversation, channel=channel,
                          failed_before=failed_before, max_attempts=3, now=at, **answer)


def _guess_in_conversations(session, senders, at=T0, **answer):
    """Three wrong dates of birth in each conversation, as an attacker would."""
    results = []
    for n, sender in enumerate(senders):
        for k in range(3):
            results.append(_guess(session, sender, WRONG_DOBS[(n * 3 + k) % len(WRONG_DOBS)], failed_before=k, at=at, **answer))
    return results


def test_one_conversation_is_locked_after_the_clients_attempts(seeded_url):
    with db.session_scope(seeded_url) as session:
        results = _guess_in_conversations(session, ["c1"])
    assert [(r.outcome, r.attempts, r.attempts_left) for r in results] == [("no_match", 1, 2), ("no_match", 2, 1), ("locked", 3, 0)]


def test_each_attempt_is_one_decision_the_bot_translates(seeded_url):
    with db.session_scope(seeded_url) as session:
        results = _guess_in_conversations(session, ["c1", "c2", "c3"]) + [_guess(session, "c4", WRONG_DOBS[0])]
        right = _guess(session, "c5", dt.date(1979, 11, 21), account_number="40023456")
    assert [(r.verified, r.lock) for r in results[:3]] == [(False, None), (False, None), (False, "conversation")]
    assert (results[-1].verified, results[-1].lock) == (False, "patient")
    assert (right.verified, right.lock, right.match.patient_id) == (True, None, right.match.patient_id)


def test_twelve_guesses_over_four_conversations_lock_the_patient_and_refuse_the_right_answer(seeded_url):
    with db.session_scope(seeded_url) as session:
        results = _guess_in_conversations(session, ["c1", "sms:riverside:+15550001", "c3", "c4"])
        # three times the client's attempts: the ninth failure locks the patient
        assert [r.outcome for r in results[:8]] == ["no_match", "no_match", "locked"] * 2 + ["no_match", "no_match"]
        assert all(r.outcome == "patient_locked" for r in results[8:])
        assert results[8].locked_until == T0 + dt.timedelta(hours=24)
        right = _guess(session, "c5", MARIA_DOB, at=T0 + dt.timedelta(hours=23))
        assert right.outcome == "patient_locked" and right.match is None
        # by name, on another channel, too
        by_name = _guess(session, "voice:CA1", MARIA_DOB, channel="twilio_voice", full_name="Maria Garcia")
        assert by_name.outcome == "patient_locked" and by_name.match is None
        # a refused attempt tells nothing: the same answer whether the date of birth is right or wrong
        assert _guess(session, "c6", WRONG_DOBS[0]).outcome == "patient_locked"
        # another patient is not locked
        assert _guess(session, "c7", dt.date(1979, 11, 21), account_number="40023456").outcome == "verified"


def test_the_lock_lasts_24_hours(seeded_url):
    with db.session_scope(seeded_url) as session:
        _guess_in_conversations(session, ["c1", "c2", "c3"])
        assert identity.patient_lock(session, "p-maria-garcia", now=T0 + dt.timedelta(hours=23, minutes=59)) is not None
        later = T0 + dt.timedelta(hours=24, minutes=1)
        assert identity.patient_lock(session, "p-maria-garcia", now=later) is None
        assert _guess(session, "c9", MARIA_DOB, at=later).outcome == "verified"


def test_failures_older_than_24_hours_do_not_count(seeded_url):
    with db.session_scope(seeded_url) as session:
        _guess_in_conversations(session, ["c1", "c2"], at=T0)
        results = _guess_in_conversations(session, ["c3", "c4"], at=T0 + dt.timedelta(hours=25))
        assert "patient_locked" not in [r.outcome for r in results]
        assert _guess(session, "c5", MARIA_DOB, at=T0 + dt.timedelta(hours=25)).outcome == "verified"


def test_the_clock_decides_when_no_time_is_given(seeded_url, monkeypatch):
    monkeypatch.setenv("SELFPAY_NOW", "2026-12-01T09:00:00Z")
    with db.session_scope(seeded_url) as session:
        for n, sender in enumerate(["c1", "c2", "c3"]):
            for k in range(3):
                identity.check(session, "riverside", WRONG_DOBS[n * 3 + k], account_number="40012345",
                               conversation_id=sender, failed_before=k, max_attempts=3)
        lock = identity.patient_lock(session, "p-maria-garcia")
        # the set clock runs on from 09:00 while the guesses are made
        assert lock is not None and dt.timedelta(0) <= lock.locked_until - dt.datetime(2026, 12, 2, 9, 0) < dt.timedelta(seconds=30)
        monkeypatch.setenv("SELFPAY_NOW", "2026-12-02T09:01:00Z")
        assert identity.patient_lock(session, "p-maria-garcia") is None


def test_a_failure_counts_against_the_patient_the_account_or_name_names(seeded_url):
    with db.session_scope(seeded_url) as session:
        # a wrong date of birth with Maria's name counts against Maria, like her account number
        _guess_in_conversations(session, ["c1", "c2"], full_name="Maria Garcia")
        _guess_in_conversations(session, ["c3"], account_number="4001-2345")
        assert identity.patient_lock(session, "p-maria-garcia", now=T0) is not None


def test_a_failure_that_names_nobody_counts_against_no_one(seeded_url):
    with db.session_scope(seeded_url) as session:
        # Maria's date of birth with an account or a name that is no one's: it names no patient
        # (thousands share a birthday), so only the conversation's own limit stops it
        results = _guess_in_conversations(session, [f"c{n}" for n in range(5)], account_number="49999999")
        results += _guess_in_conversations(session, [f"n{n}" for n in range(5)], full_name="Maria Lopez")
        assert "patient_locked" not in [r.outcome for r in results]
        # Maria's account number at another client names nobody there
        _guess_in_conversations(session, ["l1", "l2", "l3", "l4"], client="lakeside")
        assert identity.patient_lock(session, "p-maria-garcia", now=T0) is None
        assert _guess(session, "c9", MARIA_DOB).outcome == "verified"
        assert session.query(identity.IdentityFailure).count() == 0


def test_a_right_answer_before_the_lock_verifies_and_does_not_clear_the_count(seeded_url):
    with db.session_scope(seeded_url) as session:
        _guess_in_conversations(session, ["c1", "c2"])
        assert _guess(session, "c3", MARIA_DOB).outcome == "verified"
        # the attacker's guesses still count: one more conversation's worth locks
        results = _guess_in_conversations(session, ["c4"])
        assert results[-1].outcome == "patient_locked"


def test_a_partner_unlocks_with_a_note_and_the_count_starts_again(seeded_url):
    with db.session_scope(seeded_url) as session:
        _guess_in_conversations(session, ["c1", "c2", "c3"])
        with pytest.raises(identity.IdentityError) as refused:
            identity.unlock(session, "p-maria-garcia", actor="alex", note="  ", now=T0 + dt.timedelta(hours=1))
        assert refused.value.reason == "note_required"
        lock = identity.unlock(session, "p-maria-garcia", actor="alex", note="called back on the number on file",
                               now=T0 + dt.timedelta(hours=1))
        assert (lock.unlocked_by, lock.unlocked_at, lock.unlock_note) == ("alex", T0 + dt.timedelta(hours=1),
                                                                          "called back on the number on file")
        assert identity.patient_lock(session, "p-maria-garcia", now=T0 + dt.timedelta(hours=1)) is None
        # the failures before the unlock no longer count: one more wrong answer does not lock again
        after = T0 + dt.timedelta(hours=2)
        assert _guess(session, "c4", WRONG_DOBS[0], at=after).outcome == "no_match"
        assert _guess(session, "c5", MARIA_DOB, at=after).outcome == "verified"
        with pytest.raises(identity.IdentityError) as again:
            identity.unlock(session, "p-maria-garcia", actor="alex", note="again", now=after)
        assert again.value.reason == "not_locked"


def test_the_lock_is_described_for_the_desk(seeded_url):
    with db.session_scope(seeded_url) as session:
        assert identity.lock_view(session, "p-maria-garcia", now=T0) is None
        _guess_in_conversations(session, ["c1", "c2", "c3"])
        view = identity.lock_view(session, "p-maria-garcia", now=T0)
        assert view == {"locked_at": "2026-12-01T09:00:00Z", "locked_until": "2026-12-02T09:00:00Z", "failures": 9}


def test_per_patient_failures_keep_no_answers(seeded_url):
    with db.session_scope(seeded_url) as session:
        _guess_in_conversations(session, ["c1"])
    import sqlalchemy as sa

    with db.get_engine(seeded_url).connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM identity_failures")).mappings().all()
    assert len(rows) == 3 and {r["patient_id"] for r in rows} == {"p-maria-garcia"}
    assert "1980" not in " ".join(str(v) for r in rows for v in r.values())
