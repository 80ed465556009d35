"""State of the "Обмен с сайтом" exchange, kept in the database so that a cache flush or a
restart of every process loses nothing."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ExchangeType(models.TextChoices):
    CATALOG = "catalog", "Каталог"
    SALE = "sale", "Заказы"


class ExchangeSession(models.Model):
    """One exchange of 1C with the site: from checkauth until it completes or expires.

    ``id`` names the upload folder and is safe to show; ``key`` is the secret cookie value 1C
    sends back and is never shown or logged.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Активен"
        COMPLETED = "completed", "Завершён"
        EXPIRED = "expired", "Истёк"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=64, unique=True, editable=False)
    csrf_token = models.CharField(max_length=64, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="пользователь", on_delete=models.PROTECT, related_name="+"
    )
    exchange_type = models.CharField("тип", max_length=16, choices=ExchangeType.choices)
    status = models.CharField("состояние", max_length=16, choices=Status.choices, default=Status.ACTIVE)
    remote_addr = models.GenericIPAddressField("адрес", null=True, blank=True)
    protocol_version = models.CharField("версия CommerceML", max_length=16, blank=True)
    started_at = models.DateTimeField("начат", auto_now_add=True)
    last_seen_at = models.DateTimeField("последний запрос", db_index=True)
    finished_at = models.DateTimeField("завершён", null=True, blank=True)
    started_timestamp = models.BigIntegerField("метка времени checkauth", default=0)
    init_count = models.PositiveIntegerField("вызовов init", default=0)
    bytes_received = models.BigIntegerField("получено байт", default=0)
    query_sent_at = models.DateTimeField("заказы выданы", null=True, blank=True)
    query_confirmed_at = models.DateTimeField("получение подтверждено", null=True, blank=True)
    # A new init starts an empty upload folder; when an import still reads the old one, the new
    # folder gets the next generation number instead (exchange.services.uploads).
    upload_generation = models.PositiveIntegerField("поколение папки загрузки", default=0)
    # Bytes of the files 1C uploaded into the current folder (EXCHANGE_MAX_SESSION_SIZE is checked
    # against it without summing the files on every part); bytes_received counts every part ever.
    upload_size = models.BigIntegerField("байт в папке загрузки", default=0)

    class Meta:
        verbose_name = "сеанс обмена"
        verbose_name_plural = "сеансы обмена"
        ordering = ("-started_at",)
        permissions = [("exchange_1c", "Может выполнять обмен с 1С")]
        # 1C that loses cookies is recognised by the sessid parameter (protocol.md §1.3).
        indexes = [models.Index(fields=["csrf_token"], name="exchange_session_csrf_idx")]

    def __str__(self) -> str:
        return f"{self.get_exchange_type_display()} {self.started_at:%Y-%m-%d %H:%M:%S}"


class ExchangeFile(models.Model):
    """A file 1C uploaded (possibly in several parts) within a session."""

    session = models.ForeignKey(ExchangeSession, on_delete=models.CASCADE, related_name="files")
    name = models.CharField("имя", max_length=1024)
    size = models.BigIntegerField("размер", default=0)
    parts = models.PositiveIntegerField("частей", default=0)
    is_archive = models.BooleanField("архив", default=False)
    unpacked_at = models.DateTimeField("распакован", null=True, blank=True)
    # Unpacking is spread over several requests: the next archive entry to extract and the bytes
    # extracted so far (exchange.services.uploads).
    unpack_position = models.PositiveIntegerField("распаковано элементов", default=0)
    unpacked_size = models.BigIntegerField("распаковано байт", default=0)
    log_name = models.CharField("копия в журнале", max_length=1200, blank=True)
    created_at = models.DateTimeField("получен", auto_now_add=True)
    updated_at = models.DateTimeField("изменён", auto_now=True)

    class Meta:
        verbose_name = "файл обмена"
        verbose_name_plural = "файлы обмена"
        ordering = ("created_at", "id")
        constraints = [models.UniqueConstraint(fields=("session", "name"), name="uniq_exchange_file_name")]

    def __str__(self) -> str:
        return self.name


