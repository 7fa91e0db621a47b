import pytest
from nlp_rules import TODAY


@pytest.fixture(scope="session")
def nlp():
    """The shipped spaCy rules, reading dates against the tests' TODAY."""
    from bot.nlp.pipeline import build

    pipeline = build()
    pipeline.get_pipe("selfpay_values").today = TODAY
    return pipeline
