"""A longer fuzz run of the intake path than the suite's (tests/unit/test_fuzz_intake.py): Hypothesis drawing
mutated, real-shaped messages (tests/fuzzing.py) through parse_mail -> unpack -> verify_received -> parse_document.

Run from the repository root: ``.venv/bin/python benchmarks/fuzz_intake.py [--seconds 60] [--examples N]
[--seed S] [--no-save]``. Prints how many inputs ran, the rate, and each failure (an exception outside the declared
UnpackError and ParseError, or one verify_received hid in its report), counted by finding (tests.fuzzing.signature:
step, exception, message with its numbers blanked). The first input of every new finding is saved into
tests/fuzz_corpus/ (unless --no-save), where tests/unit/test_fuzz_intake.py replays it from then on. A failure does
not stop the run: the harness keeps drawing until the time or the number of examples is spent, and shrinks nothing
(the input is kept as the fuzzer found it). Exit status 1 when it found something new, else 0.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from tests.fuzzing import CORPUS, Finding, Input, inputs, pipeline, save, signature  # noqa: E402

ROUND = 200  # examples per Hypothesis run; the harness runs rounds until the budget is spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget (default 60 s)")
    parser.add_argument("--examples", type=int, default=0, help="stop after this many inputs (default: no limit)")
    parser.add_argument("--seed", type=int, default=None, help="random seed of the first round (default: random)")
    parser.add_argument("--no-save", action="store_true", help="report failures without writing them to the corpus")
    args = parser.parse_args()

    started = time.monotonic()
    deadline = started + args.seconds
    counts = {"inputs": 0, "verified_parts": 0}
    failures: collections.Counter[str] = collections.Counter()  # by finding (tests.fuzzing.signature)
    saved: list[Path] = []
    steps: collections.Counter[str] = collections.Counter()

    def one(example: Input) -> None:
        if time.monotonic() > deadline or (args.examples and counts["inputs"] >= args.examples):
            return
        counts["inputs"] += 1
        try:
            counts["verified_parts"] += pipeline(example.data, example.name)
        except Finding as finding:
            failures[signature(finding)] += 1
            steps[finding.step] += 1
            if not args.no_save and (path := save(example, finding)) is not None:
                saved.append(path)
                print(f"  new: {path.relative_to(REPO)}  ({str(finding)[:150]})", flush=True)

    rng = random.Random(args.seed)
    rounds = 0
    while time.monotonic() < deadline and not (args.examples and counts["inputs"] >= args.examples):
        rounds += 1
        run = seed(rng.getrandbits(64))(
            settings(
                max_examples=ROUND,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(given(inputs())(one))
        )
        run()
    elapsed = time.monotonic() - started
    print(f"fuzz_intake: {counts['inputs']} inputs in {elapsed:.1f} s ({counts['inputs'] / elapsed:.1f}/s), "
          f"{counts['verified_parts']} XML parts verified, {rounds} rounds")  # fmt: skip
    if not failures:
        print("no failures")
    else:
        print(f"{sum(failures.values())} failing input(s), {len(failures)} distinct, by step: {dict(steps)}")
        for message, count in failures.most_common():
            print(f"  {count:5d}  {message}")
    if saved:
        print(f"{len(saved)} new input(s) saved in {CORPUS.relative_to(REPO)}/")
    return 1 if saved else 0


if __name__ == "__main__":
    sys.exit(main())
