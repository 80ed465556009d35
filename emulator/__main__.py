"""Command line: ``python -m emulator catalog|sale --url … --user … [--password …] …``, and
``python -m emulator customers-service --port …``: a fake of 1C's customers HTTP service.

Exit codes: 0 exchange finished, 1 the server answered ``failure``, 2 protocol or usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from emulator.client import (
    DEFAULT_ARCHIVE_NAME,
    EmulatorError,
    ExchangeFailure,
    ExchangeRecord,
    ExchangeReport,
    OneCClient,
    ProtocolError,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_PROTOCOL_ERROR = 2

PASSWORD_ENV = "EXCHANGE_PASSWORD"  # noqa: S105 - the variable name, not a password


def _print_record(record: ExchangeRecord) -> None:
    status = "---" if record.status is None else str(record.status)
    if record.error:
        answer, detail = record.error, ""
    elif record.mode == "query" and record.first_line != "failure":
        answer, detail = f"XML, {record.response_bytes} bytes", ""
    elif record.mode == "checkauth":
        # Lines 2-5 are the session cookie and token: not for the console.
        answer, detail = record.first_line, ""
    else:
        answer, detail = record.first_line, record.detail
    subject = f" {record.filename}" if record.filename else ""
    line = f"{record.method:<4} {record.mode:<10}{subject}  ->  {status} {answer}  ({record.elapsed * 1000:.0f} ms)"
    if detail:
        line += f"  {detail.splitlines()[0]}"
    print(line, flush=True)


def _print_summary(report: ExchangeReport) -> None:
    print(
        f"{report.exchange_type} exchange finished: {report.requests} requests, "
        f"{len(report.uploads)} uploads ({report.uploaded_bytes} bytes), "
        f"{len(report.imports)} imports, {len(report.progress_texts)} progress answers, "
        f"{report.elapsed:.2f} s"
    )


def _add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="exchange script URL, e.g. http://host/1c/exchange")
    parser.add_argument("--user", required=True, help="exchange user name (HTTP Basic on checkauth)")
    parser.add_argument("--password", help=f"exchange password (default: ${PASSWORD_ENV})")
    parser.add_argument("--timeout", type=float, default=120.0, help="per-request timeout, seconds")
    parser.add_argument("--poll-interval", type=float, default=0.0, help="pause between progress polls")
    parser.add_argument("--max-polls", type=int, default=10_000, help="progress polls allowed per file")
    parser.add_argument(
        "--basic-always",
        action="store_true",
        help="send Basic credentials on every request, not only on checkauth",
    )
    parser.add_argument(
        "--windows-filenames",
        action="store_true",
        help=r"send sub-paths in filename= with backslashes (import_files\ab\x.jpg)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m emulator", description="Exchange with a site the way 1C:Enterprise does."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    catalog = commands.add_parser("catalog", help="upload a catalog package (type=catalog)")
    _add_common_arguments(catalog)
    catalog.add_argument(
        "--zip",
        dest="use_zip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="force (--zip) or forbid (--no-zip) the archive; default: follow the server's zip=",
    )
    catalog.add_argument("--version", help="CommerceML version sent with init (e.g. 3.1)")
    catalog.add_argument("--deactivate", action="store_true", help="call mode=deactivate at the end")
    catalog.add_argument("--no-complete", dest="complete", action="store_false", help="skip mode=complete")
    catalog.add_argument("--archive-name", default=DEFAULT_ARCHIVE_NAME, help="name of the zip upload")
    catalog.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="package dir or files")

    sale = commands.add_parser("sale", help="fetch orders and send order changes (type=sale)")
    _add_common_arguments(sale)
    sale.add_argument("--changes", nargs="*", type=Path, default=[], metavar="FILE", help="changes files")
    sale.add_argument("--out", type=Path, help="where to save the orders XML from mode=query")
    sale.add_argument("--zip", dest="zip_query", action="store_true", help="ask for a zipped orders answer (zip=yes)")
    sale.add_argument("--info", action="store_true", help="call mode=info (statuses, payment systems) first")
    sale.add_argument(
        "--no-success", dest="confirm", action="store_false", help="skip mode=success (as if 1C failed to store)"
    )
    sale.add_argument("--reply-status", metavar="ID", help="send back every received order with this site status id")
    sale.add_argument("--reply-status-text", metavar="TEXT", help="... or with this 1C status text (Статус заказа)")
    sale.add_argument("--reply-paid", action="store_true", help="... and mark every received order paid")
    version = sale.add_mutually_exclusive_group()
    version.add_argument("--version", default="2.08", help="CommerceML version sent with init")
    version.add_argument(
        "--legacy",
        dest="version",
        action="store_const",
        const=None,
        help="send init without version (legacy scheme: no mode=import for changes)",
    )

    service = commands.add_parser("customers-service", help="serve a fake of 1C's customers HTTP service")
    service.add_argument("--host", default="127.0.0.1", help="address to listen on")
    service.add_argument("--port", type=int, default=8081, help="port to listen on")
    service.add_argument("--fail-rate", type=float, default=0.0, help="share of POSTs answered 500/503")
    service.add_argument("--slow-rate", type=float, default=0.0, help="share of POSTs answered slowly")
    service.add_argument("--slow-seconds", type=float, default=3.0, help="how slowly")
    service.add_argument("--seed", type=int, help="random seed, for a repeatable run")
    service.add_argument("--user", default="", help="require this Basic-auth user")
    service.add_argument("--password", default="", help="and this password")
    service.add_argument(
        "--counterparties", type=Path, help="JSON list of counterparties 1C already has (served by GET)"
    )
    return parser


def run_customers_service(args: argparse.Namespace) -> int:
    import json
    import time

    from emulator.customers_service import CustomersService

    service = CustomersService(
        fail_rate=args.fail_rate,
        slow_rate=args.slow_rate,
        slow_seconds=args.slow_seconds,
        seed=args.seed,
        user=args.user,
        password=args.password,
    )
    if args.counterparties:
        for item in json.loads(args.counterparties.read_text(encoding="utf-8")):
            service.add_counterparty(**item)
    url = service.serve(args.host, args.port)
    print(f"customers service on {url} (fail rate {args.fail_rate:g}, slow rate {args.slow_rate:g}); Ctrl-C stops")
    try:
        while True:
            time.sleep(5)
            stats = service.stats
            print(
                f"POST {stats.posts} (failed {stats.failures}, slow {stats.slow}), GET {stats.gets}, "
                f"counterparties {len(service.customers)}",
                flush=True,
            )
    except KeyboardInterrupt:
        service.stop()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "customers-service":
        return run_customers_service(args)
    password = args.password if args.password is not None else os.environ.get(PASSWORD_ENV)
    if password is None:
        parser.error(f"give --password or set {PASSWORD_ENV}")

    client = OneCClient(
        args.url,
        args.user,
        password,
        timeout=args.timeout,
        max_progress_polls=args.max_polls,
        poll_interval=args.poll_interval,
        basic_auth_on_every_request=args.basic_always,
        windows_filenames=args.windows_filenames,
        on_record=_print_record,
    )
    try:
        with client:
            if args.command == "catalog":
                report = client.run_catalog_exchange(
                    args.paths,
                    use_zip=args.use_zip,
                    version=args.version,
                    deactivate=args.deactivate,
                    complete=args.complete,
                    archive_name=args.archive_name,
                )
            else:
                result = client.run_sale_exchange(
                    args.changes,
                    version=args.version,
                    orders_path=args.out,
                    zip_query=args.zip_query,
                    info=args.info,
                    confirm=args.confirm,
                    reply_status_id=args.reply_status,
                    reply_status_text=args.reply_status_text,
                    reply_paid=args.reply_paid,
                )
                report = result.report
                orders = result.orders
                target = f" saved to {args.out}" if args.out else ""
                zipped = " (zipped)" if orders.archive is not None else ""
                print(f"orders XML{zipped}: {len(orders.content)} bytes, {orders.encoding}{target}")
                for document in orders.documents:
                    print(
                        f"  order {document.number}: {document.amount}, {len(document.lines)} line(s), {document.buyer}"
                    )
    except ExchangeFailure as failure:
        print(f"failure in mode={failure.mode}: {failure.text or '(no text)'}", file=sys.stderr)
        return EXIT_FAILURE
    except ProtocolError as error:
        print(f"protocol error: {error}", file=sys.stderr)
        return EXIT_PROTOCOL_ERROR
    except (EmulatorError, OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_PROTOCOL_ERROR
    _print_summary(report)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
