"""NLU cross-validation report against the targets of DESIGN.md.
Usage: python -m bot.evaluate [--folds 5]"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter

from selfpay.settings import PROJECT_ROOT, environment

TARGET_ACCURACY = 0.95
TARGET_MACRO_F1 = 0.93


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    out = PROJECT_ROOT / "results" / "nlu-cv"
    started = time.monotonic()
    cmd = [
        sys.executable, "-m", "rasa", "test", "nlu", "--nlu", "bot/data/nlu", "--config", "config.yml",
        "--domain", "bot/domain", "--cross-validation", "--folds", str(args.folds), "--out", str(out),
        "--no-plot",
    ]
    subprocess.run(cmd, cwd=PROJECT_ROOT, env=environment(), check=True, stdout=subprocess.DEVNULL)
    report = json.loads((out / "intent_report.json").read_text())
    accuracy = report["accuracy"]
    macro_f1 = report["macro avg"]["f1-score"]
    print(f"NLU cross-validation, {args.folds} folds ({time.monotonic() - started:.0f} s)")
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
    print(f"  full report: {out / 'intent_report.json'}")
    met = accuracy >= TARGET_ACCURACY and macro_f1 >= TARGET_MACRO_F1
    print("  targets " + ("met" if met else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
