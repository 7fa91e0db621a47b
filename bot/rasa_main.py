"""The Rasa command line with performance fixes and honest failures.

Rasa 3.6 checks every action-server reply with ``jsonschema.validate``,
which first re-validates Rasa's own response schema against the JSON
Schema meta-schema, on every call.  Profiled under `make bench`, that was
half of the Rasa server's CPU.  Here the same schema validates the same
replies with validators built once, each event against the one branch of
the schema its type names (not all 23 in turn: a tenth of the server's
CPU on payment turns); a reply Rasa would refuse is still refused with
Rasa's message.

A call to the action server that fails (refused, 5xx, or no answer
within ACTION_CALL_TIMEOUT_SECONDS) is tried once more; one refused or cut
off is tried after ACTION_RETRY_PAUSE_SECONDS, time for a restarted HAProxy
(make cluster's door to the action servers) to be back.  Rasa 3.6 itself
logs the error and goes on as if the action had done nothing, so the
patient got "Sorry, I didn't understand that".  After a second failure
the patient hears that something went wrong on our side and is offered a
person (utter_action_failed); the offer is a pending confirmation, so a
yes hands off (bot/actions/confirm.py) with what they asked in the
summary.  Calls are idempotent where money moves (the confirmation's
idempotency key), so the retry never charges twice.
The conversation's language is set after every patient message by the
``language`` slots' custom mapping (bot/actions/language.py).  Rasa would
call the action server for it on every turn, the whole tracker sent over
HTTP to read two slots and the message's language; here the same function
runs in the Rasa server (``action_set_language`` stays on the action server
for anything that calls it by name).
An action call's body is written by ujson (EndpointConfig.session), and
once the agent is up one message is parsed (what NLU loads lazily is
loaded before the first patient: about a second on that turn) and what the
model loaded is frozen out of the garbage collector's walks
(load_agent_then_freeze).
The rule policy stops filtering its rules once the conversation's history
is longer than every rule left (Rasa went on to the conversation's start,
a tenth of the server's CPU on payment turns, more as a conversation
grows).
A patient message's parse (NLU) runs in a process of its own on the
other core (bot/nlu_process.py; NLU_PROCESS=0: on a thread of the server).
Two look-ups Rasa repeats on every message are done once: the part of the
model's graph a run needs (Rasa walks the graph from its targets again on
every parse and every prediction, revisiting shared nodes: about 4 ms a
voice webhook), and the class of an event or slot type (Rasa walks every
subclass of Event for each event it reads: every event of a conversation
on each retrieve, and each one an action sends back).
Usage: python -m bot.rasa_main <rasa arguments>
"""
from __future__ import annotations

import asyncio
import copy
import gc
import logging
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, Dict, List

import aiohttp
import dask
import ujson
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import ActionExecutionRejection, ActionExtractSlots, RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.core.events import ActionExecuted, SlotSet
from rasa.shared.exceptions import RasaException
from rasa.core import run as rasa_run
from rasa.engine.exceptions import GraphRunError
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import Event
from rasa.shared.core.slots import Slot
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

from bot.actions import language as conversation_language
from selfpay import settings

logger = logging.getLogger(__name__)

# the action server's own answer takes well under a second; Twilio gives a
# whole webhook 15 s, so two tries must fit well inside that
ACTION_CALL_TIMEOUT = float(settings.get("ACTION_CALL_TIMEOUT_SECONDS"))
FAILED_RESPONSE = "utter_action_failed"
_original_remote_run = RemoteAction.run
_original_load_agent_on_start = rasa_run.load_agent_on_start
_original_slot_mapping_action = ActionExtractSlots._run_custom_action
_original_event_type = Event.resolve_by_type
_original_graph_run = DaskGraphRunner.run
_original_slot_type = Slot.resolve_by_type
_original_possible_keys = RulePolicy._get_possible_keys
_original_parse_message = MessageProcessor.parse_message
_original_past_states = DialogueStateTracker.past_states
# custom slot mappings' actions the Rasa server runs itself: name -> f(rasa_sdk-shaped tracker) -> rasa_sdk events
IN_PROCESS_MAPPINGS = {"action_set_language": conversation_language.after_message}


