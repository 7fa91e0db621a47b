"""The cached validator accepts and refuses exactly what Rasa's own check does."""
import asyncio

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


# each event type Rasa knows, as Rasa writes it, and ways an action server could get one wrong
def _every_event_type():
    from rasa.shared.core import events as e

    return [
        e.UserUttered("hi", {"name": "greet", "confidence": 0.9}, [{"entity": "amount", "value": "50", "start": 0, "end": 2}]),
        e.ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0), e.SlotSet("amount", 50),
        e.EntitiesAdded([{"entity": "amount", "value": "50", "start": 0, "end": 2}]), e.UserUtteranceReverted(),
        e.ActionReverted(), e.Restarted(), e.AllSlotsReset(), e.ReminderCancelled(), e.ConversationPaused(),
        e.ConversationResumed(), e.FollowupAction("action_listen"), e.StoryExported(), e.ActionExecutionRejected("x"),
        e.ActiveLoop("payment_form"), e.LoopInterrupted(True), e.SessionStarted(), e.BotUttered("hello", {"buttons": []}),
        e.AgentUttered("hi"), e.DefinePrevUserUtteredFeaturization(False),
    ]


def _replies():
    events = [event.as_dict() for event in _every_event_type()]
    replies = [{"events": [event], "responses": []} for event in events] + [{"events": events}]
    broken = [
        {**events[0], "text": 5}, {**events[1], "confidence": "high"}, {**events[2], "name": None},
        {"event": "slot", "value": 1}, {"event": "no such event"}, {"event": 7}, {**events[3], "entities": "amount"},
        {**events[-3], "timestamp": "now"}, {**events[1], "hide_rule_turn": "yes"}, "slot", None,
    ]
    replies += [{"events": [event]} for event in broken]
    replies += [{"events": events + [broken[0]]}, {"responses": "hi"}, {"responses": [1]}, {"events": None}, [], "reply"]
    return replies


@pytest.mark.parametrize("reply", _replies())
def test_the_per_type_check_agrees_with_rasas_schema(reply):
    from jsonschema import ValidationError as Invalid

    try:
        validate(reply, RemoteAction.action_response_format_spec())
        rasa_says = True
    except Invalid:
        rasa_says = False
    if rasa_says:
        assert validate_action_result(None, reply) is True
    else:
        with pytest.raises(ValidationError):
            validate_action_result(None, reply)


def test_some_replies_above_are_refused_and_some_accepted():
    verdicts = set()
    for reply in _replies():
        try:
            verdicts.add(validate_action_result(None, reply))
        except ValidationError:
            verdicts.add(False)
    assert verdicts == {True, False}


# --- issue 15, item 9: a failed or timed-out action call is retried once, then
# the patient hears it was our fault and is offered a person

class _Channel:
    @staticmethod
    def name():
        return "rest"


class _Nlg:
    async def generate(self, utter_action, tracker, output_channel, **kwargs):
        return {"text": f"<{utter_action}>"}


def _failing(times, error):
    calls = []

    async def original(self, output_channel, nlg, tracker, domain):
        calls.append(1)
        if len(calls) <= times:
            raise error
        return ["done"]
    return original, calls


def _run(original, monkeypatch):


    from bot import rasa_main
    monkeypatch.setattr(rasa_main, "_original_remote_run", original)
    action = RemoteAction("action_check_balance", None)
    return asyncio.run(rasa_main.run_remote_action(action, _Channel(), _Nlg(), None, None))


def test_a_failed_action_call_is_retried_once(monkeypatch):
    from rasa.shared.exceptions import RasaException

    original, calls = _failing(1, RasaException("connection refused"))
    assert _run(original, monkeypatch) == ["done"] and len(calls) == 2


def test_two_failures_say_so_and_offer_a_person(monkeypatch):
    from rasa.shared.core.events import BotUttered, SlotSet
    from rasa.shared.exceptions import RasaException

    original, calls = _failing(5, RasaException("500"))
    events = _run(original, monkeypatch)
    assert len(calls) == 2
    said = [e.text for e in events if isinstance(e, BotUttered)]
    assert said == ["<utter_action_failed>"]
    pending = next(e.value for e in events if isinstance(e, SlotSet) and e.key == "pending_confirmation")
    assert pending["kind"] == "handoff" and pending["asked_by"] == "action_check_balance"


