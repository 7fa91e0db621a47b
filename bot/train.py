"""Train the Rasa model when its inputs changed.

The model is cached in models/ under a hash of everything that shapes
it: config, domain (bot/domain/), training data, the spaCy rules and the Rasa version.
Usage: python -m bot.train [--force]
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from pathlib import Path

from selfpay.settings import MODELS, PROJECT_ROOT, environment

# the spaCy rules run at inference (bot.nlp.component) and train nothing;
# the intent classifier's code decides what it learns
INPUTS = ["config.yml", "bot/domain", "bot/data", "bot/nlp/intent_classifier.py"]


def fingerprint() -> str:
    digest = hashlib.sha256()
    import rasa  # noqa: WPS433 (the version is part of the model's identity)

    digest.update(f"rasa {rasa.__version__}".encode())
    for name in INPUTS:
        path = PROJECT_ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in {".yml", ".yaml", ".py", ".jsonl"})
        for file in files:
            digest.update(str(file.relative_to(PROJECT_ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model_path(key: str | None = None) -> Path:
    return MODELS / f"selfpay-{key or fingerprint()}.tar.gz"


def train(force: bool = False) -> Path:
    target = model_path()
    if target.exists() and not force:
        print(f"model is up to date: {target.relative_to(PROJECT_ROOT)}")
        return target
    MODELS.mkdir(exist_ok=True)
    started = time.monotonic()
    cmd = [
        sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "bot/domain",
        "--data", "bot/data", "--out", str(MODELS), "--fixed-model-name", target.name[: -len(".tar.gz")],
        "--force",
    ]
    log_path = PROJECT_ROOT / "var" / "log" / "train.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"training the model (data or config changed; log in {log_path.relative_to(PROJECT_ROOT)}) ...", flush=True)
    with log_path.open("w") as log:
        result = subprocess.run(cmd, cwd=PROJECT_ROOT, env=environment(), stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = log_path.read_text(errors="replace")[-4000:]
        raise SystemExit(f"training failed (exit {result.returncode}); end of {log_path}:\n{tail}")
    seconds = time.monotonic() - started
    (MODELS / "train-times.log").open("a").write(f"{target.name}\t{seconds:.1f}s\n")
    print(f"trained {target.relative_to(PROJECT_ROOT)} in {seconds:.0f} s")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="train even when a model for these inputs exists")
    parser.add_argument("--print-path", action="store_true", help="print the model path for these inputs and exit")
    args = parser.parse_args()
    if args.print_path:
        print(model_path())
        return 0
    train(force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
