"""Properties of the document and counterparty reader over generated input (hypothesis).

* Whatever a document holds, written in any namespace, encoding and layout (root-level Документ
  or 3.1 Контейнер), it reads back as the Document it was written from.
* Whatever a file is cut or corrupted into, the reader raises a CommerceMLError or yields
  records; never another exception.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commerceml import CommerceMLError, InvalidElement, ProductUnit, Section, SectionHeader, iter_records
from commerceml.records import Address, Contact, Counterparty, Discount, Document, DocumentItem

DATA = Path(__file__).resolve().parent.parent / "data" / "cml"

# Characters XML 1.0 can carry (no surrogates, no C0 controls but tab/newline/CR, no U+FFFE/FFFF).
_NOT_XML = "".join(chr(c) for c in range(0x20) if c not in (0x9, 0xA, 0xD)) + "\ufffe\uffff"
_chars = st.characters(blacklist_categories=["Cs"], blacklist_characters=_NOT_XML)
_markup = st.sampled_from(["&", "<", ">", '"', "&amp;", "]]>", "<Документ>", "Ёж", "😀", "€", " ", "\t", "\r\n"])
free_text = st.one_of(
    st.text(_chars, max_size=20), st.lists(st.one_of(st.text(_chars, max_size=8), _markup), max_size=5).map("".join)
)
# Something visible at both ends: what the reader keeps verbatim but maps blank to None.
visible_text = free_text.map(lambda text: f"«{text}»")
identifiers = st.text(alphabet="0123456789abcdef-#АБВгдЁ_.() ", min_size=1, max_size=36).map(str.strip).filter(bool)
optional_ids = st.none() | identifiers
money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
quantities = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)
dates = st.none() | st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))
times = st.none() | st.times().map(lambda t: t.replace(microsecond=0))
pairs = st.lists(st.tuples(identifiers, free_text), max_size=3).map(tuple)
units = st.sampled_from(
    [
        None,
        ProductUnit("796", "шт", "Штука", "PCE"),
        ProductUnit("715", "пар", "Пара (2 шт.)", None),
        ProductUnit("166", "кг", None, None),
    ]
)

addresses = st.none() | st.builds(
    Address,
    presentation=st.none() | visible_text,
    fields=st.lists(st.tuples(identifiers, visible_text), min_size=1, max_size=3).map(tuple),
)
contacts = st.lists(st.builds(Contact, kind=identifiers, value=identifiers), max_size=2).map(tuple)
counterparties = st.builds(
    Counterparty,
    id=optional_ids,
    name=free_text,
    role=st.none() | st.sampled_from(["Покупатель", "Плательщик", "Получатель"]),
    full_name=st.none() | visible_text,
    official_name=st.none() | visible_text,
    last_name=optional_ids,
    first_name=optional_ids,
    middle_name=optional_ids,
    inn=st.none() | st.from_regex(r"\d{10}|\d{12}", fullmatch=True),
    kpp=st.none() | st.from_regex(r"\d{9}", fullmatch=True),
    okpo=st.none() | st.from_regex(r"\d{8}", fullmatch=True),
    address=addresses,
    contacts=contacts,
    requisites=pairs,
    deleted=st.booleans(),
    version=optional_ids,
)
discounts = st.lists(
    st.builds(Discount, name=free_text, amount=money, included=st.booleans(), percent=st.none() | money), max_size=2
).map(tuple)
items = st.builds(
    DocumentItem,
    id=identifiers,
    name=free_text,
    quantity=quantities,
    price=st.none() | money,
    amount=st.none() | money,
    unit=units,
    catalog_id=optional_ids,
    discounts=discounts,
    requisites=pairs,
)
documents = st.builds(
    Document,
    id=identifiers,
    number=optional_ids,
    date=dates,
    time=times,
    operation=st.none() | st.sampled_from(["Заказ товара", "Выплата безналичных денег", "Отпуск товара"]),
    role=st.none() | st.just("Продавец"),
    currency=st.none() | st.sampled_from(["RUB", "руб"]),
    rate=st.none() | money,
    amount=st.none() | money,
    counterparties=st.lists(counterparties, max_size=2).map(tuple),
    comment=st.none() | visible_text,
    items=st.lists(items, max_size=3).map(tuple),
    requisites=pairs,
    discounts=discounts,
    delivery_address=addresses,
    onec_number=optional_ids,
    onec_date=dates,
    deleted=st.booleans(),
    version=optional_ids,
    base_id=optional_ids,
)


# --- a small writer for the test: every field in the spelling of one direction or the other ----


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _el(name: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{_esc(str(value))}</{name}>"


def _pairs(pairs: tuple[tuple[str, str], ...]) -> str:
    inner = "".join(
        f"<ЗначениеРеквизита>{_el('Наименование', n)}{_el('Значение', v)}</ЗначениеРеквизита>" for n, v in pairs
    )
    return f"<ЗначенияРеквизитов>{inner}</ЗначенияРеквизитов>" if pairs else ""


def _address(name: str, address: Address | None) -> str:
    if address is None:
        return ""
    fields = "".join(f"<АдресноеПоле>{_el('Тип', k)}{_el('Значение', v)}</АдресноеПоле>" for k, v in address.fields)
    return f"<{name}>{_el('Представление', address.presentation)}{fields}</{name}>"


def _discounts(discounts: tuple[Discount, ...]) -> str:
    inner = "".join(
        f"<Скидка>{_el('Наименование', d.name)}{_el('Сумма', d.amount)}{_el('Процент', d.percent)}"
        f"{_el('УчтеноВСумме', d.included)}</Скидка>"
        for d in discounts
    )
    return f"<Скидки>{inner}</Скидки>" if discounts else ""


def _counterparty(c: Counterparty, legal_address: bool) -> str:
    contacts = "".join(f"<Контакт>{_el('Тип', x.kind)}{_el('Значение', x.value)}</Контакт>" for x in c.contacts)
    return (
        f"<Контрагент>{_el('Ид', c.id)}{_el('НомерВерсии', c.version)}{_el('ПометкаУдаления', c.deleted)}"
        f"{_el('Наименование', c.name)}{_el('ПолноеНаименование', c.full_name)}"
        f"{_el('ОфициальноеНаименование', c.official_name)}{_el('Роль', c.role)}{_el('Фамилия', c.last_name)}"
        f"{_el('Имя', c.first_name)}{_el('Отчество', c.middle_name)}{_el('ИНН', c.inn)}{_el('КПП', c.kpp)}"
        f"{_el('КодПоОКПО', c.okpo)}"
        f"{_address('ЮридическийАдрес' if legal_address else 'АдресРегистрации', c.address)}"
        f"{f'<Контакты>{contacts}</Контакты>' if contacts else ''}{_pairs(c.requisites)}</Контрагент>"
    )


def _unit(unit: ProductUnit | None, as_elements: bool) -> str:
    if unit is None:
        return ""
    if as_elements:  # 2.10+ and 1C's answers
        return (
            f"<Единица>{_el('Код', unit.code)}{_el('НаименованиеКраткое', unit.name)}"
            f"{_el('НаименованиеПолное', unit.full_name)}{_el('МеждународноеСокращение', unit.intl_abbr)}</Единица>"
        )
    attributes = "".join(
        f' {name}="{_esc(value)}"'
        for name, value in (
            ("Код", unit.code),
            ("НаименованиеПолное", unit.full_name),
            ("МеждународноеСокращение", unit.intl_abbr),
        )
        if value is not None
    )
    return f"<БазоваяЕдиница{attributes}>{_esc(unit.name or '')}</БазоваяЕдиница>"


def _document(d: Document, from_1c: bool) -> str:
    lines = "".join(
        f"<Товар>{_el('Ид', i.id)}{_el('ИдКаталога', i.catalog_id)}{_el('Наименование', i.name)}"
        f"{_unit(i.unit, from_1c)}{_el('Цена' if from_1c else 'ЦенаЗаЕдиницу', i.price)}"
        f"{_el('Количество', i.quantity)}{_el('Сумма', i.amount)}{_discounts(i.discounts)}{_pairs(i.requisites)}</Товар>"
        for i in d.items
    )
    return (
        f"<Документ>{_el('Ид', d.id)}{_el('НомерВерсии', d.version)}{_el('ПометкаУдаления', d.deleted)}"
        f"{_el('Номер', d.number)}{_el('Номер1С', d.onec_number)}{_el('Дата', d.date)}{_el('Дата1С', d.onec_date)}"
        f"{_el('ХозОперация', d.operation)}{_el('Роль', d.role)}{_el('Валюта', d.currency)}{_el('Курс', d.rate)}"
        f"{_el('Сумма', d.amount)}<Контрагенты>{''.join(_counterparty(c, from_1c) for c in d.counterparties)}"
        f"</Контрагенты>{_el('Время', d.time)}{_el('Комментарий', d.comment)}{_el('Основание', d.base_id)}"
        f"{_discounts(d.discounts)}{_address('АдресДоставки', d.delivery_address)}"
        f"<Товары>{lines}</Товары>{_pairs(d.requisites)}</Документ>"
    )


def _file(body: str, namespace: str, encoding: str, bom: bool) -> io.BytesIO:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<КоммерческаяИнформация{xmlns} ВерсияСхемы="2.10">{body}</КоммерческаяИнформация>'
    )
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding, errors="xmlcharrefreplace"))


layouts = st.sampled_from(["root", "container"])
formats = st.sampled_from(
    [
        ("", "windows-1251", False),
        ("urn:1C.ru:commerceml_2", "UTF-8", True),
        ("urn:1C.ru:commerceml_210", "UTF-8", False),
        ("urn:1C.ru:commerceml_3", "UTF-8", True),
    ]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents, min_size=1, max_size=3), layouts, formats, st.booleans())
def test_documents_read_back_as_written(
    written: list[Document], layout: str, file_format: tuple[str, str, bool], from_1c: bool
) -> None:
    body = "".join(_document(d, from_1c) for d in written)
    if layout == "container":
        body = f"<Контейнер><Ид>box</Ид>{body}</Контейнер>"
    namespace, encoding, bom = file_format

    items = list(iter_records(_file(body, namespace, encoding, bom)))

    assert isinstance(items[0], SectionHeader)
    assert items[0].section == Section.DOCUMENTS
    container_id = "box" if layout == "container" else None
    assert items[1:] == [replace(d, container_id=container_id) for d in written]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(counterparties.filter(lambda c: c.id is not None), max_size=4), formats, st.booleans(), st.booleans())
def test_counterparties_file_reads_back_as_written(
    written: list[Counterparty], file_format: tuple[str, str, bool], changes_only: bool, legal_address: bool
) -> None:
    flag = "true" if changes_only else "false"
    body = f'<Контрагенты СодержитТолькоИзменения="{flag}">'
    body += "".join(_counterparty(c, legal_address) for c in written) + "</Контрагенты>"

    items = list(iter_records(_file(body, *file_format)))

    header = items[0]
    assert isinstance(header, SectionHeader)
    assert (header.section, header.changes_only, header.changes_only_explicit) == (
        Section.COUNTERPARTIES,
        changes_only,
        True,
    )
    assert items[1:] == written


# --- corrupted files ------------------------------------------------------------------------

_SAMPLES = [
    (DATA / name).read_bytes()
    for name in (
        "cml31-argentcrusade/documents-example.xml",
        "cml31-argentcrusade/contractors-example.xml",
        "cml207-carono/orders.xml",
        "cml207-dobromyslov/bitrix-query-response-full.xml",
    )
]


@st.composite
def corrupted(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(_SAMPLES))
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["cut", "insert", "delete"]))
        if action == "cut":
            data = data[:position]
        elif action == "insert":
            junk = draw(
                st.sampled_from(
                    [b"<", b">", b"&", b"\x00", b"\xff\xfe", b"</x>", "<Ид>".encode(), b"T", b"-1e9", b"\xd0"]
                )
            )
            data = data[:position] + junk + data[position:]
        else:
            data = data[:position] + data[position + draw(st.integers(1, 40)) :]
    return data


@settings(max_examples=150, deadline=None)
@given(corrupted(), st.sampled_from(["raise", "yield"]))
def test_a_corrupted_file_raises_a_commerceml_error_or_yields_records(data: bytes, on_invalid: str) -> None:
    try:
        records = list(iter_records(io.BytesIO(data), on_invalid=on_invalid))
    except CommerceMLError as exc:
        assert exc.reason  # located and explained, never another exception type
        return
    for record in records:
        assert isinstance(record, SectionHeader | Document | Counterparty | InvalidElement)
