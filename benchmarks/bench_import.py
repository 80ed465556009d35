"""Catalog import benchmark: generated catalogs of 10k (and 100k) products, CommerceML 2.x and 3.1,
on PostgreSQL, in the order a shop lives them (STEPS): the first import; 1C's next export where
only ДатаФормирования changed; an export with 1% of prices and 0.1% of product names changed
(both written by ``generate_catalog.write_reexport`` from the first export); the same bytes again.

Every step runs in a fresh process (wall time, peak RSS of that process) and is printed beside
the floors measured in the same run: the parse floor (the streaming reader over all files of the
step, records built, nothing written), measured right before each step so that both see the same
machine load (the "parse s" column; the first row is a parse of the first export after the
steps), and the COPY floor (one COPY of the imported rows into empty tables with the same unique
keys). Ratios to the floors are what to compare
between machines; nothing is asserted (the machine is noisy, ±10-20%).

    python -m benchmarks import [--products 10000 ...] [--large] [--layouts 2.x 3.1]

``make bench`` runs 10k; ``--large`` adds 100k (a 2.x + 3.1 run takes many minutes).

Needs PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_import);
the database is dropped and created for every run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from benchmarks.database import recreate_database

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_import"
FLOOR_TABLES = (
    "catalog_product",
    "catalog_productvariant",
    "catalog_price",
    "catalog_stock",
    "catalog_productpropertyvalue",
)


def _env(url: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings", LOG_LEVEL="WARNING")
    env.setdefault("VAR_DIR", str(ROOT / "var"))
    return env


def catalog_dir(products: int, layout: str) -> Path:
    """Generate once, reuse on later runs (the generator is deterministic for a seed)."""
    from benchmarks.generate_catalog import generate_catalog

    folder = CACHE / f"catalog-{layout}-{products}"
    stamp = folder / ".complete"
    if not stamp.exists():
        started = time.perf_counter()
        generate_catalog(folder, products=products, layout=layout)  # type: ignore[arg-type]
        stamp.write_text("ok")
        print(f"  generated {folder.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return folder


def _child(mode: str, folder: Path, url: str, **extra_env: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_import", "--child", mode, str(folder)],
        cwd=ROOT,
        env={**_env(url), **extra_env},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_child(mode: str, folder: Path) -> None:
    """Inside a fresh process, so peak RSS is this run's own."""
    import django

    django.setup()
    from commerceml.detect import sort_for_import

    files = [p for p, _ in sort_for_import(sorted(folder.glob("*.xml")))]
    started = time.perf_counter()
    if mode == "parse":
        from commerceml.reader import iter_records

        records = sum(1 for path in files for _ in iter_records(path))
        result: dict[str, Any] = {"records": records}
    else:
        from exchange.catalog.service import import_session_create, import_session_run
        from exchange.models import ImportSession

        created = import_session_create(
            base_dir=folder, files=[p.name for p in files], source=ImportSession.Source.MANUAL
        )
        done = import_session_run(import_session_id=created.pk)
        assert done is not None
        if done.status != ImportSession.Status.COMPLETED:
            raise SystemExit(f"import failed: {done.error_message}")
        from catalog.models import ProductVariant

        result = {"offers": ProductVariant.objects.filter(is_active=True).count()}
    result["seconds"] = time.perf_counter() - started
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _copy_floor(url: str) -> tuple[float, int]:
    """One COPY of the imported rows into empty tables with the same columns and unique keys."""
    import psycopg

    rows = 0
    elapsed = 0.0
    with psycopg.connect(url, autocommit=True) as conn:
        for table in FLOOR_TABLES:
            buffer = io.BytesIO()
            with conn.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                for block in copy:
                    buffer.write(block)
            rows += conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            conn.execute(f"DROP TABLE IF EXISTS floor_{table}")
            conn.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)")
            buffer.seek(0)
            started = time.perf_counter()
            with conn.cursor().copy(f"COPY floor_{table} FROM STDIN") as copy:
                while block := buffer.read(1 << 20):
                    copy.write(block)
            elapsed += time.perf_counter() - started
            conn.execute(f"DROP TABLE floor_{table}")
    return elapsed, rows