def test_a_timed_out_call_counts_as_a_failure(monkeypatch):


    from rasa.shared.core.events import BotUttered

    from bot import rasa_main

    async def slow(self, output_channel, nlg, tracker, domain):
        await asyncio.sleep(5)

    monkeypatch.setattr(rasa_main, "ACTION_CALL_TIMEOUT", 0.05)
    events = _run(slow, monkeypatch)
    assert [e.text for e in events if isinstance(e, BotUttered)] == ["<utter_action_failed>"]


def test_a_rejection_is_not_a_failure(monkeypatch):
    from rasa.core.actions.action import ActionExecutionRejection

    original, calls = _failing(5, ActionExecutionRejection("validate_payment_form"))
    with pytest.raises(ActionExecutionRejection):
        _run(original, monkeypatch)
    assert len(calls) == 1


def test_a_refused_call_is_tried_again_after_a_pause_long_enough_for_a_restarted_proxy(monkeypatch):
    """HAProxy (the action servers' door in make cluster) restarted by its
    supervisor is back in about a second: a call refused in the meantime is
    tried again after ACTION_RETRY_PAUSE_SECONDS, not at once."""
    import time

    from rasa.shared.exceptions import RasaException

    monkeypatch.setenv("ACTION_RETRY_PAUSE_SECONDS", "0.3")
    moments = []
    original, calls = _failing(1, RasaException("Cannot connect to host 127.0.0.1:5055"))

    async def timed(self, output_channel, nlg, tracker, domain):
        moments.append(time.monotonic())
        return await original(self, output_channel, nlg, tracker, domain)

    assert _run(timed, monkeypatch) == ["done"] and len(calls) == 2
    assert moments[1] - moments[0] >= 0.3


# --- the language slots' mapping, run in the Rasa server: what the action server would say

def _conversation(*turns):
    """A tracker of the real domain after the patient turns (text, language found, metadata)."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load("bot/domain")
    tracker = DialogueStateTracker("patient-1", domain.slots)
    for text, found, metadata, slots in turns:
        tracker.update(UserUttered(text, {"name": "greet", "confidence": 0.9}, parse_data={"language": found}, metadata=metadata))
        for name, value in slots.items():
            tracker.update(SlotSet(name, value))
    return tracker, domain


@pytest.mark.parametrize("turns", [
    [("hola buenas tardes", {"detected": "es"}, {}, {})],
    [("hi", {"detected": "en"}, {}, {"language": "en", "language_source": "detected"}), ("quiero pagar", {"detected": "es"}, {}, {})],
    [("in spanish please", {"chosen": "es", "detected": "en"}, {}, {"language": "en", "language_source": "detected"})],
    [("hello", {}, {"language": "es"}, {})],
    [("bonjour", {"detected": "fr"}, {}, {})],
    [("ok", {}, {}, {"language": "es", "language_source": "chosen"})],
])
def test_the_language_mapping_in_the_rasa_server_sets_what_the_action_server_would(turns):
    from rasa.core.actions.action import ActionExtractSlots
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import EventVerbosity
    from rasa_sdk import Tracker

    from bot import rasa_main
    from bot.actions.language import ActionSetLanguage

    tracker, domain = _conversation(*turns)
    here = asyncio.run(rasa_main.run_slot_mapping_action(ActionExtractSlots(None), "action_set_language", None, None, tracker, domain))
    sdk = Tracker.from_dict(tracker.current_state(EventVerbosity.AFTER_RESTART))
    there = asyncio.run(ActionSetLanguage().run(None, sdk, {}))
    assert [(e.key, e.value) for e in here] == [(e["name"], e["value"]) for e in there]
    assert all(isinstance(e, SlotSet) for e in here)


def test_a_spanish_first_message_is_answered_in_spanish_without_calling_the_action_server():
    from rasa.core.actions.action import ActionExtractSlots

    from bot import rasa_main

    tracker, domain = _conversation(("hola buenas tardes", {"detected": "es"}, {}, {}))
    # no action endpoint at all: nothing is sent anywhere
    events = asyncio.run(rasa_main.run_slot_mapping_action(ActionExtractSlots(None), "action_set_language", None, None, tracker, domain))
    assert [(e.key, e.value) for e in events] == [("language", "es"), ("language_source", "detected")]


# --- look-ups Rasa repeats on every message, done once

from rasa.engine.graph import GraphComponent  # noqa: E402


class _Add(GraphComponent):
    """A graph component: its input plus its config's amount."""

    def __init__(self, amount):
        self.amount = amount

    @classmethod
    def create(cls, config, model_storage, resource, execution_context):
        return cls(config["amount"])

    def add(self, **values):
        return sum(values.values()) + self.amount


