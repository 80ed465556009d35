"""``type=sale&mode=info``: the reference lists 1C's site-exchange module maps (protocol.md §3.5).

1C-Bitrix answers ``<Справочник><Cтатусы>…</Cтатусы><ПлатежныеСистемы>…</ПлатежныеСистемы>
<СлужбыДоставки>…</СлужбыДоставки></Справочник>`` in windows-1251; ``Cтатусы`` starts with a
Latin "C" there (BX-SALE-LANG ``CC_BSC1_DI_STATUSES``) and 1C's module looks for exactly that
spelling, so it is kept. The ids listed are what 1C then sends back as "Статуса заказа ИД" /
"Метод оплаты ИД" (exchange.sale.applier reads them).
"""

from __future__ import annotations

from lxml import etree

from commerceml.records import DELIVERY_ITEM_ID
from commerceml.writer import WINDOWS_1251, text_cleaner
from orders.models import OrderStatus, PaymentMethod

STATUSES_TAG = "Cтатусы"  # Latin C, as Bitrix writes it
# ТипОплаты: the kind of 1C document a payment of this method becomes (protocol.md §5.6).
PAYMENT_KINDS = {
    PaymentMethod.CASH: "Выплата наличных денег",
    PaymentMethod.CARD: "Эквайринговая операция",
    PaymentMethod.INVOICE: "Выплата безналичных денег",
}
DELIVERY_SERVICES = ((DELIVERY_ITEM_ID, "Доставка заказа"),)


def _element(parent: etree._Element, item_id: str, name: str) -> etree._Element:
    element = etree.SubElement(parent, "Элемент")
    etree.SubElement(element, "Ид").text = item_id
    etree.SubElement(element, "Название").text = name
    return element


def sale_info_document() -> bytes:
    clean = text_cleaner(WINDOWS_1251)
    root = etree.Element("Справочник")
    statuses = etree.SubElement(root, STATUSES_TAG)
    for status in OrderStatus:
        _element(statuses, status.value, clean(status.label))
    payments = etree.SubElement(root, "ПлатежныеСистемы")
    for method in PaymentMethod:
        element = _element(payments, method.value, clean(method.label))
        etree.SubElement(element, "ТипОплаты").text = PAYMENT_KINDS[method]
    deliveries = etree.SubElement(root, "СлужбыДоставки")
    for item_id, name in DELIVERY_SERVICES:
        _element(deliveries, item_id, name)
    body = etree.tostring(root, encoding=WINDOWS_1251, xml_declaration=False)
    assert isinstance(body, bytes)  # an encoding other than "unicode" gives bytes
    return b'<?xml version="1.0" encoding="windows-1251"?>\n' + body
