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
