"""The shop's customers: a custom user model with email login (in place since the first
migration, as Django cannot switch user models later)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from customers.roles import CustomerRole


class CustomerType(models.TextChoices):
    INDIVIDUAL = "individual", "Физическое лицо"
    COMPANY = "company", "Юридическое лицо"


class SyncStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", "Не требуется"
    PENDING = "pending", "Ожидает выгрузки"
    SYNCED = "synced", "Синхронизирован"
    ERROR = "error", "Ошибка, будет повтор"
    FAILED = "failed", "Не выгружен (попытки исчерпаны)"


class EmailUserManager(UserManager["User"]):
    """Users are identified by email; there is no username."""

    use_in_migrations = True

    def _create_user_with_email(self, email: str | None, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(  # type: ignore[override]
        self, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user_with_email(email, password, **extra)

    def create_superuser(  # type: ignore[override]
        self, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user_with_email(email, password, **extra)


class User(AbstractUser):
    username = None  # type: ignore[assignment]
    email = models.EmailField("email", unique=True)

    customer_type = models.CharField(
        "тип покупателя", max_length=20, choices=CustomerType.choices, default=CustomerType.INDIVIDUAL
    )
    company_name = models.CharField("наименование организации", max_length=255, blank=True)
    inn = models.CharField("ИНН", max_length=12, blank=True, db_index=True)
    kpp = models.CharField("КПП", max_length=9, blank=True)
    phone = models.CharField("телефон", max_length=32, blank=True, help_text="E.164, например +79991234567")
    address = models.CharField("адрес", max_length=500, blank=True)
    role = models.CharField(
        "роль (ценовая группа)", max_length=20, choices=CustomerRole.choices, default=CustomerRole.RETAIL
    )

    # Synchronisation with 1C (the customer sync fills these; the shop only reads them).
    onec_id = models.CharField("Ид в 1С", max_length=255, unique=True, null=True, blank=True)
    created_in_1c = models.BooleanField("создан в 1С", default=False)
    needs_1c_export = models.BooleanField("нужна выгрузка в 1С", default=False, db_index=True)
    sync_status = models.CharField(
        "статус синхронизации", max_length=20, choices=SyncStatus.choices, default=SyncStatus.NOT_REQUIRED
    )
    last_sync_at = models.DateTimeField("последняя синхронизация", null=True, blank=True)
    sync_error_message = models.TextField("ошибка синхронизации", blank=True)

    updated_at = models.DateTimeField("изменён", auto_now=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[EmailUserManager] = EmailUserManager()

    class Meta:
        verbose_name = "покупатель"
        verbose_name_plural = "покупатели"

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        if self.customer_type == CustomerType.COMPANY and self.company_name:
            return self.company_name
        return self.get_full_name() or self.email


class LoginThrottle(models.Model):
    """One counter of login attempts (customers.login_throttle): the failed ones and those being
    checked right now, within a window that starts with the first attempt. Rows are bumped with one
    atomic upsert, so parallel attempts can never all pass the check."""

    key = models.CharField(max_length=96, primary_key=True)
    count = models.IntegerField(default=0)  # failed attempts
    pending = models.IntegerField(default=0)  # attempts whose password is being checked
    window_start = models.BigIntegerField("начало окна (unix time)", default=0, db_index=True)

    class Meta:
        verbose_name = "счётчик попыток входа"
        verbose_name_plural = "счётчики попыток входа"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
