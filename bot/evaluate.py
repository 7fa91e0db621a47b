"""`make eval`: the NLU figures and the conversation corpus, against the
targets of DESIGN.md.

1. NLU on a held-out split of our own data (bot/data/nlu): a fixed 80/20
   split (seeded), a model trained on the 80 and tested on the 20.
   ``--folds N`` runs N-fold cross-validation instead (slower).
2. The corpus of whole patient conversations (tests/conversations/),
   played against the real servers: task success per capability, turns
   without a next step and fallbacks (tests/conversations/runner.py).

Usage: python -m bot.evaluate [--folds N] [--skip-nlu] [--skip-corpus] [--only NAME]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from selfpay.settings import PROJECT_ROOT, environment

TARGET_ACCURACY = 0.97
TARGET_MACRO_F1 = 0.95
SPLIT_SEED = "2026"


def _rasa(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "rasa", *args], cwd=PROJECT_ROOT, env=environment(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def held_out(out: Path) -> Path:
    """Train on 80% of bot/data/nlu, test on the other 20%."""
    split = out / "split"
    _rasa("data", "split", "nlu", "--nlu", "bot/data/nlu", "--training-fraction", "0.8", "--random-seed", SPLIT_SEED,
          "--out", str(split))
    train = next(split.glob("training_data.*"))
    test = next(split.glob("test_data.*"))
    _rasa("train", "nlu", "--nlu", str(train), "--config", "config.yml", "--domain", "bot/domain", "--out", str(out / "model"),
          "--fixed-model-name", "heldout")
    _rasa("test", "nlu", "--nlu", str(test), "--model", str(out / "model" / "heldout.tar.gz"), "--out", str(out), "--no-plot")
    return out / "intent_report.json"


def cross_validation(out: Path, folds: int) -> Path:
    _rasa("test", "nlu", "--nlu", "bot/data/nlu", "--config", "config.yml", "--domain", "bot/domain", "--cross-validation",
          "--folds", str(folds), "--out", str(out), "--no-plot")
    return out / "intent_report.json"


def nlu_report(folds: int) -> bool:
    started = time.monotonic()
    if folds:
        path, label = cross_validation(PROJECT_ROOT / "results" / "nlu-cv", folds), f"{folds}-fold cross-validation"
    else:
        path, label = held_out(PROJECT_ROOT / "results" / "nlu-heldout"), "held-out 20% split (seed " + SPLIT_SEED + ")"
    report = json.loads(path.read_text())
    accuracy = report["accuracy"]
    macro_f1 = report["macro avg"]["f1-score"]
    print(f"NLU, {label} ({time.monotonic() - started:.0f} s)")
    print(f"  intent accuracy  {accuracy:.3f}  (target >= {TARGET_ACCURACY})")
    print(f"  macro F1         {macro_f1:.3f}  (target >= {TARGET_MACRO_F1})")
    weakest = sorted(((v["f1-score"], k) for k, v in report.items() if isinstance(v, dict) and "confused_with" in v))[:6]
    print("  weakest intents: " + ", ".join(f"{name} {f1:.2f}" for f1, name in weakest))
    confusions = Counter()
    for name, values in report.items():
        if isinstance(values, dict):
            for other, count in (values.get("confused_with") or {}).items():
                confusions[(name, other)] += count
    print("  most confused (true -> predicted): " + ", ".join(f"{a}->{b} x{n}" for (a, b), n in confusions.most_common(8)))
    print(f"  full report: {path}")
    met = accuracy >= TARGET_ACCURACY and macro_f1 >= TARGET_MACRO_F1
    print("  NLU targets " + ("met" if met else "NOT met"), flush=True)
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=0, help="cross-validation folds instead of the held-out split")
    parser.add_argument("--skip-nlu", action="store_true")
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--only", action="append", default=[], help="corpus: only conversations whose id or capability is this")
    args = parser.parse_args()
    if not args.skip_nlu:
        nlu_report(args.folds)
    if not args.skip_corpus:
        # the corpus runs the real servers from the test harness, in its own process
        cmd = [sys.executable, "-m", "tests.conversations.runner"] + [f"--only={name}" for name in args.only]
        return subprocess.run(cmd, cwd=PROJECT_ROOT, env=environment()).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
