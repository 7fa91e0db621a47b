"""Session start: a fresh session, with the channel's client and nothing
carried over from an earlier session (verification never is)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from billing import identity
from bot.actions.common import client_values, conversation_client, session_scope


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        metadata = tracker.get_slot("session_started_metadata")
        with session_scope() as session:
            client = conversation_client(tracker, session, session_start=True)
            values = client_values(client)
            locked = identity.is_locked(session, client_id=client.id, conversation_id=tracker.sender_id)
        events: List[EventType] = [SessionStarted()]
        if metadata:
            events.append(SlotSet("session_started_metadata", metadata))
        events += [SlotSet(name, value) for name, value in values.items()]
        if locked:
            events.append(SlotSet("identity", "locked"))
        events.append(ActionExecuted("action_listen"))
        return events
