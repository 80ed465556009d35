"""Catalog import benchmark: 10k and 100k generated products, CommerceML 2.x and 3.1, on PostgreSQL.

For each catalog it reports the first import and an unchanged re-import (wall time, products/s,
offers/s, peak RSS of the importing process) — the re-import twice: as shipped (identical files
are skipped by digest while the catalog is untouched) and with that skip off ("rows": every row
parsed and compared by hash) — and the floor on the same files: parsing only,
plus one COPY of the final rows into tables with the same unique keys. Figures are printed;
nothing is asserted (the machine is noisy, ±10-20%).

    python -m benchmarks.bench_import [--products 10000 100000] [--layouts 2.x 3.1]

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


def _recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=_env(url), check=True)


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
        from exchange.models import ImportSession
        from exchange.services.catalog_import import import_session_create, import_session_run

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


def bench(products: int, layout: str, url: str) -> dict[str, Any]:
    folder = catalog_dir(products, layout)
    size_mb = sum(p.stat().st_size for p in folder.glob("*.xml")) / 1e6
    _recreate_database(url)
    first = _child("import", folder, url)
    again = _child("import", folder, url)  # identical files, untouched catalog: skipped by digest
    # The same re-import with the file skip off: every row parsed and compared by hash.
    rows_again = _child("import", folder, url, EXCHANGE_IMPORT_SKIP_UNCHANGED_FILES="0")
    parse = _child("parse", folder, url)
    copy_seconds, rows = _copy_floor(url)
    offer_count = first["offers"]
    floor = parse["seconds"] + copy_seconds
    return {
        "catalog": f"{layout} {products // 1000}k",
        "size_mb": size_mb,
        "first_s": first["seconds"],
        "products_per_s": products / first["seconds"],
        "offers_per_s": offer_count / first["seconds"],
        "first_rss_mb": first["rss_mb"],
        "again_s": again["seconds"],
        "again_ratio": again["seconds"] / first["seconds"],
        "again_rss_mb": again["rss_mb"],
        "rows_again_s": rows_again["seconds"],
        "rows_again_ratio": rows_again["seconds"] / first["seconds"],
        "rows_again_rss_mb": rows_again["rss_mb"],
        "parse_s": parse["seconds"],
        "copy_s": copy_seconds,
        "rows": rows,
        "floor_s": floor,
        "vs_floor": first["seconds"] / floor,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--layouts", nargs="+", default=["2.x", "3.1"])
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _run_child(args.child[0], Path(args.child[1]))
        return
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    print(f"Catalog import benchmark on {urlparse(url).hostname} (PostgreSQL), {os.cpu_count()} cores")
    results = []
    for layout in args.layouts:
        for products in args.products:
            print(f"- {layout}, {products} products", flush=True)
            results.append(bench(products, layout, url))
    header = (
        f"{'catalog':<10}{'MB':>7}{'import s':>10}{'prod/s':>9}{'offers/s':>10}{'RSS MB':>8}"
        f"{'again s':>9}{'again/1st':>10}{'rows s':>8}{'rows/1st':>9}{'RSS MB':>8}"
        f"{'parse s':>9}{'COPY s':>8}{'floor s':>9}{'x floor':>8}"
    )
    print(header)
    for r in results:
        print(
            f"{r['catalog']:<10}{r['size_mb']:>7.0f}{r['first_s']:>10.1f}{r['products_per_s']:>9.0f}"
            f"{r['offers_per_s']:>10.0f}{r['first_rss_mb']:>8.0f}{r['again_s']:>9.1f}{r['again_ratio']:>10.2f}"
            f"{r['rows_again_s']:>8.1f}{r['rows_again_ratio']:>9.2f}{r['rows_again_rss_mb']:>8.0f}"
            f"{r['parse_s']:>9.1f}{r['copy_s']:>8.1f}{r['floor_s']:>9.1f}{r['vs_floor']:>8.2f}"
        )


if __name__ == "__main__":
    main()
