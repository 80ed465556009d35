"""``python -m benchmarks [upload|reader|import|orders|all] [options]``: runs each benchmark module's
``main()``; options after the name go to that benchmark. Benchmarks not written yet are skipped."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "upload": "benchmarks.bench_upload",
    "reader": "benchmarks.bench_reader",
    "import": "benchmarks.bench_import",
    "orders": "benchmarks.bench_orders",
}


def main(argv: list[str]) -> int:
    name, rest = (argv[0], argv[1:]) if argv else ("all", [])
    if name in {"-h", "--help"}:
        print(__doc__)
        return 0
    if name != "all" and name not in BENCHMARKS:
        print(f"unknown benchmark {name!r}; choose one of: {', '.join(BENCHMARKS)}, all", file=sys.stderr)
        return 2
    for key in BENCHMARKS if name == "all" else [name]:
        try:
            module = importlib.import_module(BENCHMARKS[key])
        except ModuleNotFoundError as exc:
            if exc.name != BENCHMARKS[key]:
                raise
            print(f"[{key}] skipped: {BENCHMARKS[key]} does not exist yet")
            continue
        print(f"[{key}]", flush=True)
        module.main(rest if name != "all" else [])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
