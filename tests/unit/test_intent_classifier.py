"""The intent classifier (bot/nlp/intent_classifier.py): trained on a tiny
data set, saved and loaded the way Rasa does it, it ranks the right
intent for English and Spanish messages it never saw, in Rasa's format."""
from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.intent_classifier import SelfPayIntentClassifier

EXAMPLES = {
    "make_payment": ["i want to pay my bill", "pay my balance", "can i pay now", "i'd like to make a payment",
                     "quiero pagar", "pay with my card"],
    "payment_plan": ["can i set up a payment plan", "i need monthly payments", "can i pay in installments",
                     "i can't pay it all at once", "plan de pagos"],
    "human_handoff": ["i want to talk to a person", "let me speak to someone", "transfer me to an agent",
                      "real person please", "quiero hablar con alguien"],
    "greet": ["hi", "hello", "good morning", "hey there", "hola"],
    "thank_you": ["thanks", "thank you so much", "thx", "appreciate it", "gracias"],
}


def training_data() -> TrainingData:
    return TrainingData([Message(data={TEXT: text, INTENT: intent}) for intent, texts in EXAMPLES.items() for text in texts])


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    return LocalModelStorage(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def context():
    return ExecutionContext(GraphSchema({}), "test-intent-classifier")


@pytest.fixture(scope="module")
def trained(storage, context):
    resource = Resource("intent_classifier")
    classifier = SelfPayIntentClassifier.create(SelfPayIntentClassifier.get_default_config(), storage, resource, context)
    classifier.train(training_data())
    return resource


@pytest.fixture(scope="module")
def loaded(trained, storage, context):
    return SelfPayIntentClassifier.load(SelfPayIntentClassifier.get_default_config(), storage, trained, context)


def parse(classifier, *texts):
    messages = [Message(data={TEXT: text}) for text in texts]
    classifier.process(messages)
    return messages


@pytest.mark.parametrize("text,intent", [
    # English and Spanish messages that are not in the training data
    ("how do i pay this bill", "make_payment"),
    ("could i talk to a real person", "human_handoff"),
    ("muchas gracias", "thank_you"),
    ("quiero hablar con una persona", "human_handoff"),
    ("puedo pagar mi cuenta ahora", "make_payment"),
    ("buenos dias", "greet"),
])
def test_a_loaded_model_ranks_the_right_intent_first(loaded, text, intent):
    (message,) = parse(loaded, text)
    assert message.get(INTENT)["name"] == intent
    assert message.get("intent_ranking")[0]["name"] == intent


def test_the_ranking_is_in_rasas_format(loaded):
    (message,) = parse(loaded, "i want to pay")
    ranking = message.get("intent_ranking")
    assert [set(entry) for entry in ranking] == [{"name", "confidence"}] * len(ranking)
    assert len(ranking) == len(EXAMPLES)  # fewer intents than the ranking length (10)
    confidences = [entry["confidence"] for entry in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)
    assert message.get(INTENT) == ranking[0]
    assert all(isinstance(c, float) for c in confidences)
    # the intent and its ranking go out with the parse result
    assert {"intent", "intent_ranking"} <= set(message.as_dict(only_output_properties=True))


def test_the_ranking_keeps_the_ten_best(storage, context):
    many = TrainingData([Message(data={TEXT: f"{word} request number {n}", INTENT: f"intent_{word}"})
                         for word in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
                                      "juliet", "kilo", "lima")
                         for n in range(3)])
    resource = Resource("twelve_intents")
    classifier = SelfPayIntentClassifier.create({}, storage, resource, context)
    classifier.train(many)
    (message,) = parse(classifier, "kilo request")
    assert len(message.get("intent_ranking")) == 10
    assert message.get(INTENT)["name"] == "intent_kilo"


def test_the_loaded_model_predicts_as_the_trained_one(trained, storage, context):
    fresh = SelfPayIntentClassifier.create(SelfPayIntentClassifier.get_default_config(), storage, Resource("again"), context)
    fresh.train(training_data())
    texts = ("necesito un plan", "hello there", "talk to an agent")
    again = SelfPayIntentClassifier.load({}, storage, trained, context)
    for before, after in zip(parse(fresh, *texts), parse(again, *texts)):
        assert before.get(INTENT)["name"] == after.get(INTENT)["name"]
        assert before.get(INTENT)["confidence"] == pytest.approx(after.get(INTENT)["confidence"], abs=1e-6)


@pytest.mark.parametrize("text", ["", "   "])
def test_a_message_without_words_gets_no_intent_and_the_fallback_answers_it(loaded, text):
    """As DIET says it (no name, confidence 0), so Rasa's FallbackClassifier
    turns it into nlu_fallback instead of failing the turn on a missing intent."""
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

    (message,) = parse(loaded, text)
    assert message.get(INTENT) == {"name": None, "confidence": 0.0} and message.get("intent_ranking") == []
    fallback = FallbackClassifier({**FallbackClassifier.get_default_config(), "threshold": 0.35})
    fallback.process([message])
    assert message.get(INTENT)["name"] == "nlu_fallback"


def test_nothing_trained_loads_as_an_empty_classifier_that_says_no_intent(storage, context):
    """Nothing learned is said as an empty message is: no intent, so the fallback answers."""
    classifier = SelfPayIntentClassifier.load({}, storage, Resource("never_trained"), context)
    (message,) = parse(classifier, "i want to pay")
    assert message.get(INTENT) == {"name": None, "confidence": 0.0} and message.get("intent_ranking") == []
