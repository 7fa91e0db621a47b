"""The Rasa command line with one performance fix.

Rasa 3.6 checks every action-server reply with ``jsonschema.validate``,
which first re-validates Rasa's own response schema against the JSON
Schema meta-schema, on every call.  Profiled under `make bench`, that was
half of the Rasa server's CPU.  Here the same schema validates the same
replies with a validator built once; a reply Rasa would refuse is still
refused with Rasa's message.
Usage: python -m bot.rasa_main <rasa arguments>
"""
from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any, Dict

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def _reply_validator():
    schema = RemoteAction.action_response_format_spec()
    return validator_for(schema)(schema)


def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    try:
        _reply_validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e


def follow_the_clock() -> None:
    """With SELFPAY_NOW set, Rasa's own timestamps (events, the session's
    idle time, locks) come from billing.clock, as every other process's."""
    import os
    import time

    from billing import clock

    if os.environ.get(clock.ENV, "").strip():
        clock.now_aware()  # a malformed value stops the server here, with its message
        time.time = clock.timestamp


def apply() -> None:
    RemoteAction._validate_action_result = validate_action_result
    follow_the_clock()


def main() -> None:
    apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
