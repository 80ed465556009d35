"""Reader benchmark: parse generated catalogs and print speed and memory per file.

    python -m benchmarks.bench_reader --products 10000 100000 [--layout 2.x 3.1] [--repeat 3]

For each size and layout a catalog is generated with ``benchmarks.generate_catalog`` into a
temporary folder, or reused from ``var/bench/catalog-<layout>-<products>/`` when a complete one
is there (``--keep`` writes it there for next time; ``benchmarks.bench_import`` shares it). Every file is then parsed in a fresh subprocess, so
the peak RSS printed is that of one parse alone. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.generate_catalog import generate_catalog
from commerceml import sort_for_import

DEFAULT_CACHE = Path("var/bench")


def measure(path: Path) -> dict[str, object]:
    """Parse one file in this process; return timings and memory (run in a subprocess)."""
    from commerceml import detect_file_kind, iter_records  # imported here: RSS baseline includes them

    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kind = detect_file_kind(path)
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    for record in iter_records(path):
        counts[type(record).__name__] += 1
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "file": path.name,
        "kind": str(kind),
        "mb": path.stat().st_size / 1e6,
        "seconds": seconds,
        "records": sum(counts.values()),
        "counts": dict(counts),
        "baseline_rss_mb": baseline_kb / 1024,
        "peak_rss_mb": peak_kb / 1024,
    }


def _measure_in_subprocess(path: Path) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_reader", "--measure", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _catalog_files(products: int, layout: str, cache: Path, keep: bool) -> tuple[list[Path], Path | None]:
    """Files of a catalog, generated unless cached; returns (files, temp dir to delete).

    The cache folder is shared with ``benchmarks.bench_import``: ``catalog-<layout>-<products>``
    with a ``.complete`` stamp once fully written (the generator is deterministic for a seed).
    """
    cached = cache / f"catalog-{layout}-{products}"
    if (cached / ".complete").exists():
        print(f"reusing {cached}")
        return [path for path, _ in sort_for_import(cached.glob("*.xml"))], None
    target = cached if keep else Path(tempfile.mkdtemp(prefix=f"cml-{products}-{layout}-"))
    started = time.perf_counter()
    generated = generate_catalog(target, products=products, layout=layout)  # type: ignore[arg-type]
    if keep:
        (target / ".complete").write_text("ok")
    total_mb = sum(path.stat().st_size for path in generated.files) / 1e6
    print(
        f"generated {products} products ({generated.offers} offers, {layout}) "
        f"{total_mb:.0f} MB in {time.perf_counter() - started:.1f} s -> {target}"
    )
    return list(generated.files), None if keep else target


def _print_row(result: dict[str, object]) -> None:
    mb = float(result["mb"])  # type: ignore[arg-type]
    seconds = float(result["seconds"])  # type: ignore[arg-type]
    records = int(result["records"])  # type: ignore[call-overload]
    name = str(result["file"])
    if len(name) > 22:
        name = name[:9] + "…" + name[-12:]
    print(
        f"  {name:<22} {result['kind']:<10} {mb:8.1f} MB {seconds:7.2f} s {mb / seconds:7.1f} MB/s "
        f"{records:>9} rec {records / seconds:>9.0f} rec/s "
        f"RSS {float(result['peak_rss_mb']):6.1f} MB "  # type: ignore[arg-type]
        f"(interpreter {float(result['baseline_rss_mb']):.1f})"  # type: ignore[arg-type]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="CommerceML reader speed and memory")
    parser.add_argument("--products", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--layout", nargs="+", default=["2.x", "3.1"], choices=["2.x", "3.1"])
    parser.add_argument("--repeat", type=int, default=1, help="parses per file; best is shown")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--keep", action="store_true", help="keep generated files in --cache")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(args.measure)))
        return
    for products in args.products:
        for layout in args.layout:
            files, temp_dir = _catalog_files(products, layout, args.cache, args.keep)
            try:
                print(f"{products} products, layout {layout}:")
                total_mb = total_seconds = 0.0
                for path in files:
                    runs = [_measure_in_subprocess(path) for _ in range(max(1, args.repeat))]
                    best = min(runs, key=lambda run: float(run["seconds"]))  # type: ignore[arg-type]
                    _print_row(best)
                    total_mb += float(best["mb"])  # type: ignore[arg-type]
                    total_seconds += float(best["seconds"])  # type: ignore[arg-type]
                print(
                    f"  {'all files':<33} {total_mb:8.1f} MB {total_seconds:7.2f} s "
                    f"{total_mb / total_seconds:7.1f} MB/s"
                )
            finally:
                if temp_dir is not None:
                    shutil.rmtree(temp_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
