"""Rasa sends no domain with an action call (endpoints.yml, enable_selective_domain): the action server
reads its own, and it must be the one the model was trained with, or a form would be validated against
slots the assistant does not ask for."""
import asyncio

import yaml
from rasa.engine.storage.local_model_storage import LocalModelStorage

from bot import action_server
from bot.train import model_path
from selfpay.settings import PROJECT_ROOT


def test_the_action_servers_domain_is_the_trained_models():
    trained = LocalModelStorage.metadata_from_archive(model_path()).domain.as_dict()
    assert action_server.local_domain() == trained
    assert action_server.local_domain()["forms"]["payment_form"]["required_slots"] == ["payment_amount", "payment_method"]


def test_rasa_is_told_not_to_send_the_domain():
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"]["enable_selective_domain"] is True


def test_a_call_without_a_domain_gets_the_servers_and_one_with_a_domain_keeps_it(monkeypatch):
    seen = []

    async def sdk_run(self, call):
        seen.append(call["domain"])
        return {"events": [], "responses": []}

    monkeypatch.setattr(action_server, "_SDK_RUN", sdk_run)
    asyncio.run(action_server.run_with_local_domain(None, {"next_action": "validate_payment_form", "tracker": {}}))
    asyncio.run(action_server.run_with_local_domain(None, {"next_action": "x", "tracker": {}, "domain": {"forms": {}}}))
    assert seen == [action_server.local_domain(), {"forms": {}}]
