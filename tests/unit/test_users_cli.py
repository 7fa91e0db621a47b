"""`selfpay users add` on the default database."""
from __future__ import annotations

import io

from sqlalchemy import select

from billing import cli, db
from billing.models import StaffUser


def test_users_add_names_the_queues_an_agent_works(seeded_sqlite, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    assert cli.main(["users", "add", "rosa", "--role", "agent", "--name", "Rosa Diaz", "--password-stdin",
                     "--departments", "billing,disputes"]) == 0
    assert "added agent rosa (Rosa Diaz), working billing, disputes" in capsys.readouterr().out
    with db.session_scope() as session:
        assert session.execute(select(StaffUser.departments).where(StaffUser.username == "rosa")).scalar_one() == "billing disputes"


def test_an_unknown_queue_adds_nobody_and_says_which_there_are(seeded_sqlite, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    assert cli.main(["users", "add", "ben", "--role", "agent", "--password-stdin", "--departments", "pharmacy"]) == 1
    assert "the queues are billing" in capsys.readouterr().err
    with db.session_scope() as session:
        assert session.execute(select(StaffUser).where(StaffUser.username == "ben")).first() is None


def test_users_speak_the_languages_named_and_a_supervisor_can_change_them(seeded_sqlite, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    assert cli.main(["users", "add", "ines", "--role", "agent", "--password-stdin", "--languages", "es,en"]) == 0
    assert "speaking es, en" in capsys.readouterr().out
    assert cli.main(["users", "languages", "alex", "en,es"]) == 0
    assert "alex speaks en, es" in capsys.readouterr().out
    assert cli.main(["users", "languages", "alex", "fr"]) == 1
    assert "the languages are en, es" in capsys.readouterr().err
    with db.session_scope() as session:
        spoken = dict(session.execute(select(StaffUser.username, StaffUser.languages)
                                      .where(StaffUser.username.in_(["ines", "alex"]))).all())
    assert spoken == {"ines": "es en", "alex": "en es"}
