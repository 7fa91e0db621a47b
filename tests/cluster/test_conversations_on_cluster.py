"""The integration conversations (tests/integration/test_conversations.py)
against the cluster shape: two Rasa servers behind HAProxy, PostgreSQL
tracker store and billing database, Redis locks.  The ones that read the
SQLite tracker file directly, or lock Maria's identity (the drill after
these verifies her), stay in the make run suite."""
from __future__ import annotations

import pytest

from tests.integration import test_conversations as conversations


@pytest.fixture
def assistant(cluster_assistant):
    return cluster_assistant


test_maria_hears_her_balance_only_after_verifying = conversations.test_maria_hears_her_balance_only_after_verifying
test_verification_by_full_name_in_one_message = conversations.test_verification_by_full_name_in_one_message
test_a_credit_balance_is_said_as_a_credit = conversations.test_a_credit_balance_is_said_as_a_credit
test_the_client_comes_from_the_channel_and_limits_the_search = conversations.test_the_client_comes_from_the_channel_and_limits_the_search
test_odd_messages_get_a_polite_reply = conversations.test_odd_messages_get_a_polite_reply
test_small_talk_and_routing = conversations.test_small_talk_and_routing
test_a_question_while_verifying_costs_no_attempt_and_is_answered_once_verified = (
    conversations.test_a_question_while_verifying_costs_no_attempt_and_is_answered_once_verified)


def test_a_rest_turn_sent_again_with_its_idempotency_key_is_answered_once(cluster_assistant):
    import json

    import sqlalchemy as sa

    me = cluster_assistant.new_sender()
    body = json.dumps({"sender": me, "message": "whats my balance", "metadata": {"client": "riverside"}}).encode()
    first = cluster_assistant.rest(body, headers={"Idempotency-Key": "turn-1"})
    again = cluster_assistant.rest(body, headers={"Idempotency-Key": "turn-1"})
    assert first[0] == again[0] == 200 and first[1] == again[1] and "date of birth" in json.dumps(first[1])
    assert cluster_assistant.rest(body, headers={"Idempotency-Key": "no spaces allowed"})[0] == 400
    tracker = sa.create_engine(cluster_assistant.env["TRACKER_STORE_URL"], future=True)
    with tracker.connect() as conn:
        said = conn.execute(sa.text("SELECT count(*) FROM events WHERE type_name = 'user' AND sender_id = :s"), {"s": me}).scalar_one()
    tracker.dispose()
    assert said == 1
