"""Answers of the "Обмен с сайтом" protocol, built in one place.

1C reads the body line by line: line 1 is the status word (``success``, ``progress`` or
``failure``), later lines are parameters or a message it shows to the operator
(../shared/reference/protocol.md §1.4). Failures are always HTTP 200 with a ``failure`` body
(§1.5): a non-200 status or an HTML page is shown in 1C only as "ошибка обмена".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

Status = Literal["success", "progress", "failure"]


@dataclass(frozen=True, slots=True)
class Answer:
    status: Status
    lines: tuple[str, ...] = ()

    def render(self) -> str:
        # Lines never contain a newline of their own: a message with one would shift every
        # later line 1C reads.
        parts = [self.status, *(" ".join(line.splitlines()) for line in self.lines)]
        return "\n".join(parts) + "\n"

    @property
    def message(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True, slots=True)
class ParametersAnswer:
    """An answer made only of ``key=value`` lines, with no status word: the ``init`` reply
    (``zip=…``, ``file_limit=…``, protocol.md §2.2). It counts as a success for the audit log."""

    lines: tuple[str, ...]
    status: ClassVar[Status] = "success"

    def render(self) -> str:
        return "\n".join(" ".join(line.splitlines()) for line in self.lines) + "\n"

    @property
    def message(self) -> str:
        return "\n".join(self.lines)


def parameters(*lines: str) -> ParametersAnswer:
    return ParametersAnswer(tuple(lines))


def success(*lines: str) -> Answer:
    return Answer("success", tuple(lines))


def progress(text: str) -> Answer:
    return Answer("progress", (text,))


def failure(reason: str) -> Answer:
    return Answer("failure", (reason,))


class ExchangeError(Exception):
    """An error 1C should see: the endpoint answers ``failure\\n<reason>``."""

    reason: str = "Exchange error"

    def __init__(self, reason: str | None = None) -> None:
        if reason is not None:
            self.reason = reason
        super().__init__(self.reason)

    def answer(self) -> Answer:
        return failure(self.reason)


# Failure reasons 1C shows to its operator. Kept together so their wording stays consistent.
#
# Wording rule: where the reference server (Bitrix) has a text for the situation, it is used
# verbatim, because 1C operators and support articles know those texts (sources: BX-CAT-LANG,
# BX-ADMIN in protocol.md §0). Our own texts are Russian too, as the operator reading the 1C
# exchange log is; the two English texts are fixed by the issue that specified the endpoint
# (and "Unknown command type." is also Bitrix's own). Texts with ``{…}`` are ``str.format``
# templates; the values are 1C's own names or our limits, never a server path.
IMPORT_ALREADY_RUNNING = "Import already in progress"
# The catalog import's answers for one file (mode=import, protocol.md §2.4). A file of a failed
# import is answered with the import's reason, whatever the file's own state: 1C must never hear
# success for a package that was not applied (with changes-only packages it never resends them).
IMPORT_SUCCESS = "Импорт успешно завершен."
IMPORT_NOT_CATALOG = "Файл не содержит данных каталога."
IMPORT_FAILED = "Ошибка импорта"
IMPORT_INTERNAL_ERROR = "Внутренняя ошибка импорта: {error}"
IMPORT_FILE_NOT_REACHED = "Файл не обработан: импорт прерван ошибкой."
DEACTIVATION_OFF = "Деактивация не выполнялась: отключена настройкой сайта (EXCHANGE_DEACTIVATE_MISSING)."
IMPORT_MORE_WARNINGS = "И ещё замечаний: {count}. Полный список в отчёте импорта на сайте."
# Why exchange.jobs failed an import whose worker is gone or that no worker ever started.
IMPORT_WORKER_LOST = "Обработчик импорта остановлен: нет признаков работы с {since}. Импорт прерван, повторите обмен."
IMPORT_WORKER_RESTARTED = (
    "Обработчик импорта остановлен: процесс {worker} перезапущен. Импорт прерван, повторите обмен."
)
IMPORT_WORKER_KILLED = "Обработчик импорта остановлен: {error}. Импорт прерван, повторите обмен."
IMPORT_STALE = "Импорт не выполнялся с {since}: обработчик импорта не запущен. Импорт прерван, повторите обмен."
IMPORT_STOPPED_BY_ADMIN = "Импорт прерван администратором сайта. Повторите обмен."
INTERNAL_ERROR = "Internal error, ref {ref}"

# Bitrix 1c_exchange.php answers an unknown ``type`` with this English text (BX-ADMIN).
UNKNOWN_TYPE = "Unknown command type."
# Bitrix CC_BSC1_ERROR_UNKNOWN_COMMAND.
UNKNOWN_MODE = "Неизвестная команда."
# Bitrix CC_BSC1_ERROR_AUTHORIZE; also used for a user without the exchange permission, so that
# the answer never tells whether the password was right.
AUTH_FAILED = "Ошибка авторизации. Неверное имя пользователя или пароль."
AUTH_THROTTLED = "Слишком много неудачных попыток авторизации. Повторите попытку позже."

SESSION_MISSING = "Сеанс обмена не найден. Выполните авторизацию (checkauth) заново."
SESSION_EXPIRED = "Сеанс обмена истёк. Выполните авторизацию (checkauth) заново."
SESSION_FINISHED = "Сеанс обмена уже завершён. Выполните авторизацию (checkauth) заново."
SESSION_WRONG_TYPE = "Сеанс обмена открыт для другого типа обмена ({expected}), а запрошен {got}."
# First sentence of Bitrix CC_BSC1_ERROR_SOURCE_CHECK (the rest names Bitrix settings): the
# sessid or the user named in the request does not belong to the session of the cookie.
SESSION_SOURCE_CHECK = "Ошибка проверки источника запроса."

METHOD_NOT_ALLOWED = "Метод запроса {method} не поддерживается."
FILE_NEEDS_POST = "Файл передаётся методом POST (mode=file)."
FILENAME_MISSING = "Не указано имя файла (параметр filename)."
FILENAME_UNSAFE = "Недопустимое имя файла: {name}"
FILE_TOO_LARGE = "Файл {name} больше допустимого размера ({limit} байт). Загрузка отменена."
SESSION_TOO_LARGE = "Файлы обмена больше допустимого общего размера ({limit} байт). Загрузка файла {name} отменена."
FILE_BUSY = "Файл {name} записывается другим запросом. Повторите обмен позже."
# The name, or a folder on its way, is already taken by a file or folder of the other kind (a
# file named like the images folder, a path through a file).
FILENAME_CONFLICT = "Файл {name} не может быть записан: имя {conflict} уже занято папкой или файлом обмена."
# Writing would leave less than EXCHANGE_MIN_FREE_BYTES on the server's disk.
DISK_SPACE_LOW = "Недостаточно места на диске сервера для файла {name}. Загрузка отменена."
# Bitrix CC_BSC1_ERROR_FILE_WRITE (the disk is full).
FILE_WRITE_FAILED = "Ошибка записи в файл {name}."
# Bitrix CC_BSC1_ERROR_HTTP_READ: the body ended before Content-Length bytes arrived.
UPLOAD_INTERRUPTED = "Ошибка чтения HTTP данных."
IMPORT_FILE_MISSING = "Ошибка открытия файла импорта: файл {name} не загружен."

# Bitrix CC_BSC1_ZIP_PROGRESS / CC_BSC1_ZIP_DONE / CC_BSC1_ZIP_ERROR; the details follow the
# Bitrix text on the same line.
ZIP_PROGRESS = "Идет распаковка архива."
ZIP_DONE = "Распаковка архива завершена."
ZIP_ERROR = "Ошибка распаковки архива."
ZIP_CORRUPT = "Архив {name} повреждён."
ZIP_ENCRYPTED = "Архив {name} зашифрован."
ZIP_UNSAFE_ENTRY = "Архив {name} содержит недопустимое имя файла: {entry}"
ZIP_LINK_ENTRY = "Архив {name} содержит ссылку: {entry}"
ZIP_TOO_MANY_ENTRIES = "Архив {name} содержит больше {limit} файлов."
ZIP_TOO_LARGE = "Архив {name} распаковывается больше чем в {limit} байт."
ZIP_RATIO_TOO_HIGH = "Архив {name}: файл {entry} сжат больше чем в {limit} раз."
ZIP_ARCHIVE_RATIO_TOO_HIGH = "Архив {name} сжат больше чем в {limit} раз."
ZIP_SESSION_TOO_LARGE = (
    "Архив {name} не распакован: вместе с ним файлы обмена больше допустимого общего размера ({limit} байт)."
)
ZIP_NAME_CONFLICT = "Архив {name}: файл {entry} не может быть записан, имя {conflict} уже занято папкой или файлом."
ZIP_DISK_SPACE_LOW = "Недостаточно места на диске сервера для распаковки архива {name}."

# The order exchange (type=sale). A success 1C sends without a query before it, or a second one,
# changes nothing and still answers success (1C has nothing to redo); the second line warns the
# operator reading the exchange log.
SALE_SUCCESS_WITHOUT_QUERY = "Предупреждение: подтверждение без выгрузки заказов в этом сеансе; ничего не отмечено."
SALE_SUCCESS_REPEATED = "Предупреждение: получение заказов уже подтверждено в этом сеансе; ничего не отмечено."
SALE_IMPORT_DONE = "Изменения заказов применены."
# Warnings 1C's operator reads after "success" for documents it sent back (Bitrix's texts, BX-SALE-LANG).
SALE_ORDER_NOT_FOUND = "Заказ №{number} на сайте не найден."
SALE_LINE_VARIANT_UNKNOWN = "Заказ №{number}: товар с Ид {item_id} на сайте не найден, строка не добавлена."
SALE_DOCUMENT_WITHOUT_ID = "Для документа со стороны 1С не передан уникальный идентификатор - 'Ид'."
SALE_IMPORT_SKIPPED = "Файл не содержит заказов."
SALE_FILE_MALFORMED = "Файл {name} не прочитан, изменения заказов не применены: {reason}"
SALE_FILE_NOT_ORDERS = "Файл {name} не содержит документов CommerceML; изменения заказов не применены."
SALE_LEGACY_ARCHIVE = "Архив {name}: в обмене без версии (init без version) принимаются только XML-файлы заказов."

# --- The customer sync with 1C's HTTP service: texts an operator reads in the admin (the
# customer's sync error, the sync log, the command's output). Not 1C exchange answers.
CUSTOMER_DATA_INVALID = "Данные покупателя не будут приняты 1С: {details}"
ONEC_TIMEOUT = "Сервис 1С не ответил за {seconds} с."
ONEC_UNREACHABLE = "Нет соединения с сервисом 1С: {error}"
ONEC_HTTP_ERROR = "Сервис 1С ответил HTTP {status}: {answer}"
ONEC_NO_ID = "Сервис 1С ответил HTTP {status} без onec_id: {answer}"
ONEC_REDIRECT = "Сервис 1С ответил перенаправлением HTTP {status}: проверьте ONEC_CUSTOMERS_URL."
ONEC_BAD_PAGE = "Сервис 1С вернул ответ не по контракту: {details}"
ONEC_ID_TAKEN = "Сервис 1С вернул Ид {onec_id}, который уже принадлежит другому покупателю ({other})."
ONEC_ID_DIFFERS = "Сервис 1С вернул Ид {got}, а у покупателя уже есть Ид {kept}: оставлен первый."
ONEC_SYNC_OFF = "Синхронизация покупателей выключена: не задан ONEC_CUSTOMERS_URL."
