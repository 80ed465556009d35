"""Small hand-written CommerceML documents for importer tests (one behaviour per file)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

NS = 'xmlns="urn:1C.ru:commerceml_2"'
PRICE_TYPES = (("pt-retail", "Розничная"), ("pt-wholesale", "Оптовая"))
WAREHOUSES = (("wh-main", "Основной"), ("wh-shop", "Магазин"))


@dataclass
class Prod:
    id: str
    name: str = ""
    article: str = ""
    group: str = "g-root"
    status: str | None = None
    marked_deleted: bool = False
    # Text of ПометкаУдаления as written, for files that spell it unusually ("Нет").
    mark_text: str | None = None
    images: Sequence[str] = ()
    properties: Sequence[tuple[str, str]] = ()

    def xml(self) -> str:
        status = f' Статус="{self.status}"' if self.status else ""
        images = "".join(f"<Картинка>{escape(i)}</Картинка>" for i in self.images)
        props = "".join(
            f"<ЗначенияСвойства><Ид>{p}</Ид><Значение>{escape(v)}</Значение></ЗначенияСвойства>"
            for p, v in self.properties
        )
        mark = "<ПометкаУдаления>true</ПометкаУдаления>" if self.marked_deleted else ""
        if self.mark_text is not None:
            mark = f"<ПометкаУдаления>{escape(self.mark_text)}</ПометкаУдаления>"
        return (
            f"<Товар{status}><Ид>{self.id}</Ид>{mark}<Артикул>{escape(self.article or self.id.upper())}</Артикул>"
            f"<Наименование>{escape(self.name or 'Товар ' + self.id)}</Наименование>"
            '<БазоваяЕдиница Код="796 " НаименованиеПолное="Штука">шт</БазоваяЕдиница>'
            f"<Группы><Ид>{self.group}</Ид></Группы>{images}<ЗначенияСвойств>{props}</ЗначенияСвойств></Товар>"
        )


@dataclass
class Offer:
    id: str
    name: str | None = "Предложение"
    prices: dict[str, str] = field(default_factory=lambda: {"pt-retail": "100", "pt-wholesale": "90"})
    stock: dict[str, str] | None = field(default_factory=lambda: {"wh-main": "5", "wh-shop": "2"})
    quantity: str | None = None
    characteristics: Sequence[tuple[str, str]] = ()

    def xml(self) -> str:
        name = f"<Наименование>{escape(self.name)}</Наименование>" if self.name is not None else ""
        chars = ""
        if self.characteristics:
            chars = (
                "<ХарактеристикиТовара>"
                + "".join(
                    f"<ХарактеристикаТовара><Наименование>{n}</Наименование><Значение>{v}</Значение></ХарактеристикаТовара>"
                    for n, v in self.characteristics
                )
                + "</ХарактеристикиТовара>"
            )
        prices = "".join(
            f"<Цена><ИдТипаЦены>{t}</ИдТипаЦены><ЦенаЗаЕдиницу>{v}</ЦенаЗаЕдиницу><Валюта>RUB</Валюта></Цена>"
            for t, v in self.prices.items()
        )
        stock = ""
        if self.stock is not None:
            total = self.quantity if self.quantity is not None else str(sum(float(q) for q in self.stock.values()))
            stock = f"<Количество>{total}</Количество>" + "".join(
                f'<Склад ИдСклада="{w}" КоличествоНаСкладе="{q}"/>' for w, q in self.stock.items()
            )
        return f"<Предложение><Ид>{self.id}</Ид>{name}{chars}<Цены>{prices}</Цены>{stock}</Предложение>"


def import_xml(
    products: Sequence[Prod], *, changes_only: bool = False, properties: str = "", catalog: str = "cat"
) -> str:
    flag = "true" if changes_only else "false"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация {NS} ВерсияСхемы="2.07">'
        "<Классификатор><Ид>cls</Ид><Наименование>Классификатор</Наименование>"
        "<Группы><Группа><Ид>g-root</Ид><Наименование>Все товары</Наименование><Группы>"
        "<Группа><Ид>g-child</Ид><Наименование>Подгруппа</Наименование></Группа></Группы></Группа></Группы>"
        f"<Свойства>{properties}</Свойства></Классификатор>"
        f'<Каталог СодержитТолькоИзменения="{flag}"><Ид>{catalog}</Ид><ИдКлассификатора>cls</ИдКлассификатора>'
        f"<Наименование>Каталог</Наименование><Товары>{''.join(p.xml() for p in products)}</Товары></Каталог>"
        "</КоммерческаяИнформация>"
    )


def offers_xml(offers: Sequence[Offer], *, changes_only: bool = False, catalog: str = "cat") -> str:
    flag = "true" if changes_only else "false"
    price_types = "".join(
        f"<ТипЦены><Ид>{i}</Ид><Наименование>{n}</Наименование><Валюта>RUB</Валюта></ТипЦены>" for i, n in PRICE_TYPES
    )
    warehouses = "".join(f"<Склад><Ид>{i}</Ид><Наименование>{n}</Наименование></Склад>" for i, n in WAREHOUSES)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация {NS} ВерсияСхемы="2.07">'
        f'<ПакетПредложений СодержитТолькоИзменения="{flag}"><Ид>{catalog}#</Ид><ИдКаталога>{catalog}</ИдКаталога>'
        f"<Наименование>Пакет</Наименование><ТипыЦен>{price_types}</ТипыЦен><Склады>{warehouses}</Склады>"
        f"<Предложения>{''.join(o.xml() for o in offers)}</Предложения></ПакетПредложений></КоммерческаяИнформация>"
    )


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if encoding != "utf-8":
        text = text.replace('encoding="UTF-8"', f'encoding="{encoding}"')
    path.write_bytes(text.encode(encoding))
    return path
