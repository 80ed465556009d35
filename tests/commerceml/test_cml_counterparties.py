"""Counterparties from a 3.1 Контрагенты file (contragents___*.xml, protocol.md §5.8).

Values asserted for the sample were taken by reading tests/data/cml/cml31-argentcrusade/
contractors-example.xml (1C's module, 2.09).
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

import pytest

from commerceml import CommerceMLValueError, InvalidElement, Section, SectionHeader, iter_records
from commerceml.records import Address, Contact, Counterparty

DATA = Path(__file__).resolve().parent.parent / "data" / "cml"
SAMPLE = DATA / "cml31-argentcrusade/contractors-example.xml"

T = TypeVar("T")


def of_type(items: Iterable[object], kind: type[T]) -> list[T]:
    return [item for item in items if isinstance(item, kind)]


def contragents_file(*counterparties: str, flag: str = ' СодержитТолькоИзменения="false"') -> io.BytesIO:
    return io.BytesIO(
        (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_3" ВерсияСхемы="3.1">'
            f"<Контрагенты{flag}>{''.join(counterparties)}</Контрагенты></КоммерческаяИнформация>"
        ).encode()
    )


def test_sample_file_gives_a_changes_only_header_then_every_counterparty() -> None:
    items = list(iter_records(SAMPLE))

    assert items[0] == SectionHeader(
        section=Section.COUNTERPARTIES,
        id=None,
        name=None,
        catalog_id=None,
        classifier_id=None,
        changes_only=True,
        changes_only_explicit=True,
        schema_version="2.09",
        generated_at="2015-06-26T18:28:11",
    )
    counterparties = of_type(items, Counterparty)
    assert len(items) == 5
    assert [(c.id, c.name, c.official_name, c.inn) for c in counterparties] == [
        ("d9510b52-e154-11db-80b9-00c09f6bedaa", 'Удаленный отдел "Уют"', 'Удаленный отдел "Уют"', None),
        ("4141d5ec-e2a6-11db-95d9-505054503030", "Алтай ТОО", 'ТОО "Алтай"', "181310839110"),
        ("021e0e3f-e329-11db-95d9-505054503030", "ТД Уют", 'ТОО "ТД Уют"', "181620360057"),
        ("c5b29133-e35a-11db-95d9-505054503030", "Банк ТуранАлем ОАО", 'ОАО "Банк ТуранАлем"', "600520144856"),
    ]
    assert {(c.role, c.kpp, c.okpo, c.deleted) for c in counterparties} == {("Покупатель", None, None, False)}
    assert [c.version for c in counterparties] == ["AAAAAQAAAAA=", "AAAAAQAAAAc=", "AAAAAQAAAAk=", "AAAAAQAAAAw="]
    assert pickle.loads(pickle.dumps(items)) == items


def test_sample_counterparty_with_bank_accounts_address_and_contacts() -> None:
    shop = of_type(iter_records(SAMPLE), Counterparty)[2]

    # The bank's own Адрес inside РасчетныеСчета is not the counterparty's address.
    assert shop.address == Address(
        presentation="005897, Города Республиканского значения: Алматы, Тохтарова, дом № 18",
        fields=(
            ("Почтовый индекс", "005897"),
            ("Страна", "005897"),
            ("Регион", "Города Республиканского значения: Алматы "),
            ("Улица", "Тохтарова"),
            ("Дом", "18"),
        ),
    )
    assert shop.contacts == (
        Contact("Электронная почта", "Uyt@komp.kz"),
        Contact("Телефон рабочий", "+7 (3272) 25-39-39"),
    )
    assert shop.requisites == ()


def test_counterparty_fields_of_a_person_with_requisites_and_deletion_mark() -> None:
    person = (
        "<Контрагент><Ид> c-1 </Ид><НомерВерсии>v7</НомерВерсии><ПометкаУдаления>true</ПометкаУдаления>"
        "<Наименование>Иванов Иван</Наименование><ПолноеНаименование>Иванов Иван Иванович</ПолноеНаименование>"
        "<Фамилия>Иванов</Фамилия><Имя>Иван</Имя><Отчество>Иванович</Отчество><КодПоОКПО>12345678</КодПоОКПО>"
        "<Адрес><Представление>Москва</Представление></Адрес>"
        "<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ТипЦен</Наименование><Значение>Опт</Значение>"
        "</ЗначениеРеквизита></ЗначенияРеквизитов></Контрагент>"
    )

    items = list(iter_records(contragents_file(person)))

    assert items[0].changes_only is False  # type: ignore[union-attr]
    assert items[1:] == [
        Counterparty(
            id="c-1",
            name="Иванов Иван",
            full_name="Иванов Иван Иванович",
            last_name="Иванов",
            first_name="Иван",
            middle_name="Иванович",
            okpo="12345678",
            address=Address("Москва"),
            requisites=(("ТипЦен", "Опт"),),
            deleted=True,
            version="v7",
        )
    ]


def test_a_file_without_the_flag_is_not_taken_for_changes_only_on_a_guess() -> None:
    header = next(iter(iter_records(contragents_file(flag=""))))

    assert isinstance(header, SectionHeader)
    assert (header.section, header.changes_only, header.changes_only_explicit) == (
        Section.COUNTERPARTIES,
        False,
        False,
    )


@pytest.mark.parametrize(
    ("counterparty", "reason"),
    [
        ("<Контрагент><Наименование>без Ид</Наименование></Контрагент>", "no Ид"),
        ("<Контрагент><Ид>bad</Ид><ПометкаУдаления>да</ПометкаУдаления></Контрагент>", "not a boolean"),
    ],
)
def test_a_bad_counterparty_is_an_element_error_and_reading_goes_on(counterparty: str, reason: str) -> None:
    source = contragents_file(counterparty, "<Контрагент><Ид>ok</Ид><Наименование>Да</Наименование></Контрагент>")

    items = list(iter_records(source, on_invalid="yield"))

    (invalid,) = of_type(items, InvalidElement)
    assert invalid.element == "Контрагент"
    assert reason in invalid.reason
    assert [c.id for c in of_type(items, Counterparty)] == ["ok"]
    source.seek(0)
    with pytest.raises(CommerceMLValueError, match=reason):
        list(iter_records(source))
