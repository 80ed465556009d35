"""mode=query and mode=success: every due order reaches 1C, and success marks exactly those."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from lxml import etree

from catalog.models import ProductVariant
from customers.models import User
from exchange.models import ExchangeSessionOrder
from exchange.protocol import SALE_SUCCESS_REPEATED, SALE_SUCCESS_WITHOUT_QUERY
from orders.admin import OrderAdmin
from orders.models import Order
from tests.exchange.conftest import PASSWORD, OneC, Response, assert_answer
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, ProductVariantFactory, UserFactory

pytestmark = pytest.mark.django_db

XSD_210 = Path(__file__).resolve().parents[1] / "data" / "cml" / "cml207-dobromyslov" / "commerceml-2.10.xsd"


@pytest.fixture(autouse=True)
def _plain_xml(settings) -> None:
    settings.EXCHANGE_ZIP = False


def place(
    *, lines: int = 1, customer: User | None = None, onec_ids: list[str] | None = None, **fields: object
) -> Order:
    order = OrderFactory(customer=customer, **fields)
    total = Decimal(0)
    for index in range(lines):
        variant = ProductVariantFactory(product=ProductFactory())
        if onec_ids is not None:
            ProductVariant.objects.filter(pk=variant.pk).update(onec_id=onec_ids[index] or None)
            variant.refresh_from_db()
        item = OrderItemFactory(order=order, variant=variant, price=Decimal("150.50"), quantity=Decimal(2))
        total += item.total
    Order.objects.filter(pk=order.pk).update(items_total=total, total=total + order.delivery_total)
    order.refresh_from_db()
    return order


def documents(response: Response) -> list[etree._Element]:
    data = response.content
    if response.content_type == "application/zip":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            (name,) = archive.namelist()
            data = archive.read(name)
    root = etree.fromstring(data.removeprefix(b"\xef\xbb\xbf"))
    return list(root.iter("{*}Документ"))


def text(element: etree._Element, path: str) -> str | None:
    return element.findtext("/".join(f"{{*}}{part}" for part in path.split("/")))


def requisites(element: etree._Element) -> dict[str, str | None]:
    return {
        text(item, "Наименование") or "": text(item, "Значение")
        for item in element.findall("{*}ЗначенияРеквизитов/{*}ЗначениеРеквизита")
    }


def sent(*orders: Order) -> list[bool]:
    return [Order.objects.get(pk=order.pk).sent_to_1c for order in orders]


def test_query_hands_out_every_unsent_order_guests_included(sale_onec: OneC) -> None:
    guest = place(contact_name="Гость Гостев", contact_email="g@example.com", contact_phone="+79990000001")
    registered = place(customer=UserFactory())
    place(sent_to_1c=True)
    place(export_skipped=True, export_skip_reason="нет строк")

    response = sale_onec.get("query")

    assert response.content_type == "application/xml; charset=utf-8"
    assert [text(doc, "Номер") for doc in documents(response)] == [guest.number, registered.number]
    (buyer,) = documents(response)[0].findall("{*}Контрагенты/{*}Контрагент")
    assert text(buyer, "Наименование") == "Гость Гостев"
    assert text(buyer, "Роль") == "Покупатель"
    contacts = [(text(c, "Тип"), text(c, "Значение")) for c in buyer.findall("{*}Контакты/{*}Контакт")]
    assert contacts == [("Почта", "g@example.com"), ("Телефон рабочий", "+79990000001")]


def test_each_document_carries_what_1c_needs_to_create_the_order(sale_onec: OneC) -> None:
    order = place(lines=2, onec_ids=["prod-1#char-1", "prod-2"], delivery_total=Decimal("300"), comment="Звонить")

    (doc,) = documents(sale_onec.get("query"))

    assert text(doc, "Ид") == order.number
    assert text(doc, "ХозОперация") == "Заказ товара"
    assert text(doc, "Роль") == "Продавец"
    assert (text(doc, "Валюта"), text(doc, "Курс")) == ("RUB", "1")
    assert text(doc, "Сумма") == "902.00"
    assert text(doc, "Дата") and text(doc, "Время")
    assert text(doc, "Комментарий") == "Звонить"
    lines = doc.findall("{*}Товары/{*}Товар")
    assert [text(line, "Ид") for line in lines] == ["prod-1#char-1", "prod-2", "ORDER_DELIVERY"]
    first = lines[0]
    unit = first.find("{*}БазоваяЕдиница")
    assert unit is not None
    assert unit.get("Код") == "796"
    assert (text(first, "ЦенаЗаЕдиницу"), text(first, "Количество"), text(first, "Сумма")) == ("150.50", "2", "301.00")
    assert text(lines[2], "Сумма") == "300.00"
    assert requisites(lines[2])["ТипНоменклатуры"] == "Услуга"
    values = requisites(doc)
    assert values["Заказ оплачен"] == "false"
    assert values["Отменен"] == "false"
    assert values["Финальный статус"] == "false"
    assert values["Статус заказа"] == "[new] Новый"
    assert values["Статуса заказа ИД"] == "new"
    assert values["Доставка разрешена"] == "false"
    assert values["Дата изменения статуса"]


def test_a_registered_customer_goes_under_its_1c_id_and_a_company_with_inn_and_kpp(sale_onec: OneC) -> None:
    person = UserFactory(onec_id="1c-customer-guid")
    company = UserFactory(company=True)
    place(customer=person)
    place(customer=company)

    first, second = documents(sale_onec.get("query"))

    buyer = first.find("{*}Контрагенты/{*}Контрагент")
    assert text(buyer, "Ид") == "1c-customer-guid"
    assert text(buyer, "ПолноеНаименование") == "Петров Иван"
    firm = second.find("{*}Контрагенты/{*}Контрагент")
    assert text(firm, "Ид") == f"site-customer-{company.pk}"
    assert text(firm, "ОфициальноеНаименование") == 'ООО "Ромашка"'
    assert (text(firm, "ИНН"), text(firm, "КПП")) == ("7707083893", "773601001")


def test_the_2_10_document_validates_against_the_official_schema(exchange_user: User) -> None:
    onec = OneC(Client(), username=exchange_user.email, password=PASSWORD, exchange_type="sale")
    onec.checkauth()
    onec.init(version="2.10")
    place(lines=2, onec_ids=["p-1#c-1", "p-2"], delivery_total=Decimal(100))
    place(customer=UserFactory(company=True))
    place(customer=UserFactory(onec_id="a1b2"), comment="Тест\x01")

    response = onec.get("query")

    schema = etree.XMLSchema(etree.parse(str(XSD_210)))
    root = etree.fromstring(response.content.removeprefix(b"\xef\xbb\xbf"))
    assert schema.validate(root), schema.error_log
    assert len(root) == 3


def test_3_1_puts_each_order_in_a_container(exchange_user: User) -> None:
    onec = OneC(Client(), username=exchange_user.email, password=PASSWORD, exchange_type="sale")
    onec.checkauth()
    onec.init(version="3.1")
    place()
    place()

    response = onec.get("query")

    root = etree.fromstring(response.content.removeprefix(b"\xef\xbb\xbf"))
    assert root.get("ВерсияСхемы") == "3.1"
    assert [etree.QName(child).localname for child in root] == ["Контейнер", "Контейнер"]


def test_zip_yes_answers_an_archive_with_one_xml_inside(sale_onec: OneC) -> None:
    order = place()

    response = sale_onec.get("query", zip="yes")

    assert response.content_type == "application/zip"
    assert [text(doc, "Номер") for doc in documents(response)] == [order.number]


def test_init_agreeing_zip_zips_the_answer(sale_onec: OneC, settings) -> None:
    settings.EXCHANGE_ZIP = True
    place()

    assert sale_onec.get("query").content_type == "application/zip"


def test_windows_1251_is_declared_and_unencodable_characters_become_question_marks(sale_onec: OneC, settings) -> None:
    settings.EXCHANGE_ORDERS_ENCODING = "windows-1251"
    place(contact_name="Анна \U000e0041 😀")

    response = sale_onec.get("query")

    assert response.content_type == "application/xml; charset=windows-1251"
    assert response.content.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    (doc,) = documents(response)
    assert text(doc, "Контрагенты/Контрагент/Наименование") == "Анна ? ?"


def test_success_marks_exactly_the_orders_handed_out_by_the_query(sale_onec: OneC) -> None:
    handed = place()
    sale_onec.get("query")
    late = place()  # placed between query and success

    assert_answer(sale_onec.get("success"), "success")

    assert sent(handed, late) == [True, False]
    assert Order.objects.get(pk=handed.pk).sent_to_1c_at is not None
    assert [text(doc, "Номер") for doc in documents(sale_onec.get("query"))] == [late.number]


def test_an_order_changed_after_the_query_stays_due(sale_onec: OneC) -> None:
    order = place()
    sale_onec.get("query")
    order.comment = "изменён покупателем"
    order.save()

    sale_onec.get("success")

    (doc,) = documents(sale_onec.get("query"))
    assert text(doc, "Комментарий") == "изменён покупателем"


def test_an_order_changed_after_its_export_is_handed_out_again_unless_turned_off(sale_onec: OneC, settings) -> None:
    order = place()
    sale_onec.get("query")
    sale_onec.get("success")
    assert documents(sale_onec.get("query")) == []

    order.refresh_from_db()
    order.comment = "новый адрес"
    order.save()
    settings.EXCHANGE_ORDERS_RESEND_CHANGED = False
    assert documents(sale_onec.get("query")) == []
    settings.EXCHANGE_ORDERS_RESEND_CHANGED = True
    assert [text(doc, "Комментарий") for doc in documents(sale_onec.get("query"))] == ["новый адрес"]


def test_success_without_a_query_changes_nothing_and_warns(sale_onec: OneC) -> None:
    order = place()

    assert_answer(sale_onec.get("success"), "success", SALE_SUCCESS_WITHOUT_QUERY)

    assert sent(order) == [False]


def test_a_repeated_success_changes_nothing_and_warns(sale_onec: OneC) -> None:
    first = place()
    sale_onec.get("query")
    assert_answer(sale_onec.get("success"), "success")
    Order.objects.filter(pk=first.pk).update(sent_to_1c=False)  # as if a manager queued it again
    place()

    assert_answer(sale_onec.get("success"), "success", SALE_SUCCESS_REPEATED)

    assert sent(first) == [False]


def test_a_poison_order_is_skipped_with_its_reason_and_never_blocks_the_others(sale_onec: OneC) -> None:
    empty = place(lines=0)
    unknown = place(onec_ids=[""])
    good = place()

    assert [text(doc, "Номер") for doc in documents(sale_onec.get("query"))] == [good.number]

    empty.refresh_from_db()
    unknown.refresh_from_db()
    assert (empty.export_skipped, empty.export_skip_reason) == (True, "В заказе нет строк.")
    assert unknown.export_skipped
    assert "нет Ид 1С" in unknown.export_skip_reason
    assert list(ExchangeSessionOrder.objects.values_list("order_id", flat=True)) == [good.pk]
    assert_answer(sale_onec.get("success"), "success")
    assert sent(empty, unknown, good) == [False, False, True]


def test_the_retry_action_puts_a_fixed_skipped_order_back_in_the_queue(sale_onec: OneC, rf, admin_user) -> None:
    order = place(onec_ids=[""])
    sale_onec.get("query")
    item = order.items.get()
    item.onec_id = "fixed-id"
    item.save()

    from django.contrib.admin.sites import site
    from django.contrib.messages.storage.fallback import FallbackStorage

    request = rf.post("/")
    request.user = admin_user
    request.session = {}
    request._messages = FallbackStorage(request)
    OrderAdmin(Order, site).retry_export(request, Order.objects.filter(pk=order.pk))

    assert [text(doc, "Ид") for doc in documents(sale_onec.get("query"))[0].findall("{*}Товары/{*}Товар")] == [
        "fixed-id"
    ]
