"""Orders benchmark: ``mode=query`` for 1k and 10k orders of 5 lines, on PostgreSQL.

For each size it reports the query (``exchange.sale.service.sale_query``: due orders read in
chunks, records, the streaming writer, the audit copy and the handed-out bookkeeping) in wall and
CPU time and peak RSS of a fresh process, the ``success`` that follows (marking them all), and the floor: the same number of Документ elements with the
same children written with lxml's ``xmlfile`` alone, from constants (no database, no records).
Goals (issue 7): ≤ 5 s for 10k orders, within 2× of the floor, RSS growth under 30 MB between 1k
and 10k. Figures are printed; nothing is asserted (the machine is noisy, ±10-20%).

    python -m benchmarks.bench_orders [--orders 1000 10000] [--lines 5]

Needs PostgreSQL: BENCH_ORDERS_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_orders);
the database is dropped and created for every size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from benchmarks.database import recreate_database

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_orders"
VARIANTS = 500


def _env(url: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="config.settings", LOG_LEVEL="WARNING")
    env.setdefault("VAR_DIR", str(ROOT / "var"))
    env.setdefault("EXCHANGE_DATA_DIR", str(ROOT / "var" / "bench" / "exchange-orders"))
    env["EXCHANGE_ZIP"] = "0"  # the plain document; zipping is a separate, optional cost
    return env


def _child(mode: str, orders: int, lines: int, url: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_orders", "--child", mode, str(orders), str(lines)],
        cwd=ROOT,
        env=_env(url),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _populate(orders: int, lines: int) -> None:
    """Orders of guests, registered people and companies, ``lines`` lines each, bulk-inserted."""
    from decimal import Decimal

    from catalog.models import PriceType, Product, ProductVariant
    from customers.models import CustomerType, User
    from orders.models import Order, OrderItem

    price_type = PriceType.objects.create(onec_id="retail", name="Розничная")
    products = Product.objects.bulk_create(
        Product(onec_id=f"{index:08d}-0000-4000-8000-000000000000", name=f"Товар {index}") for index in range(VARIANTS)
    )
    variants = ProductVariant.objects.bulk_create(
        ProductVariant(product=product, onec_id=f"{product.onec_id}#{index:04d}", name=product.name, stock_total=1000)
        for index, product in enumerate(products)
    )
    people = User.objects.bulk_create(
        User(email=f"buyer{index}@example.com", first_name="Иван", last_name=f"Петров{index}") for index in range(100)
    )
    firms = User.objects.bulk_create(
        User(
            email=f"firm{index}@example.com",
            customer_type=CustomerType.COMPANY,
            company_name=f'ООО "Ромашка {index}"',
            inn="7707083893",
            kpp="773601001",
        )
        for index in range(100)
    )
    price = Decimal("1499.90")
    batch = 2000
    for start in range(0, orders, batch):
        chunk = []
        for index in range(start, min(start + batch, orders)):
            customer = (None, people[index % 100], firms[index % 100])[index % 3]
            chunk.append(
                Order(
                    number=f"{index + 1:06d}",
                    customer=customer,
                    contact_name=f"Покупатель {index}",
                    contact_email=f"c{index}@example.com",
                    contact_phone="+79991234567",
                    delivery_address="Москва, ул. Тверская, 7",
                    price_type=price_type,
                    items_total=price * lines,
                    delivery_total=Decimal(300),
                    total=price * lines + 300,
                )
            )
        created = Order.objects.bulk_create(chunk)
        OrderItem.objects.bulk_create(
            OrderItem(
                order=order,
                variant=(variant := variants[(order.pk * lines + line) % VARIANTS]),
                onec_id=variant.onec_id or "",
                name=variant.name,
                unit_code="796",
                unit_name="шт",
                price=price,
                quantity=Decimal(1),
                total=price,
            )
            for order in created
            for line in range(lines)
        )


def _query() -> dict[str, Any]:
    from django.utils import timezone

    from customers.models import User
    from exchange.models import ExchangeSession, ExchangeSessionOrder
    from exchange.sale.bookkeeping import orders_confirm as sale_success_marks
    from exchange.sale.service import sale_query

    user, _ = User.objects.get_or_create(email="1c@example.com")
    token = secrets.token_hex(16)
    session = ExchangeSession.objects.create(
        key=token,
        csrf_token=token,
        user=user,
        exchange_type="sale",
        protocol_version="2.10",
        last_seen_at=timezone.now(),
    )
    started, cpu = time.perf_counter(), time.process_time()
    document = sale_query(session=session)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    handed = ExchangeSessionOrder.objects.filter(session=session).count()
    confirming = time.perf_counter()
    marked = len(sale_success_marks(session=session).marked)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "bytes": document.path.stat().st_size,
        "handed": handed,
        "marked": marked,
        "success_s": time.perf_counter() - confirming,
    }


def _floor(orders: int, lines: int) -> dict[str, Any]:
    """The same elements written with lxml alone: the cost of the XML itself."""
    import tempfile

    from lxml import etree

    sub = etree.SubElement
    started, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryFile() as sink:
        sink.write(b"\xef\xbb\xbf")
        with (
            etree.xmlfile(sink, encoding="utf-8") as xf,
            xf.element("{urn:1C.ru:commerceml_2}КоммерческаяИнформация", nsmap={None: "urn:1C.ru:commerceml_2"}),
        ):
            for index in range(orders):
                doc = etree.Element("Документ")
                for name, value in (
                    ("Ид", f"{index:06d}"),
                    ("Номер", f"{index:06d}"),
                    ("Дата", "2026-03-01"),
                    ("ХозОперация", "Заказ товара"),
                    ("Роль", "Продавец"),
                    ("Валюта", "RUB"),
                    ("Курс", "1"),
                    ("Сумма", "7799.50"),
                ):
                    sub(doc, name).text = value
                buyer = sub(sub(doc, "Контрагенты"), "Контрагент")
                for name, value in (
                    ("Ид", f"site-guest-{index}"),
                    ("Наименование", "Покупатель"),
                    ("ПолноеНаименование", "Покупатель"),
                ):
                    sub(buyer, name).text = value
                address = sub(buyer, "АдресРегистрации")
                sub(address, "Представление").text = "Москва, ул. Тверская, 7"
                contacts = sub(buyer, "Контакты")
                for kind, value in (("Почта", "c@example.com"), ("Телефон рабочий", "+79991234567")):
                    contact = sub(contacts, "Контакт")
                    sub(contact, "Тип").text = kind
                    sub(contact, "Значение").text = value
                sub(buyer, "Роль").text = "Покупатель"
                sub(doc, "Время").text = "10:00:00"
                goods = sub(doc, "Товары")
                for line in range(lines + 1):
                    item = sub(goods, "Товар")
                    sub(item, "Ид").text = f"{line:08d}-0000-4000-8000-000000000000#{line:04d}"
                    sub(item, "Наименование").text = f"Товар {line}"
                    unit = sub(item, "БазоваяЕдиница", Код="796", НаименованиеПолное="Штука")
                    unit.text = "шт"
                    requisites = sub(item, "ЗначенияРеквизитов")
                    for name, value in (("ВидНоменклатуры", "Товар"), ("ТипНоменклатуры", "Товар")):
                        requisite = sub(requisites, "ЗначениеРеквизита")
                        sub(requisite, "Наименование").text = name
                        sub(requisite, "Значение").text = value
                    sub(item, "ЦенаЗаЕдиницу").text = "1499.90"
                    sub(item, "Количество").text = "1"
                    sub(item, "Сумма").text = "1499.90"
                requisites = sub(doc, "ЗначенияРеквизитов")
                for name, value in (
                    ("Заказ оплачен", "false"),
                    ("Доставка разрешена", "false"),
                    ("Отменен", "false"),
                    ("Финальный статус", "false"),
                    ("Статус заказа", "[new] Новый"),
                    ("Статуса заказа ИД", "new"),
                    ("Дата изменения статуса", "2026-03-01 10:00:00"),
                    ("Адрес доставки", "Москва, ул. Тверская, 7"),
                ):
                    requisite = sub(requisites, "ЗначениеРеквизита")
                    sub(requisite, "Наименование").text = name
                    sub(requisite, "Значение").text = value
                xf.write(doc)
        size = sink.tell()
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "bytes": size}


def _run_child(mode: str, orders: int, lines: int) -> None:
    """Inside a fresh process, so peak RSS is this run's own."""
    if mode == "floor":
        result = _floor(orders, lines)
    else:
        import django

        django.setup()
        if mode == "populate":
            started = time.perf_counter()
            _populate(orders, lines)
            result = {"seconds": time.perf_counter() - started}
        else:
            result = _query()
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "ORDERS", "LINES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _run_child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    url = os.environ.get("BENCH_ORDERS_DATABASE_URL", DEFAULT_URL)
    print(f"Orders (mode=query) benchmark on {urlparse(url).hostname} (PostgreSQL), {os.cpu_count()} cores")
    results = []
    for orders in args.orders:
        print(f"- {orders} orders of {args.lines} lines", flush=True)
        recreate_database(url, env=_env(url))
        _child("populate", orders, args.lines, url)
        query = _child("query", orders, args.lines, url)
        floor = _child("floor", orders, args.lines, url)
        assert query["handed"] == query["marked"] == orders, query
        results.append((orders, query, floor))
    # CPU seconds are this process's own: on a loaded machine they move far less than wall time
    # (the query's wall time also holds PostgreSQL's share, which its CPU time does not).
    print(
        f"{'orders':>8}{'MB':>7}{'query s':>9}{'cpu s':>7}{'RSS MB':>8}"
        f"{'floor s':>9}{'cpu s':>7}{'RSS MB':>8}{'x floor':>8}{'x cpu':>7}{'success s':>10}"
    )
    for orders, query, floor in results:
        print(
            f"{orders:>8}{query['bytes'] / 1e6:>7.1f}{query['seconds']:>9.2f}{query['cpu']:>7.2f}{query['rss_mb']:>8.0f}"
            f"{floor['seconds']:>9.2f}{floor['cpu']:>7.2f}{floor['rss_mb']:>8.0f}"
            f"{query['seconds'] / floor['seconds']:>8.2f}{query['cpu'] / floor['cpu']:>7.2f}{query['success_s']:>10.2f}"
        )
    if len(results) > 1:
        growth = results[-1][1]["rss_mb"] - results[0][1]["rss_mb"]
        print(f"query RSS growth {results[0][0]} -> {results[-1][0]} orders: {growth:.0f} MB")


if __name__ == "__main__":
    main()