def _diamond(tmp_path):
    """input -> a -> (b, c) -> d: the graph's shared node is reached twice from d."""
    from rasa.engine.graph import ExecutionContext, GraphSchema, SchemaNode
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    node = lambda needs, amount, target=False: SchemaNode(needs=needs, uses=_Add, constructor_name="create", fn="add",
                                                         config={"amount": amount}, is_target=target)
    schema = GraphSchema({"a": node({"x": "number"}, 1), "b": node({"x": "a"}, 10), "c": node({"x": "a"}, 100),
                          "d": node({"x": "b", "y": "c"}, 1000, target=True)})
    return DaskGraphRunner(schema, LocalModelStorage(tmp_path), ExecutionContext(schema, "test"))


def test_the_graph_of_a_run_is_built_once_and_gives_what_rasa_gives(tmp_path, monkeypatch):
    from rasa.engine.graph import GraphSchema

    from bot import rasa_main

    runner = _diamond(tmp_path)
    runs = [(n, targets) for n in (1, 5) for targets in (None, ["b"])]
    rasas = [rasa_main._original_graph_run(runner, {"number": n}, targets) for n, targets in runs]
    walks = []
    walk = GraphSchema.minimal_graph_schema
    monkeypatch.setattr(GraphSchema, "minimal_graph_schema", lambda self, targets=None: walks.append(targets) or walk(self, targets))
    ours = [rasa_main.run_graph(runner, {"number": n}, targets) for n, targets in runs]
    assert ours == rasas
    assert ours[2] == {"d": (5 + 1 + 10) + (5 + 1 + 100) + 1000} and ours[3] == {"b": 16}
    assert walks == [["d"], ["b"]]  # once per set of targets, not once a run


def test_event_and_slot_types_are_found_as_rasa_finds_them_and_looked_up_once(monkeypatch):
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
    from rasa.shared.core.slots import FloatSlot, Slot, TextSlot

    from bot import rasa_main

    calls = []
    find_event = rasa_main._remembered(lambda name, *default: calls.append(name) or rasa_main._original_event_type(name, *default))
    look_up = find_event.__func__
    assert [look_up(n) for n in ("user", "slot", "action", "user")] == [UserUttered, SlotSet, ActionExecuted, UserUttered]
    assert calls == ["user", "slot", "action"]
    assert look_up("no-such-event", Event) is Event and look_up("no-such-event", Event) is Event
    assert calls.count("no-such-event") == 2  # a default is not remembered as the name's type
    with pytest.raises(ValueError):
        look_up("still-no-such-event")
    find_slot = rasa_main._remembered(rasa_main._original_slot_type).__func__
    assert (find_slot("text"), find_slot("float"), find_slot("text")) == (TextSlot, FloatSlot, TextSlot)
    assert Event.resolve_by_type("user") is UserUttered and Slot.resolve_by_type("text") is TextSlot


# --- the rule policy's look-up stops where no rule reaches: same keys as Rasa's

def _rule_cases():
    import json
    import random

    pick = random.Random(2026)
    actions = ["action_listen", "utter_greet", "payment_form", "action_confirm_payment", None]
    intents = ["greet", "make_payment", "affirm", None]

    def state(start=False):
        found = {}
        action = None if start else pick.choice(actions)
        if action:
            found["prev_action"] = {"action_name": action}
        intent = pick.choice(intents)
        if intent:
            found["user"] = {"intent": intent}
        if pick.random() < 0.3:
            found["active_loop"] = {"name": pick.choice(["payment_form", "should_not_be_set"])}
        if pick.random() < 0.3:
            # a rule's values come from JSON (lists), the conversation's are tuples; empty values never fail a rule
            found["slots"] = {"identity": pick.choice([(1.0,), [1.0], (0.0,), (), "should_not_be_set", 0.0])}
        if pick.random() < 0.2:
            found.setdefault("user", {})["entities"] = pick.choice([("amount",), ["amount"], ("amount", "date")])
        return found

    cases = []
    for _ in range(200):
        lookup = {}
        for _ in range(pick.randint(0, 60)):
            length = pick.randint(1, 5)
            rule = [state(start=(k == 0 and pick.random() < 0.3)) for k in range(length)]
            lookup[json.dumps(rule, sort_keys=True)] = "utter_greet"
        history = [state(start=(k == 0)) for k in range(pick.randint(0, 30))]
        cases.append((lookup, history))
    # a conversation whose every state is the rule's: all of it applies
    rule = [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]
    cases.append(({json.dumps(rule): "utter_greet"}, rule * 12))
    # a rule that wants no form, and a conversation whose form is marked "should not be set" (as in training)
    no_form = [{"prev_action": {"action_name": "action_listen"}, "active_loop": {"name": "should_not_be_set"}}]
    for loop in ("should_not_be_set", "payment_form", None):
        cases.append(({json.dumps(no_form): "utter_greet"},
                      [{"prev_action": {"action_name": "action_listen"}, **({"active_loop": {"name": loop}} if loop else {})}]))
    return cases


