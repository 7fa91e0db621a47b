"""The desk's conversations come through Rasa's event broker (make run's
shape: Rasa's SQL broker, its own database; desk/projection.py), with the
real servers: what a patient says shows in the desk's listing and
transcript; a feed stopped while conversations go on catches up with
every event Rasa has; a card number split over two messages is nowhere in
the desk's tables."""
from __future__ import annotations

import json
import re
import urllib.parse

import pytest
from sqlalchemy import create_engine, select, text

from billing import db
from billing.models import DeskConversation, DeskConversationEvent
from desk import projection
from tests.integration.helpers import call, login


@pytest.fixture(scope="module")
def sam(assistant):
    return login(assistant, "sam", "sam-demo-pass")


def broker_url(assistant) -> str:
    return assistant.env["EVENT_BROKER_URL"]


def tracker(assistant, sender):
    return assistant.api("GET", f"/conversations/{urllib.parse.quote(sender, safe='')}/tracker")


def test_what_a_patient_says_reaches_the_desk_through_rasas_sql_broker(assistant, sam):
    sender = assistant.new_sender()
    assistant.say(sender, "hi")
    assistant.say(sender, "what is my balance")

    # Rasa's SQL broker wrote the conversation to its own database, not the tracker store's
    assert broker_url(assistant) != assistant.env["TRACKER_STORE_URL"]
    engine = create_engine(broker_url(assistant))
    with engine.connect() as connection:
        published = connection.execute(text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}).all()
    engine.dispose()
    assert [json.loads(r.data)["event"] for r in published].count("user") == 2

    status, listing, _ = call(assistant, "GET", "/api/conversations", token=sam)
    assert status == 200
    mine = [c for c in listing["conversations"] if c["id"] == sender]
    assert len(mine) == 1 and mine[0]["client"] == "riverside" and mine[0]["channel"] == "rest"
    assert mine[0]["patient_turns"] == 2 and "check_balance" in mine[0]["intents"]

    status, view, _ = call(assistant, "GET", f"/api/conversations/{urllib.parse.quote(sender, safe='')}", token=sam)
    assert status == 200
    assert [line["text"] for line in view["transcript"] if line["from"] == "patient"] == ["hi", "what is my balance"]
    with db.session_scope(assistant.database) as session:
        kept = session.execute(select(DeskConversationEvent).where(DeskConversationEvent.conversation_id == sender)).scalars().all()
    assert len(kept) == len(tracker(assistant, sender)["events"])


def test_a_feed_stopped_while_conversations_go_on_catches_up_with_nothing_lost(assistant, tmp_path):
    # a feed of its own, into a billing database of its own, over the running assistant's broker
    mine = f"sqlite:///{tmp_path / 'desk.db'}"
    db.migrate(mine)
    first, second = assistant.new_sender(), assistant.new_sender()
    assistant.say(first, "hi")
    projection.drain_sql(broker_url(assistant), mine)

    # the feed is stopped: both conversations go on
    assistant.say(first, "I want to make a payment")
    assistant.say(second, "hello")
    assistant.say(second, "can I set up a payment plan")
    assert projection.sql_behind(broker_url(assistant), mine)

    projection.drain_sql(broker_url(assistant), mine)  # started again
    assert not projection.sql_behind(broker_url(assistant), mine)
    with db.session_scope(mine) as session:
        for sender in (first, second):
            kept = projection.conversation_events(session, sender)
            rasa = tracker(assistant, sender)["events"]
            assert [(e["event"], e["timestamp"]) for e in kept] == [(e["event"], e["timestamp"]) for e in rasa]
        assert session.get(DeskConversation, second).patient_turns == 2
    # started once more with nothing new: nothing doubles
    projection.drain_sql(broker_url(assistant), mine)
    with db.session_scope(mine) as session:
        assert len(projection.conversation_events(session, first)) == len(tracker(assistant, first)["events"])
    db.get_engine(mine).dispose()


def test_a_card_number_split_over_two_messages_is_nowhere_in_the_desk_tables(assistant, sam):
    sender = assistant.new_sender()
    assistant.say(sender, "I want to pay my bill")
    assistant.say(sender, "4242 4242")
    assistant.say(sender, "4242 4242")

    status, view, _ = call(assistant, "GET", f"/api/conversations/{urllib.parse.quote(sender, safe='')}", token=sam)
    assert status == 200
    said = [line["text"] for line in view["transcript"] if line["from"] == "patient"]
    assert said[1:] == ["[part of card ending 4242]", "[card ending 4242]"]
    with db.session_scope(assistant.database) as session:
        stored = json.dumps([e.data for e in session.execute(
            select(DeskConversationEvent).where(DeskConversationEvent.conversation_id == sender)).scalars()])
        row = session.get(DeskConversation, sender)
        stored += json.dumps([row.intents, row.actions])
    assert not re.search(r"4242\D{0,3}4242", stored)


def test_events_the_broker_never_delivered_are_caught_up_from_rasas_http_api(assistant, tmp_path, monkeypatch):
    """What a Rasa server that died holding unpublished RabbitMQ messages
    leaves behind: events in Rasa's tracker the desk never got.  The feed
    reads them through Rasa's HTTP API, never the tracker tables."""
    mine = f"sqlite:///{tmp_path / 'desk.db'}"
    db.migrate(mine)
    sender = assistant.new_sender()
    assistant.say(sender, "hi")
    projection.drain_sql(broker_url(assistant), mine)
    assistant.say(sender, "what is my balance")  # never delivered to this desk: it reads no broker now
    monkeypatch.setenv("RASA_URL", assistant.base)
    monkeypatch.setenv("RASA_TOKEN", assistant.env["RASA_TOKEN"])

    assert projection.reconcile([sender], mine) > 0
    assert projection.reconcile([sender], mine) == 0  # nothing doubles
    with db.session_scope(mine) as session:
        kept = projection.conversation_events(session, sender)
        assert session.get(DeskConversation, sender).patient_turns == 2
    assert [(e["event"], e["timestamp"]) for e in kept] == [(e["event"], e["timestamp"]) for e in tracker(assistant, sender)["events"]]
    db.get_engine(mine).dispose()
