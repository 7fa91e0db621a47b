"""The cached validator accepts and refuses exactly what Rasa's own check does."""
import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot.rasa_main import validate_action_result

GOOD = {"events": [{"event": "slot", "name": "identity", "value": "verified"}], "responses": [{"response": "utter_verified"}]}
BAD = [{"events": "not a list"}, {"events": [{"no_event_key": 1}]}, {"events": [{"event": "slot", "timestamp": "yesterday"}]}]


def test_valid_replies_pass_both_checks():
    assert validate_action_result(None, GOOD) is True
    validate(GOOD, RemoteAction.action_response_format_spec())


@pytest.mark.parametrize("reply", BAD)
def test_invalid_replies_fail_both_checks(reply):
    with pytest.raises(ValidationError) as ours:
        validate_action_result(None, reply)
    with pytest.raises(ValidationError):
        validate(reply, RemoteAction.action_response_format_spec())
    assert "Failed to validate Action server response" in ours.value.message
