"""Validate the assistant's data: every check of ``rasa data validate
--fail-on-warnings``, with one correction.

Rasa 3.6 counts a response as used only when a story or rule names it,
so it flags every script that a custom action or a form sends (form
questions, balance wording ...).  Here those count as used when the
action code or a form sends them, and, stricter than Rasa, a response
that the code sends but the domain lacks is an error, and so is a
response or a script without its Spanish variation.
Usage: python -m bot.validate
"""
from __future__ import annotations

import re
import sys

from selfpay.settings import PROJECT_ROOT

# code that sends the bot's responses (through Rasa: the actions, and the
# capability registry's "not done" answers), and code that says the
# approved scripts that are not responses (billing/scripts.yml)
RESPONSE_CODE_DIRS = (PROJECT_ROOT / "bot" / "actions", PROJECT_ROOT / "bot" / "capabilities.py", PROJECT_ROOT / "bot" / "rasa_main.py")
SCRIPT_CODE_DIRS = (PROJECT_ROOT / "connectors", PROJECT_ROOT / "desk", PROJECT_ROOT / "billing")
RESPONSE_IN_CODE = re.compile(r"""["'](utter_[a-z0-9_]+)["']""")
# f"utter_decline_reason_{code}": a family of responses chosen by a value
RESPONSE_FAMILY_IN_CODE = re.compile(r"""f["'](utter_[a-z0-9_]+_)\{""")


def responses_sent_by_code() -> set[str]:
    return _found(RESPONSE_IN_CODE, RESPONSE_CODE_DIRS)


def response_families_in_code() -> set[str]:
    return _found(RESPONSE_FAMILY_IN_CODE, RESPONSE_CODE_DIRS)


def script_problems(responses: set[str]) -> list[str]:
    """Every script the channels, notices and desk name is in
    billing/scripts.yml, each one there is used, and none is also a
    response (one name, one place)."""
    from billing.scripts import scripts

    defined = set(scripts())
    named = _found(RESPONSE_IN_CODE, SCRIPT_CODE_DIRS)
    families = _found(RESPONSE_FAMILY_IN_CODE, SCRIPT_CODE_DIRS)
    named |= {name for name in defined if name.startswith(tuple(families))}
    problems = [f"The code says the script '{name}', which billing/scripts.yml does not define." for name in sorted(named - defined)]
    problems += [f"The script '{name}' in billing/scripts.yml is not said by any code." for name in sorted(defined - named)]
    problems += [f"'{name}' is both a response in the domain and a script in billing/scripts.yml." for name in sorted(defined & responses)]
    return problems


def language_problems(defined: dict, kind: str) -> list[str]:
    """Every variation (a response of the domain, a script of
    billing/scripts.yml) has its Spanish: a variation with the same other
    conditions and channel and ``language: es`` (DESIGN.md, Languages)."""
    from billing.language import DEFAULT, SPOKEN

    def others(variation) -> tuple:
        conditions = sorted((c.get("name"), str(c.get("value"))) for c in variation.get("condition") or []
                            if c.get("name") != "language")
        return (variation.get("channel"),) + tuple(conditions)

    def language(variation) -> str:
        return next((c.get("value") for c in variation.get("condition") or [] if c.get("name") == "language"), DEFAULT)

    problems = []
    for name in sorted(defined):
        variations = defined[name] or []
        have = {(language(v), others(v)) for v in variations}
        for wanted in SPOKEN[1:]:
            for key in sorted({others(v) for v in variations if language(v) == DEFAULT}, key=str):
                if (wanted, key) not in have:
                    words = ", ".join(f"{n}={v}" for n, v in key[1:]) + (f" on {key[0]}" if key[0] else "")
                    problems.append(f"The {kind} '{name}' has no Spanish variation" + (f" for {words}." if words else "."))
    return problems


