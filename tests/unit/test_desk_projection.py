"""The desk's conversation tables fed by Rasa's SQL event broker
(desk/projection.py): events Rasa's own SQLEventBroker wrote reach the
desk's tables in order, a replay doubles nothing, a feed stopped while
conversations go on catches up with nothing lost, and no card number is
kept, also one split over two messages."""
from __future__ import annotations

import json
import re

import pytest
from rasa.core.brokers.sql import SQLEventBroker
from sqlalchemy import select, update

from billing import db
from billing.models import DeskConversation, DeskConversationEvent, DeskProjectionMark
from desk import projection

BASE = 1_764_342_000.0  # 2025-11-28T15:00:00Z, epoch seconds as Rasa stamps events
CARD = "4242 4242 4242 4242"


def user(text, ts, intent="inform", message_id=None, **metadata):
    return {"event": "user", "timestamp": ts, "text": text, "message_id": message_id or f"m{ts}",
            "input_channel": "rest", "metadata": {"client": "riverside", **metadata},
            "parse_data": {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}}


def bot(text, ts):
    return {"event": "bot", "timestamp": ts, "text": text, "data": {}, "metadata": {}}


def action(name, ts):
    return {"event": "action", "timestamp": ts, "name": name, "policy": "RulePolicy", "confidence": 1.0}


@pytest.fixture
def broker(tmp_path):
    """Rasa's own SQL event broker on a database of its own."""
    url = f"sqlite:///{tmp_path / 'events.db'}"
    rasa_broker = SQLEventBroker(host=url)

    def publish(sender, *events):
        for event in events:
            rasa_broker.publish({"sender_id": sender, **event})

    publish.url = url
    yield publish
    rasa_broker.engine.dispose()


def kept(db_url, conversation_id):
    with db.session_scope(db_url) as session:
        return projection.conversation_events(session, conversation_id)


def summary(db_url, conversation_id):
    with db.session_scope(db_url) as session:
        return session.get(DeskConversation, conversation_id)


def test_events_rasas_sql_broker_wrote_reach_the_desk_tables_in_order(db_url, broker):
    broker("rest-alice-01", action("action_session_start", BASE), user("what do I owe", BASE + 1, "check_balance", language="es"),
           action("action_check_balance", BASE + 2), bot("Please verify first.", BASE + 3))
    broker("rest-bob-0002", user("stop texting me", BASE + 5, "opt_out"))

    assert projection.drain_sql(broker.url, db_url) == 5

    alice = kept(db_url, "rest-alice-01")
    assert [e["event"] for e in alice] == ["action", "user", "action", "bot"]
    row = summary(db_url, "rest-alice-01")
    assert (row.client_id, row.channel, row.language, row.patient_turns) == ("riverside", "rest", "es", 1)
    assert row.intents == ["check_balance"] and row.started_at == BASE and row.last_at == BASE + 3
    assert row.detail_before_verification == 1  # a balance before verification: the QA flag's fact
    bob = summary(db_url, "rest-bob-0002")
    assert bob.intents == ["opt_out"] and bob.opt_out_honoured is False
    assert not projection.sql_behind(broker.url, db_url)


def test_a_replayed_batch_does_not_double_a_conversations_events(db_url, broker):
    events = [user("hi", BASE + 1, "greet"), bot("Hello!", BASE + 2), action("action_listen", BASE + 3)]
    broker("rest-replay-01", *events)
    projection.drain_sql(broker.url, db_url)
    # the mark lost (a crash before it was kept): the whole broker is read again
    with db.session_scope(db_url) as session:
        session.execute(update(DeskProjectionMark).values(position=0))
    assert projection.drain_sql(broker.url, db_url) == 3
    # and the same events delivered once more by another road (RabbitMQ's redelivery, Rasa's HTTP API)
    with db.session_scope(db_url) as session:
        assert projection.project_batch(session, [{"sender_id": "rest-replay-01", **e} for e in events]) == 0

    assert [e["text"] for e in kept(db_url, "rest-replay-01") if e["event"] != "action"] == ["hi", "Hello!"]
    assert summary(db_url, "rest-replay-01").events == 3