class ExchangeSessionOrder(models.Model):
    """An order handed to 1C by ``mode=query`` in a session; ``mode=success`` confirms exactly these."""

    session = models.ForeignKey(ExchangeSession, on_delete=models.CASCADE, related_name="handed_orders")
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    order_updated_at = models.DateTimeField("версия заказа")
    handed_at = models.DateTimeField("выдан", auto_now_add=True)

    class Meta:
        verbose_name = "выданный заказ"
        verbose_name_plural = "выданные заказы"
        constraints = [models.UniqueConstraint(fields=("session", "order"), name="uniq_session_order")]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.session_id}"


class ImportSession(models.Model):
    """An import job: one run of a kind's importer over a set of files, with its progress and
    report (exchange.jobs runs it; what only one kind needs lives in that kind's own model, e.g.
    CatalogImportState).

    At most one job per kind is pending or running at a time; the partial unique constraint
    below is the lock, so it holds across processes and hosts and is released by changing status.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Ожидает"
        IN_PROGRESS = "in_progress", "Выполняется"
        COMPLETED = "completed", "Завершён"
        FAILED = "failed", "Ошибка"

    class Source(models.TextChoices):
        EXCHANGE = "exchange", "Обмен с 1С"
        MANUAL = "manual", "Вручную"

    ACTIVE_STATUSES = (Status.PENDING, Status.IN_PROGRESS)

    kind = models.CharField("вид", max_length=16, default=ExchangeType.CATALOG, choices=ExchangeType.choices)
    status = models.CharField("состояние", max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    source = models.CharField("источник", max_length=16, choices=Source.choices, default=Source.EXCHANGE)
    exchange_session = models.ForeignKey(
        ExchangeSession,
        verbose_name="сеанс обмена",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imports",
    )
    base_dir = models.CharField("папка файлов", max_length=1024)
    created_at = models.DateTimeField("создан", auto_now_add=True)
    started_at = models.DateTimeField("начат", null=True, blank=True)
    finished_at = models.DateTimeField("закончен", null=True, blank=True)
    heartbeat_at = models.DateTimeField("последний прогресс", null=True, blank=True)
    stage = models.CharField("этап", max_length=255, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    counters = models.JSONField("счётчики", default=dict, blank=True)
    report = models.TextField("отчёт", blank=True)
    errors = models.JSONField("ошибки элементов", default=list, blank=True)
    error_message = models.TextField("ошибка", blank=True)
    task_id = models.CharField(max_length=255, blank=True)
    # The Celery node running it: a worker that starts under the same name fails what it had run.
    worker = models.CharField("обработчик", max_length=255, blank=True)

    class Meta:
        verbose_name = "импорт каталога"
        verbose_name_plural = "импорты каталога"
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("kind",),
                condition=models.Q(status__in=("pending", "in_progress")),
                name="one_active_import_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"Импорт #{self.pk} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class ImportFile(models.Model):
    """A file of an import, processed in dependency order (rank) whatever order it arrived in."""

    class Status(models.TextChoices):
        PENDING = "pending", "Ожидает"
        IN_PROGRESS = "in_progress", "Обрабатывается"
        DONE = "done", "Обработан"
        FAILED = "failed", "Ошибка"
        SKIPPED = "skipped", "Пропущен"

    import_session = models.ForeignKey(ImportSession, on_delete=models.CASCADE, related_name="files")
    name = models.CharField("имя", max_length=1024)
    kind = models.CharField("содержимое", max_length=32, blank=True)
    rank = models.PositiveSmallIntegerField("порядок", default=0)
    status = models.CharField("состояние", max_length=16, choices=Status.choices, default=Status.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    # The file's content digest, and the earlier import of the same bytes it was skipped for.
    digest = models.CharField("контрольная сумма", max_length=64, blank=True, db_index=True)
    reused_from = models.ForeignKey(
        "self", verbose_name="не изменился с", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Element problems of this file as 1C's answer lists them after success (the first few, and
    # how many there were in all); the import's report keeps them in full.
    warnings = models.JSONField("замечания для 1С", default=list, blank=True)
    warnings_count = models.PositiveIntegerField("замечаний", default=0)

    class Meta:
        verbose_name = "файл импорта"
        verbose_name_plural = "файлы импорта"
        ordering = ("rank", "id")
        constraints = [models.UniqueConstraint(fields=("import_session", "name"), name="uniq_import_file_name")]

    def __str__(self) -> str:
        return self.name


class CatalogImportState(models.Model):
    """What only a catalog import keeps, beside its generic job row (exchange.jobs)."""

    job = models.OneToOneField(
        ImportSession, primary_key=True, on_delete=models.CASCADE, related_name="catalog", verbose_name="импорт"
    )
    # Deactivation bookkeeping: which products/variants this import saw (packed int64 primary
    # keys), whether it saw a full catalog or full offers package, and whether 1C asked for
    # mode=deactivate while it ran.
    seen_products = models.BinaryField(default=b"", editable=False)
    seen_variants = models.BinaryField(default=b"", editable=False)
    full_catalog = models.BooleanField("полная выгрузка каталога", default=False)
    full_offers = models.BooleanField("полная выгрузка предложений", default=False)
    deactivate_requested = models.BooleanField("запрошена деактивация", default=False)
    # When the exchange's package was closed: deactivated (at complete, deactivate, or the end of
    # an exchange whose files were all imported) or found incomplete. Set on every import of the
    # exchange at once, so a package is deactivated once and never in the middle of an exchange.
    package_closed_at = models.DateTimeField("пакет закрыт", null=True, blank=True)
    # Row counts and latest updated_at of every catalog table when this import completed: a
    # later import may skip a file identical to one of this import only while they still match.
    catalog_state = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = "состояние импорта каталога"
        verbose_name_plural = "состояния импорта каталога"

    def __str__(self) -> str:
        return f"Каталог импорта #{self.pk}"


class CatalogFileState(models.Model):
    """What a catalog file contained, for deactivation and for skipping it when unchanged."""

    file = models.OneToOneField(
        ImportFile, primary_key=True, on_delete=models.CASCADE, related_name="catalog", verbose_name="файл"
    )
    seen_products = models.BinaryField(default=b"", editable=False)
    seen_variants = models.BinaryField(default=b"", editable=False)
    full_catalog = models.BooleanField(default=False)
    full_offers = models.BooleanField(default=False)
    # The catalogs (Каталог/Ид, ИдКаталога) this file's sections named, per kind ("products",
    # "offers"), each with whether the section was a full package: what deactivation is scoped to.
    catalog_scopes = models.JSONField("каталоги", default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = "содержимое файла каталога"
        verbose_name_plural = "содержимое файлов каталога"

    def __str__(self) -> str:
        return f"Каталог файла #{self.pk}"


class ExchangeRequestLog(models.Model):
    """Audit record of one request 1C made, whatever its outcome."""

    created_at = models.DateTimeField("время", auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="пользователь",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField("логин", max_length=255, blank=True, db_index=True)
    remote_addr = models.GenericIPAddressField("адрес", null=True, blank=True, db_index=True)
    session = models.ForeignKey(
        ExchangeSession, verbose_name="сеанс", null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    method = models.CharField(max_length=8)
    exchange_type = models.CharField("тип", max_length=32, blank=True)
    mode = models.CharField("режим", max_length=32, blank=True, db_index=True)
    params = models.JSONField("параметры", default=dict, blank=True)
    outcome = models.CharField("ответ", max_length=16, blank=True, db_index=True)
    answer = models.TextField("текст ответа", blank=True)
    bytes_in = models.BigIntegerField("получено байт", default=0)
    bytes_out = models.BigIntegerField("отправлено байт", default=0)
    duration_ms = models.PositiveIntegerField("длительность, мс", default=0)
    error_ref = models.CharField("ссылка на ошибку", max_length=32, blank=True)
    # A checkauth refused for its credentials: what the throttle counts (a throttled request
    # checked no password and is not counted, so a waiting 1C is let in when the window passes).
    auth_failed = models.BooleanField("неудачная авторизация", default=False)

    class Meta:
        verbose_name = "запрос обмена"
        verbose_name_plural = "журнал запросов обмена"
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.exchange_type}/{self.mode} → {self.outcome}"


# The customer sync's models live with their flow; importing them here makes them exchange models.
from exchange.counterparties.models import (  # noqa: E402, F401
    CustomerSyncLog,
    CustomerSyncRun,
    CustomerSyncState,
    FailedCustomer,
)