def registry_problems(domain) -> list[str]:
    """The capability registry (bot/capabilities.py) and the domain agree:
    every intent belongs to one capability, every starter exists, the forms
    are the domain's, and next_form names the forms a starter opens."""
    from rasa.shared.core.constants import DEFAULT_INTENTS

    from bot import capabilities

    problems = []
    owners: dict[str, list[str]] = {}
    for capability in capabilities.CAPABILITIES:
        for intent in capability.intents:
            owners.setdefault(intent, []).append(capability.name)
    intents = set(domain.intents) - set(DEFAULT_INTENTS)
    problems += [f"The intent '{i}' belongs to no capability in bot/capabilities.py." for i in sorted(intents - set(owners))]
    problems += [f"bot/capabilities.py names the intent '{i}', which the domain lacks." for i in sorted(set(owners) - intents)]
    problems += [f"The intent '{i}' belongs to several capabilities: {', '.join(names)}." for i, names in sorted(owners.items()) if len(names) > 1]
    for intent in capabilities.resumable_intents():
        try:
            if not callable(capabilities.starter(intent)):
                raise AttributeError(intent)
        except (ImportError, AttributeError):
            problems.append(f"The starter of '{intent}' ({capabilities.starter_name(intent)}) cannot be found.")
    forms = {form.name for form in capabilities.forms()}
    problems += [f"The form '{f}' belongs to no capability in bot/capabilities.py." for f in sorted(set(domain.forms) - forms)]
    problems += [f"bot/capabilities.py names the form '{f}', which the domain lacks." for f in sorted(forms - set(domain.forms))]
    next_form = next((slot for slot in domain.slots if slot.name == "next_form"), None)
    started = {form.name for form in capabilities.forms() if form.started} | {"none"}
    values = set(getattr(next_form, "values", None) or []) - {"__other__"}
    if values != started:
        problems.append(f"The slot next_form's values should be the forms a starter opens and none: {', '.join(sorted(started))}.")
    return problems


def _found(pattern: re.Pattern, dirs) -> set[str]:
    found = set()
    for folder in dirs:
        for path in [folder] if folder.is_file() else sorted(folder.rglob("*.py")):
            found |= set(pattern.findall(path.read_text()))
    return found


def main() -> int:
    import warnings

    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    importer = TrainingDataImporter.load_from_config(
        str(PROJECT_ROOT / "config.yml"), str(PROJECT_ROOT / "bot" / "domain"), [str(PROJECT_ROOT / "bot" / "data")]
    )
    validator = Validator.from_importer(importer)
    domain = importer.get_domain()
    problems: list[str] = []

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ok = all(
            [
                validator.verify_domain_validity(),
                validator.verify_actions_in_stories_rules(),
                validator.verify_forms_in_stories_rules(),
                validator.verify_form_slots(),
                validator.verify_slot_mappings(),
                validator.verify_intents_in_stories(False),
                validator.verify_example_repetition_in_intents(False),
                validator.verify_story_structure(False, max_history=5),
            ]
        )
    problems += [str(w.message) for w in caught if issubclass(w.category, UserWarning) and not str(w.message).startswith("The utterance ")]
    if not ok and not problems:
        problems.append("Rasa's validator reported an error (see the log above)")

    in_stories = {
        event.action_name
        for step in validator.story_graph.story_steps
        for event in step.events
        if getattr(event, "action_name", None)
    }
    form_questions = {f"utter_ask_{slot}" for form in domain.forms.values() for slot in form.get("required_slots", [])}
    from_code = responses_sent_by_code()
    defined = set(domain.responses)
    families = response_families_in_code()
    from_code |= {name for name in defined if name.startswith(tuple(families))}
    for family in sorted(families):
        if not any(name.startswith(family) for name in defined):
            problems.append(f"The actions send responses named '{family}...', and the domain defines none.")
    for name in sorted(defined - in_stories - form_questions - from_code):
        problems.append(f"The response '{name}' is not used in any story, rule, form or action.")
    for name in sorted(from_code - defined):
        problems.append(f"The actions send the response '{name}', which the domain does not define.")
    asked_by_actions = {f"utter_ask_{a[len('action_ask_'):]}" for a in domain.user_actions if a.startswith("action_ask_")}
    for name in sorted(form_questions - defined - asked_by_actions):
        problems.append(f"The form question '{name}' is missing from the domain.")

    problems += script_problems(defined)
    from billing.scripts import scripts
    from bot.responses import responses

    problems += language_problems(responses(), "response") + language_problems(scripts(), "script")
    problems += registry_problems(domain)
    from bot import rules

    problems += rules.problems()

    for problem in problems:
        print(f"validate: {problem}", file=sys.stderr)
    print("data validation: " + ("OK" if not problems else f"{len(problems)} problem(s)"))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
