"""Run `rasa test core` on the test stories in tests/stories, failing on
any wrong intent or action prediction.  Usage: python -m bot.test_stories"""
from __future__ import annotations

import subprocess
import sys

from selfpay.settings import PROJECT_ROOT, environment
from bot.train import model_path


def main() -> int:
    model = model_path()
    if not model.exists():
        print(f"no trained model at {model}; run `make train`", file=sys.stderr)
        return 1
    cmd = [
        sys.executable, "-m", "rasa", "test", "core", "--model", str(model), "--stories", "tests/stories",
        "--endpoints", "endpoints.yml", "--out", "results/stories", "--fail-on-prediction-errors", "--no-plot",
    ]
    result = subprocess.run(cmd, cwd=PROJECT_ROOT, env=environment())
    print("test stories: " + ("all predictions right" if result.returncode == 0 else "wrong predictions, see results/stories/failed_test_stories.yml"))
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