@lru_cache(maxsize=1)
def _reply_validator():
    schema = RemoteAction.action_response_format_spec()
    return validator_for(schema)(schema)


@lru_cache(maxsize=1)
def _reply_checks():
    """Rasa's reply schema taken apart: the reply with each event checked only against what every event
    must be, and one schema per event type.  Rasa's schema has an event match exactly one of 23 branches
    (``oneOf``), each fixing ``event`` to its own constant, so jsonschema tried every branch on every event;
    an event is valid under it exactly when it is valid under the branch its ``event`` names."""
    schema = copy.deepcopy(RemoteAction.action_response_format_spec())
    items = schema["properties"]["events"]["items"]
    branches = items.pop("oneOf")
    by_type = {}
    for branch in branches:
        name = branch["properties"]["event"]["const"]
        by_type[name] = validator_for(branch)(branch)
    return validator_for(schema)(schema), by_type


def _reply_is_valid(result: Any) -> bool:
    reply, by_type = _reply_checks()
    if not reply.is_valid(result):
        return False
    for event in result.get("events") or ():
        branch = by_type.get(event["event"])
        if branch is None or not branch.is_valid(event):
            return False
    return True


def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """Rasa's check of an action server's reply; one it refuses is refused with its own message."""
    if _reply_is_valid(result):
        return True
    try:
        _reply_validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e


async def run_remote_action(self: RemoteAction, output_channel, nlg, tracker, domain) -> List[Any]:
    """RemoteAction.run, tried twice; then our failure, said honestly."""
    for attempt in (1, 2):
        try:
            return await asyncio.wait_for(_original_remote_run(self, output_channel, nlg, tracker, domain), ACTION_CALL_TIMEOUT)
        except ActionExecutionRejection:
            raise  # a form's "not this slot": Rasa's own flow, not a failure
        except (RasaException, asyncio.TimeoutError, OSError) as error:
            logger.warning("action %s failed (try %d of 2): %s", self.name(), attempt, error or type(error).__name__)
            if attempt == 1 and not isinstance(error, asyncio.TimeoutError):
                # refused or cut off: the action servers' door (HAProxy in make cluster) may be restarting
                await asyncio.sleep(float(settings.get("ACTION_RETRY_PAUSE_SECONDS")))
    said = await self._utter_responses([{"response": FAILED_RESPONSE}], output_channel, nlg, tracker)
    offer = {"kind": "handoff", "asked_by": self.name(), "id": uuid.uuid4().hex[:16], "failed_action": self.name()}
    return said + [SlotSet("pending_confirmation", offer)]


class _SdkView:
    """What a slot-mapping function reads of a conversation, as rasa_sdk's Tracker offers it."""

    def __init__(self, tracker) -> None:
        self._tracker = tracker
        self.latest_message = tracker._latest_message_data() or {}

    def get_slot(self, name: str):
        return self._tracker.get_slot(name)


async def run_slot_mapping_action(self, custom_action, output_channel, nlg, tracker, domain) -> List[Any]:
    """ActionExtractSlots._run_custom_action: the mappings of IN_PROCESS_MAPPINGS here, the rest on the action server."""
    if custom_action not in IN_PROCESS_MAPPINGS:
        return await _original_slot_mapping_action(self, custom_action, output_channel, nlg, tracker, domain)
    said = IN_PROCESS_MAPPINGS[custom_action](_SdkView(tracker))
    return [SlotSet(event["name"], event.get("value")) for event in said if event.get("event") == "slot"]