def reexport_dir(products: int, layout: str, kind: str) -> Path:
    """1C's next export written from the first one (generate_catalog.write_reexport), cached.

    ``changed``: a new ДатаФормирования, 1% of prices and 0.1% of product names changed;
    ``stamp``: only ДатаФормирования differs.
    """
    from benchmarks.generate_catalog import write_reexport

    source = catalog_dir(products, layout)
    folder = CACHE / f"catalog-{layout}-{products}-{kind}"
    stamp = folder / ".complete"
    if not stamp.exists():
        shares = {"changed": (0.01, 0.001), "stamp": (0.0, 0.0)}[kind]
        write_reexport(source, folder, generated_at="2024-03-02T09:30:00", price_share=shares[0], name_share=shares[1])
        stamp.write_text("ok")
    return folder


# What a shop lives with, in the order it happens: the first import; 1C's next export with only
# a new stamp (nothing changed in 1C); its next export with a few changes; the same bytes again
# (1C repeating an exchange). The parse and COPY floors are measured on the first export.
STEPS = (
    ("first", "first import"),
    ("stamp", "re-export, stamp only"),
    ("changed", "re-export, 1% prices + 0.1% names"),
    ("identical", "byte-identical re-import"),
)


def bench(products: int, layout: str, url: str) -> dict[str, Any]:
    folder = catalog_dir(products, layout)
    folders = {
        "first": folder,
        "stamp": reexport_dir(products, layout, "stamp"),
        "changed": reexport_dir(products, layout, "changed"),
    }
    folders["identical"] = folders["changed"]
    size_mb = sum(p.stat().st_size for p in folder.glob("*.xml")) / 1e6
    recreate_database(url, env=_env(url))
    steps = {}
    for key, _ in STEPS:
        # Each step is paired with a parse of its own files right before it: on a shared machine
        # the load moves within minutes, and a ratio to a floor measured at another moment
        # measures the neighbours more than the import.
        paired = _child("parse", folders[key], url)
        steps[key] = _child("import", folders[key], url) | {"parse_s": paired["seconds"]}
        print(
            f"  {key}: {steps[key]['seconds']:.1f} s (parse {paired['seconds']:.1f} s), {steps[key]['rss_mb']:.0f} MB",
            flush=True,
        )
    parse = _child("parse", folder, url)
    copy_seconds, rows = _copy_floor(url)
    return {
        "catalog": f"{layout} {products // 1000}k",
        "size_mb": size_mb,
        "offers": steps["first"]["offers"],
        "steps": steps,
        "parse_s": parse["seconds"],
        "parse_rss_mb": parse["rss_mb"],
        "copy_s": copy_seconds,
        "rows": rows,
    }


def print_table(results: list[dict[str, Any]]) -> None:
    """One line per catalog and step; ratios to the floors of the same run."""
    print(
        f"{'catalog':<10}{'MB':>6}{'step':<38}{'s':>8}{'× parse':>9}{'× (parse+COPY)':>16}{'RSS MB':>8}{'parse s':>9}"
    )
    for r in results:
        parse, copy = r["parse_s"], r["copy_s"]
        lead = f"{r['catalog']:<10}{r['size_mb']:>6.0f}"
        print(f"{lead}{'  parse floor':<38}{parse:>8.1f}{1:>9.2f}{'':>16}{r['parse_rss_mb']:>8.0f}")
        blank = " " * len(lead)
        copy_label = f"  COPY floor ({r['rows']} rows)"
        print(f"{blank}{copy_label:<38}{copy:>8.1f}{copy / parse:>9.2f}")
        for key, label in STEPS:
            step = r["steps"][key]
            paired = step["parse_s"]  # the parse measured right before this step
            print(
                f"{blank}{'  ' + label:<38}{step['seconds']:>8.1f}{step['seconds'] / paired:>9.2f}"
                f"{step['seconds'] / (paired + copy):>16.2f}{step['rss_mb']:>8.0f}{paired:>9.1f}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, nargs="+", default=[10_000])
    parser.add_argument("--large", action="store_true", help="also 100k products (many minutes)")
    parser.add_argument("--layouts", nargs="+", default=["2.x", "3.1"])
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _run_child(args.child[0], Path(args.child[1]))
        return
    sizes = sorted({*args.products, *([100_000] if args.large else [])})
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    print(f"Catalog import benchmark on {urlparse(url).hostname} (PostgreSQL), {os.cpu_count()} cores")
    results = []
    for layout in args.layouts:
        for products in sizes:
            print(f"- {layout}, {products} products", flush=True)
            results.append(bench(products, layout, url))
    print_table(results)


if __name__ == "__main__":
    main()