def test_the_shortened_rule_look_up_finds_what_rasas_finds():
    from rasa.core.policies.rule_policy import RulePolicy

    from bot import rasa_main

    policy = RulePolicy.__new__(RulePolicy)
    found = []
    for lookup, history in _rule_cases():
        ours = rasa_main.possible_rule_keys(policy, lookup, history)
        assert ours == rasa_main._original_possible_keys(policy, lookup, history)
        found.append(len(ours))
    # the cases are not trivial: some find no rule, some several
    assert 0 in found and max(found) > 2


# --- the policies' states of a conversation, computed once per tracker as it stands: what Rasa computes

def test_past_states_are_rasas_as_the_conversation_grows_and_callers_cannot_spoil_them():
    from rasa.shared.core import events as e
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot import rasa_main

    domain = Domain.load("bot/domain")
    tracker = DialogueStateTracker("patient-1", domain.slots)
    steps = [
        e.ActionExecuted("action_session_start"), e.SessionStarted(), e.ActionExecuted("action_listen"),
        e.UserUttered("i want to pay $1", {"name": "make_payment", "confidence": 0.9}, [{"entity": "amount", "value": "1"}]),
        e.SlotSet("payment_amount", "1.00"), e.ActionExecuted("utter_verification_intro", hide_rule_turn=True),
        e.ActionExecuted("verification_form", hide_rule_turn=True), e.ActiveLoop("verification_form"),
        e.SlotSet("requested_slot", "dob"), e.ActionExecuted("action_listen"),
        e.UserUttered("march 3 1985", {"name": "inform", "confidence": 0.9}), e.ActionExecuted("verification_form"),
        e.ActionReverted(), e.UserUtteranceReverted(), e.ActionExecuted("action_listen"),
        e.UserUttered("40012345", {"name": "inform", "confidence": 0.9}), e.SlotSet("identity", "verified"),
        e.ActionExecuted("verification_form"), e.ActiveLoop(None), e.ActionExecuted("action_after_verification"),
        e.FollowupAction("payment_form"), e.ActionExecuted("payment_form"), e.ActiveLoop("payment_form"),
        e.ActionExecuted("action_listen", hide_rule_turn=True), e.UserUttered("card", {"name": "inform", "confidence": 0.9}),
        e.ActionExecuted("payment_form", hide_rule_turn=True), e.SlotSet("identity", None), e.ActionExecuted("action_listen"),
        e.Restarted(), e.ActionExecuted("action_listen"), e.UserUttered("hi", {"name": "greet", "confidence": 1.0}),
    ]
    # how each policy asks: the rule policy for every state, the memoization policy without rule-only turns
    ways = [{}, {"omit_unset_slots": True},
            {"ignore_rule_only_turns": True, "rule_only_data": {"rule_only_slots": ["identity"], "rule_only_loops": []}},
            {"ignore_rule_only_turns": True, "rule_only_data": {"rule_only_slots": [], "rule_only_loops": ["verification_form"]}}]
    seen_lengths = set()
    for event in steps:
        tracker.update(event)
        for way in ways:
            expected = rasa_main._original_past_states(tracker, domain, **way)
            first = rasa_main.past_states(tracker, domain, **way)
            assert first == expected, way
            # Rasa's featurizer edits the last state it gets: the next caller still gets Rasa's states
            for state in first:
                for part in state.values():
                    part.clear()
            assert rasa_main.past_states(tracker, domain, **way) == expected
            seen_lengths.add(len(expected))
    assert len(seen_lengths) > 4  # the states changed as the conversation went on, reverts and restart included
    # asked once part way, then again after several more events at once (a revert, a form's step taken back)
    for cut in range(len(steps)):
        for more in (3, len(steps)):
            tracker = DialogueStateTracker("patient-1", domain.slots)
            for event in steps[:cut]:
                tracker.update(event)
            for way in ways:
                rasa_main.past_states(tracker, domain, **way)
            for event in steps[cut:cut + more]:
                tracker.update(event)
            for way in ways:
                assert rasa_main.past_states(tracker, domain, **way) == rasa_main._original_past_states(tracker, domain, **way)