def follow_the_clock() -> None:
    """With SELFPAY_NOW set, Rasa's own timestamps (events, the session's
    idle time, locks) come from billing.clock, as every other process's."""
    import os
    import time

    from billing import clock

    if os.environ.get(clock.ENV, "").strip():
        clock.now_aware()  # a malformed value stops the server here, with its message
        time.time = clock.timestamp


def endpoint_session(self: EndpointConfig) -> aiohttp.ClientSession:
    """EndpointConfig.session with the request body written by ujson: an action call carries the
    conversation's every event, several times a turn, and the standard library's encoder took 8 ms of them."""
    auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
    return aiohttp.ClientSession(headers=self.headers, auth=auth, json_serialize=ujson.dumps,
                                 timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT))


def run_graph(self: DaskGraphRunner, inputs=None, targets=None) -> Dict[str, Any]:
    """DaskGraphRunner.run with the graph of each set of targets built once (the schema is the loaded
    model's and never changes); each run gets its own copy, since the inputs are added to it."""
    run_targets = targets if targets else self._graph_schema.target_names
    built, key = self.__dict__.setdefault("_graphs_by_targets", {}), tuple(run_targets)
    graph = built.get(key)
    if graph is None:
        graph = built[key] = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
    run_graph = dict(graph)
    if inputs:
        self._add_inputs_to_graph(inputs, run_graph)
    try:
        return dict(dask.get(run_graph, run_targets))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


# one thread parses every message (NLU) when the NLU process cannot (bot/nlu_process.py), in the order they
# come, while the event loop goes on with the dialogue of other conversations
_NLU_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
# the model's NLU in a process of its own (NLU_PROCESS, on by default), set when the agent loads
NLU = {"process": None}


async def parse_message(self: MessageProcessor, message, tracker=None, only_output_properties: bool = True) -> Dict[str, Any]:
    """MessageProcessor.parse_message with the model's NLU run in the NLU process (bot/nlu_process.py), or,
    when it is not there, on the NLU thread rather than the event loop's: a message's parse (two classifiers,
    a sentence encoder, DIET) took a third of the loop's time, every other conversation waiting."""
    if self.http_interpreter:
        return await _original_parse_message(self, message, tracker, only_output_properties)
    parse_data = None
    if NLU["process"] is not None:
        parse_data = await NLU["process"].parse(message, only_output_properties)
    if parse_data is None:
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        parse_data = await asyncio.get_running_loop().run_in_executor(
            _NLU_THREAD, self._parse_message_with_graph, message, tracker, only_output_properties)
    self._update_full_retrieval_intent(parse_data)
    self._check_for_unseen_features(parse_data)
    return parse_data


def _compiled_rule(policy: RulePolicy, key: str) -> tuple:
    """A rule's states, last first, each as (has a previous action, its checks): the checks are what Rasa's
    ``_does_rule_match_state`` compares, (state type, key, value), lists made tuples, and those that can never
    fail (an empty value) left out; a tuple, so that rules ending in the same state are checked once."""
    compiled = []
    for rule_state in reversed(policy._rule_key_to_state(key)):
        checks = []
        for state_type, sub_state in rule_state.items():
            for name, value in sub_state.items():
                value = tuple(value) if isinstance(value, list) else value
                if value:
                    checks.append((state_type, name, value))
        compiled.append((bool(rule_state.get(PREVIOUS_ACTION)), tuple(checks)))
    return tuple(compiled)


def _state_applies(rule_state: tuple, conversation_state: Dict[str, Any]) -> bool:
    """RulePolicy._is_rule_applicable for one of a rule's states, compiled (``_compiled_rule``)."""
    rule_previous_action, checks = rule_state
    current_previous_action = bool(conversation_state.get(PREVIOUS_ACTION))
    if not rule_previous_action and not current_previous_action:
        return True
    if not rule_previous_action or not current_previous_action:
        return False
    for state_type, name, value in checks:
        found = conversation_state.get(state_type, {}).get(name)
        if value == SHOULD_NOT_BE_SET:
            if found and found != SHOULD_NOT_BE_SET:
                return False
        elif found != value:
            return False
    return True