def test_a_feed_stopped_while_conversations_go_on_catches_up_with_nothing_lost(db_url, broker):
    broker("rest-early-001", user("hi", BASE, "greet"))
    projection.drain_sql(broker.url, db_url)
    # the feed is down: conversations go on, more than one batch of them
    for n in range(projection.BATCH + 20):
        broker(f"rest-later-{n:04d}", user(f"question {n}", BASE + 10 + n, "check_balance"))
    broker("rest-early-001", user("still there?", BASE + 9_000, "inform"))
    assert projection.sql_behind(broker.url, db_url)

    assert projection.drain_sql(broker.url, db_url) == projection.BATCH + 21

    with db.session_scope(db_url) as session:
        assert session.execute(select(DeskConversation).where(DeskConversation.id.like("rest-later-%"))).scalars().all().__len__() \
            == projection.BATCH + 20
    assert [e["text"] for e in kept(db_url, "rest-early-001")] == ["hi", "still there?"]
    assert summary(db_url, "rest-early-001").patient_turns == 2


def test_bad_rows_in_the_broker_are_skipped_and_the_rest_projected(db_url, broker, tmp_path):
    from sqlalchemy import create_engine, text

    broker("rest-good-0001", user("hi", BASE, "greet"))
    engine = create_engine(broker.url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO events (sender_id, data) VALUES ('rest-bad', 'not json'), ('rest-bad', '[1, 2]')"))
    engine.dispose()
    broker("rest-good-0001", bot("Hello!", BASE + 1))

    assert projection.drain_sql(broker.url, db_url) == 4
    assert [e["event"] for e in kept(db_url, "rest-good-0001")] == ["user", "bot"]
    assert kept(db_url, "rest-bad") == []


def _everything(db_url) -> str:
    with db.session_scope(db_url) as session:
        events = [json.dumps(e.data) for e in session.execute(select(DeskConversationEvent)).scalars()]
        rows = [json.dumps([c.intents, c.actions, c.id]) for c in session.execute(select(DeskConversation)).scalars()]
    return "\n".join(events + rows)


def test_no_card_number_is_kept_also_one_split_over_two_raw_messages(db_url, broker):
    # the channel's buffer was lost (another instance, a restart): both halves reached Rasa as typed
    broker("rest-split-raw", user("4242 4242", BASE + 1), bot("Sorry, I didn't get that.", BASE + 2),
           user("4242 4242", BASE + 20, message_id="second"),
           user(f"my card is {CARD}", BASE + 40, message_id="whole"))
    projection.drain_sql(broker.url, db_url)

    stored = _everything(db_url)
    assert not re.search(r"4242\D{0,3}4242", stored)
    texts = [e["text"] for e in kept(db_url, "rest-split-raw") if e["event"] == "user"]
    assert texts == ["[part of card ending 4242]", "[card ending 4242]", "my card is [card ending 4242]"]


def test_the_earlier_part_of_a_number_the_channel_joined_is_masked_too(db_url, broker):
    # connectors/text.py joined the halves: Rasa got "[card ending 4242]" second, and masked the
    # first half in the tracker store only after the broker had published it as typed
    broker("rest-split-chan", user("4242 4242", BASE + 1), user("[card ending 4242]", BASE + 15),
           user("my zip is 02139", BASE + 30), user("[card ending 4242]", BASE + 40))
    projection.drain_sql(broker.url, db_url)

    texts = [e["text"] for e in kept(db_url, "rest-split-chan") if e["event"] == "user"]
    assert texts == ["[part of card ending 4242]", "[card ending 4242]", "my zip is 02139", "[card ending 4242]"]
    assert "4242 4242" not in _everything(db_url)


def test_a_split_number_slower_than_two_minutes_is_two_numbers(db_url, broker):
    broker("rest-slow-0001", user("4242 4242", BASE), user("4242 4242", BASE + 600, message_id="late"))
    projection.drain_sql(broker.url, db_url)
    assert [e["text"] for e in kept(db_url, "rest-slow-0001")] == ["4242 4242", "4242 4242"]


def test_outreach_replies_are_counted_per_attempt(db_url, broker):
    broker("sms:riverside:+15550101001", user("yes", BASE, "affirm", outreach={"attempt": 7}),
           user("pay now", BASE + 5, "make_payment", outreach={"attempt": 7}), user("hello", BASE + 9, "greet"))
    projection.drain_sql(broker.url, db_url)
    with db.session_scope(db_url) as session:
        attempts = [e.outreach_attempt for e in session.execute(select(DeskConversationEvent)).scalars()]
    assert sorted(a for a in attempts if a) == [7, 7]
