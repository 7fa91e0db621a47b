"""A fast subset of the conversation corpus (tests/conversations/, the
conversations marked ``fast``), played against the real servers as
`make eval` plays the whole corpus: each one must succeed."""
from __future__ import annotations

import pytest

from tests.conversations import runner

pytestmark = pytest.mark.integration

FAST = [c for c in runner.load() if c.fast]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, assistant):
    """The demo data, restored before each conversation and after the last,
    so the modules that run later find the database as the demo loads it."""
    path = runner.pristine_database(tmp_path_factory.mktemp("corpus"))
    yield path
    runner.restore(assistant, path)


@pytest.fixture(scope="module")
def desk(assistant):
    return runner.Desk(assistant)


def test_the_corpus_has_enough_conversations():
    conversations = runner.load()
    assert len(conversations) >= 150
    assert len({c.capability for c in conversations}) >= 10


@pytest.mark.parametrize("conversation", FAST, ids=[c.id for c in FAST])
def test_a_corpus_conversation_finishes_the_job(assistant, pristine, desk, conversation):
    runner.restore(assistant, pristine)
    result = runner.play(assistant, conversation, desk)
    transcript = "\n".join(f"  patient: {said}\n  bot:     {answer}" for said, answer in result.transcript)
    assert result.success, "\n".join(result.problems) + "\n" + transcript
    assert not result.no_next_step, "\n".join(result.no_next_step) + "\n" + transcript