def possible_rule_keys(self: RulePolicy, lookup: Dict[str, str], states: List[Any]) -> set:
    """RulePolicy._get_possible_keys, stopped once the conversation's history is longer than every rule
    still in the running.  Rasa filters all its rules against every state of the conversation, back to its
    start; a rule of n states is applicable to any state more than n back, so those passes removed
    nothing: on a long conversation they were most of a prediction's time.  Each rule is compiled once
    (``_compiled_rule``), and at each step back a state that several rules share is checked once (Rasa
    parsed each rule's JSON states again and compared them rule by rule: a tenth of the server's time)."""
    compiled = self.__dict__.setdefault("_compiled_rules", {})
    rules = {key: compiled.get(key) or compiled.setdefault(key, _compiled_rule(self, key)) for key in lookup}
    possible = set(rules)
    longest = max((len(rules[key]) for key in possible), default=0)
    for i, state in enumerate(reversed(states)):
        if i >= longest:
            break
        verdicts: Dict[tuple, bool] = {}
        kept = set()
        for key in possible:
            rule = rules[key]
            if i >= len(rule):
                kept.add(key)
                continue
            verdict = verdicts.get(rule[i])
            if verdict is None:
                verdict = verdicts[rule[i]] = _state_applies(rule[i], state)
            if verdict:
                kept.add(key)
        possible = kept
        longest = max((len(rules[key]) for key in possible), default=0)
    return possible


def _take_state(domain, tracker, hide_rule_turn: bool, states: list, carry: tuple, omit: bool, ignore: bool,
                rule_only_data) -> tuple:
    """One step of Rasa's Domain.states_for_tracker_history: the state of ``tracker`` (before an action, or
    at the end) added to ``states`` as Rasa adds it; ``carry`` is its loop's memory (the last action a story
    would see, whether the turn is hidden from story-trained policies), returned as it is after the step."""
    last_ml_action, turn_was_hidden = carry
    if ignore:
        if not turn_was_hidden:
            last_ml_action = domain._get_prev_action_sub_state(tracker)
        if not tracker.followup_action and not tracker.latest_action_name == tracker.active_loop_name:
            turn_was_hidden = hide_rule_turn
        if turn_was_hidden:
            return last_ml_action, turn_was_hidden
    state = domain.get_active_state(tracker, omit_unset_slots=omit)
    if ignore:
        domain._remove_rule_only_features(state, rule_only_data)
        if states:
            domain._substitute_rule_only_user_input(state, states[-1])
        if last_ml_action:
            state[PREVIOUS_ACTION] = last_ml_action
    states.append(domain._clean_state(state))
    return last_ml_action, turn_was_hidden


def past_states(self: DialogueStateTracker, domain, omit_unset_slots: bool = False, ignore_rule_only_turns: bool = False,
                rule_only_data=None) -> List[Any]:
    """DialogueStateTracker.past_states, replayed once per tracker and then only from where it left off.
    Every policy asks for them on every prediction (the memoization policy, the rule policy twice or three
    times), and each time Rasa replayed the whole conversation's applied events into a new tracker, taking
    the state before each action and at the end (Domain.states_for_tracker_history).  Here the replay (its
    tracker, its states and its loop's memory) is kept with the tracker, one per way of asking; when the
    events Rasa would apply now begin with the very events replayed before (no revert, restart or form step
    taken back), only the new ones are replayed: each state depends only on the events before it.  Each
    caller gets its own copy (Rasa's featurizer edits the last state it is given)."""
    applied = self.applied_events()
    replays = self.__dict__.setdefault("_states_replays", {})
    way = (omit_unset_slots, ignore_rule_only_turns)
    replay = replays.get(way)
    if (replay is not None and replay["domain"] is domain and replay["rule_only_data"] == rule_only_data
            and len(replay["applied"]) <= len(applied)
            and all(before is now for before, now in zip(replay["applied"], applied))):
        replica, states, carry = replay["replica"], replay["states"], replay["carry"]
        new_events = applied[len(replay["applied"]):]
    else:
        replica, states, carry, new_events = self.init_copy(), [], (None, False), applied
    how = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    for event in new_events:
        if isinstance(event, ActionExecuted):
            carry = _take_state(domain, replica, event.hide_rule_turn, states, carry, *how)
        replica.update(event)
    replays[way] = {"domain": domain, "rule_only_data": copy.deepcopy(rule_only_data), "applied": applied,
                    "replica": replica, "states": states, "carry": carry}
    states = list(states)
    _take_state(domain, replica, False, states, carry, *how)  # the state at the end: taken again next time
    return [{part: dict(values) for part, values in state.items()} for state in states]


