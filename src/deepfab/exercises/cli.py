"""``deepfab exercise LNN [K] [--smoke] [--seed S]``: list a lecture's exercises, or run one solution."""
from __future__ import annotations

import json

from ..errors import UsageError


def _cmd(args) -> int:
    from ..lectures import get
    from . import exercise, exercises

    lec = get(args.lecture)
    if args.number is None:
        found = exercises(lec.id)
        if not found:
            raise UsageError(f"{lec.id} has no exercises yet")
        print(f"{lec.id} {lec.title}: {len(found)} exercises (the tasks are in the lecture's last section)")
        for ex in found:
            print(f"  {ex.number}. {ex.title}    ->  {ex.command}")
        return 0
    ex = exercise(lec.id, args.number)
    print(f"{lec.id} exercise {ex.number}: {ex.title} ({'smoke' if args.smoke else 'full'} run, seed {args.seed})")
    result = ex.solve(smoke=args.smoke, seed=args.seed)
    print(json.dumps(result, indent=2, default=float))
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("exercise", help="a lecture's exercises, and their worked solutions",
                              description="List a lecture's exercises, or run the worked solution of one of them.")
    p.add_argument("lecture", help="L00 .. L16")
    p.add_argument("number", nargs="?", type=int, help="which exercise to solve (omit to list them)")
    p.add_argument("--smoke", action="store_true", help="tiny budget: seconds instead of minutes")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=_cmd)