def _remembered(resolve):
    """A type-name look-up that remembers what it found (a name Rasa does not know is asked again)."""
    found: Dict[str, Any] = {}

    def look_up(type_name, *default):
        known = found.get(type_name)
        if known is None:
            known = resolve(type_name, *default)
            if known is not None and (not default or known is not default[0]):
                found[type_name] = known
        return known
    look_up.__wrapped__ = resolve
    return staticmethod(look_up)


def _start_nlu_process(model_path) -> Any:
    """The NLU process for the model the server is about to load (None: NLU_PROCESS=0, or no model there)."""
    from rasa.exceptions import ModelNotFound
    from rasa.model import get_local_model

    from bot import nlu_process

    if not nlu_process.enabled():
        return None
    try:
        process = nlu_process.NluProcess(get_local_model(model_path), apply_to_parsing)
    except ModelNotFound:
        return None
    process.start()  # it loads on the other core while this server loads
    return process


async def load_agent_then_freeze(model_path, *args, **kwargs):
    """rasa.core.run.load_agent_on_start, with the NLU process started beside it, then gc.freeze(): the
    model's millions of objects (TensorFlow's graph, the vectorisers' vocabularies, the domain) live as long
    as the server, and every full collection walked them all in the middle of a patient's turn; frozen, the
    collector only sees what turns create."""
    process = _start_nlu_process(model_path)
    loaded = await _original_load_agent_on_start(model_path, *args, **kwargs)
    if loaded.is_ready():
        # one message through the NLU pipeline before the server answers: the sentence encoder's tokenizer and
        # weights are read, and TensorFlow traces DIET's graph, at start rather than in the first patient's turn
        # (here for the server's own parse; the NLU process parses one of its own when it has loaded)
        await asyncio.get_running_loop().run_in_executor(
            _NLU_THREAD, loaded.processor._parse_message_with_graph, UserMessage("hello"),
            DialogueStateTracker.from_events("start", []), True)
        # the server answers without waiting for the NLU process: until it has loaded, the server parses
        NLU["process"] = process
    elif process is not None:
        process.stop()
    gc.collect()
    gc.freeze()
    return loaded


def apply_to_parsing() -> None:
    """What a parse uses of the fixes (the NLU process's, and the server's own)."""
    DaskGraphRunner.run = run_graph
    Event.resolve_by_type = _remembered(_original_event_type)
    Slot.resolve_by_type = _remembered(_original_slot_type)
    follow_the_clock()


def apply() -> None:
    from bot import rasa_stores, responses

    apply_to_parsing()
    rasa_run.load_agent_on_start = load_agent_then_freeze
    RulePolicy._get_possible_keys = possible_rule_keys
    DialogueStateTracker.past_states = past_states
    MessageProcessor.parse_message = parse_message

    EndpointConfig.session = endpoint_session
    RemoteAction._validate_action_result = validate_action_result
    RemoteAction.run = run_remote_action
    ActionExtractSlots._run_custom_action = run_slot_mapping_action
    responses.install()  # the variation said: the conversation's language, then the most specific
    rasa_stores.install()  # a turn saved with one count and one write


def main() -> None:
    apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
