"""The exchange's settings, read through one typed object.

``exchange_settings()`` builds a frozen snapshot from ``django.conf.settings`` on every call: it is
cheap (a few attribute reads) and so follows ``override_settings`` in tests without any cache to
invalidate. This is the only module that reads ``EXCHANGE_*`` settings; the values come from the
environment in config/settings.py, where each knob is documented.

A few knobs exist only as Django settings (not environment variables) because nobody should need
to turn them in production; their defaults are here, next to the reason for the value.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ImportMode = Literal["wait", "background"]
OrdersEncoding = Literal["utf-8", "windows-1251"]
ORDERS_ENCODINGS: tuple[OrdersEncoding, ...] = ("utf-8", "windows-1251")
IMPORT_MODES: tuple[ImportMode, ...] = ("wait", "background")

# How long one ``mode=import`` request may spend unpacking an archive before it answers
# ``progress`` and lets 1C repeat the request (Bitrix bounds each step the same way, protocol.md
# §2.3/§2.4). 20 s stays far below the HTTP timeouts of 1C and of the proxies in front of us.
DEFAULT_UNZIP_STEP_SECONDS = 20.0

# How long an upload waits for another request that is appending to the same file before it
# gives up with a failure answer. Parts of one file are sent one after another by 1C, so waiting
# happens only when a part is retried while the first attempt is still being written.
DEFAULT_UPLOAD_LOCK_WAIT_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class ExchangeSettings:
    data_dir: Path
    zip: bool
    file_limit: int
    max_file_size: int
    max_session_size: int
    max_unzipped_size: int
    max_zip_ratio: int
    max_zip_entries: int
    min_free_bytes: int
    session_idle_minutes: int
    import_mode: ImportMode
    import_stale_minutes: int
    import_lost_seconds: int
    import_skip_unchanged_files: bool
    deactivate_missing: bool
    # Product fields (catalog.models.PRODUCT_SITE_FIELDS) 1C stops writing once edited on the site.
    site_owned_fields: frozenset[str]
    auth_max_failures: int
    auth_window_seconds: int
    log_retention_days: int
    log_max_bytes: int
    cookie_name: str
    unzip_step_seconds: float
    upload_lock_wait_seconds: float
    orders_encoding: OrdersEncoding
    orders_resend_changed: bool

    @property
    def logs_dir(self) -> Path:
        """Copies of every file received or sent (audit); private like the rest of data_dir."""
        return self.data_dir / "logs"

    @property
    def locks_dir(self) -> Path:
        """Lock files of uploads in progress; outside the upload folders so 1C never sees them."""
        return self.data_dir / ".locks"

    @property
    def trash_dir(self) -> Path:
        """Upload folders moved aside by a new init, removed by the cleanup task."""
        return self.data_dir / ".trash"


def _is_within(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


@functools.lru_cache(maxsize=16)
def _check_private(data_dir: Path, served_roots: tuple[str, ...]) -> None:
    # Uploads may hold anything 1C (or an attacker with its password) sent: they must never be
    # reachable through the web server, so the folder may not sit under a served root. Cached per
    # combination of folders: resolving paths costs a system call per path component, and the
    # settings object is built several times per request.
    for root in served_roots:
        served = Path(root)
        if _is_within(data_dir, served) or _is_within(served, data_dir):
            raise ImproperlyConfigured(f"EXCHANGE_DATA_DIR ({data_dir}) must not overlap a served folder ({served})")


@functools.lru_cache(maxsize=16)
def _check_cookie_name(name: str) -> None:
    # 1C sends back "Cookie: <name>=<value>" verbatim; a dot or separator in the name is known to
    # break some setups (protocol.md §1.3), so only a plain token is allowed.
    if not name or not all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in name):
        raise ImproperlyConfigured(f"EXCHANGE_COOKIE_NAME must be a plain token, got {name!r}")


def _check_site_owned_fields(fields: frozenset[str]) -> None:
    from catalog.models import PRODUCT_SITE_FIELDS

    unknown = sorted(fields - set(PRODUCT_SITE_FIELDS))
    if unknown:
        raise ImproperlyConfigured(
            f"EXCHANGE_SITE_OWNED_FIELDS: unknown field(s) {', '.join(unknown)}; choose from {', '.join(PRODUCT_SITE_FIELDS)}"
        )


def exchange_settings() -> ExchangeSettings:
    import_mode = settings.EXCHANGE_IMPORT_MODE
    if import_mode not in IMPORT_MODES:
        raise ImproperlyConfigured(f"EXCHANGE_IMPORT_MODE must be one of {IMPORT_MODES}, got {import_mode!r}")
    orders_encoding = str(settings.EXCHANGE_ORDERS_ENCODING).strip().lower()
    if orders_encoding in {"utf8", "cp1251"}:
        orders_encoding = {"utf8": "utf-8", "cp1251": "windows-1251"}[orders_encoding]
    if orders_encoding not in ORDERS_ENCODINGS:
        raise ImproperlyConfigured(
            f"EXCHANGE_ORDERS_ENCODING must be one of {ORDERS_ENCODINGS}, got {settings.EXCHANGE_ORDERS_ENCODING!r}"
        )
    data_dir = Path(settings.EXCHANGE_DATA_DIR)
    _check_private(data_dir, tuple(str(root) for root in (settings.MEDIA_ROOT, settings.STATIC_ROOT) if root))
    cookie_name = settings.EXCHANGE_COOKIE_NAME
    _check_cookie_name(cookie_name)
    site_owned_fields = frozenset(settings.EXCHANGE_SITE_OWNED_FIELDS)
    _check_site_owned_fields(site_owned_fields)
    return ExchangeSettings(
        data_dir=data_dir,
        zip=bool(settings.EXCHANGE_ZIP),
        file_limit=int(settings.EXCHANGE_FILE_LIMIT),
        max_file_size=int(settings.EXCHANGE_MAX_FILE_SIZE),
        max_session_size=int(settings.EXCHANGE_MAX_SESSION_SIZE),
        max_unzipped_size=int(settings.EXCHANGE_MAX_UNZIPPED_SIZE),
        max_zip_ratio=int(settings.EXCHANGE_MAX_ZIP_RATIO),
        max_zip_entries=int(settings.EXCHANGE_MAX_ZIP_ENTRIES),
        min_free_bytes=int(settings.EXCHANGE_MIN_FREE_BYTES),
        session_idle_minutes=int(settings.EXCHANGE_SESSION_IDLE_MINUTES),
        import_mode=cast(ImportMode, import_mode),
        import_stale_minutes=int(settings.EXCHANGE_IMPORT_STALE_MINUTES),
        import_lost_seconds=int(settings.EXCHANGE_IMPORT_LOST_SECONDS),
        import_skip_unchanged_files=bool(settings.EXCHANGE_IMPORT_SKIP_UNCHANGED_FILES),
        deactivate_missing=bool(settings.EXCHANGE_DEACTIVATE_MISSING),
        site_owned_fields=site_owned_fields,
        auth_max_failures=int(settings.EXCHANGE_AUTH_MAX_FAILURES),
        auth_window_seconds=int(settings.EXCHANGE_AUTH_WINDOW_SECONDS),
        log_retention_days=int(settings.EXCHANGE_LOG_RETENTION_DAYS),
        log_max_bytes=int(settings.EXCHANGE_LOG_MAX_BYTES),
        cookie_name=cookie_name,
        unzip_step_seconds=float(getattr(settings, "EXCHANGE_UNZIP_STEP_SECONDS", DEFAULT_UNZIP_STEP_SECONDS)),
        upload_lock_wait_seconds=float(
            getattr(settings, "EXCHANGE_UPLOAD_LOCK_WAIT_SECONDS", DEFAULT_UPLOAD_LOCK_WAIT_SECONDS)
        ),
        orders_encoding=cast(OrdersEncoding, orders_encoding),
        orders_resend_changed=bool(settings.EXCHANGE_ORDERS_RESEND_CHANGED),
    )


# --- The customer sync with 1C's HTTP service (exchange.counterparties) -------------------------

CustomersFormat = Literal["json", "commerceml"]
CUSTOMERS_FORMATS: tuple[CustomersFormat, ...] = ("json", "commerceml")


@dataclass(frozen=True, slots=True)
class CustomerSyncSettings:
    url: str  # empty: the sync is off (customers are still marked, nothing is sent)
    http_user: str
    http_password: str
    timeout: float
    format: CustomersFormat
    max_attempts: int
    backoff_seconds: float
    backoff_max_seconds: float
    requeue_minutes: int
    sync_fields: frozenset[str]
    phone_region: str
    extra_fields: tuple[tuple[str, str], ...]  # (site field, 1C name)
    price_type_requisite: str
    import_page_size: int

    @property
    def enabled(self) -> bool:
        return bool(self.url)


# Customer fields ONEC_EXTRA_FIELDS may never name: 1C must not grant rights or set the sync's own
# bookkeeping, and the site must not send a password hash. The price tier comes through the price
# type's role mapping, not as a raw role.
EXTRA_FIELDS_FORBIDDEN = frozenset(
    {
        "id",
        "pk",
        "password",
        "is_staff",
        "is_superuser",
        "is_active",
        "groups",
        "user_permissions",
        "last_login",
        "role",
        "onec_id",
        "created_in_1c",
        "needs_1c_export",
        "sync_status",
        "last_sync_at",
        "sync_error_message",
    }
)


def _extra_fields(pairs: list[str]) -> tuple[tuple[str, str], ...]:
    result = []
    for pair in pairs:
        site_field, sep, onec_name = pair.partition(":")
        if not sep or not site_field.strip() or not onec_name.strip():
            raise ImproperlyConfigured(f"ONEC_EXTRA_FIELDS items are site_field:1c_name, got {pair!r}")
        if site_field.strip() in EXTRA_FIELDS_FORBIDDEN:
            raise ImproperlyConfigured(f"ONEC_EXTRA_FIELDS may not exchange {site_field.strip()!r}")
        result.append((site_field.strip(), onec_name.strip()))
    return tuple(result)


def customer_sync_settings() -> CustomerSyncSettings:
    fmt = settings.ONEC_CUSTOMERS_FORMAT
    if fmt not in CUSTOMERS_FORMATS:
        raise ImproperlyConfigured(f"ONEC_CUSTOMERS_FORMAT must be one of {CUSTOMERS_FORMATS}, got {fmt!r}")
    return CustomerSyncSettings(
        url=settings.ONEC_CUSTOMERS_URL.strip(),
        http_user=settings.ONEC_HTTP_USER,
        http_password=settings.ONEC_HTTP_PASSWORD,
        timeout=float(settings.ONEC_HTTP_TIMEOUT),
        format=cast(CustomersFormat, fmt),
        max_attempts=max(1, int(settings.ONEC_SYNC_MAX_ATTEMPTS)),
        backoff_seconds=float(settings.ONEC_SYNC_BACKOFF_SECONDS),
        backoff_max_seconds=float(settings.ONEC_SYNC_BACKOFF_MAX_SECONDS),
        requeue_minutes=int(settings.ONEC_SYNC_REQUEUE_MINUTES),
        sync_fields=frozenset(settings.ONEC_SYNC_FIELDS),
        phone_region=settings.ONEC_PHONE_REGION,
        extra_fields=_extra_fields(list(settings.ONEC_EXTRA_FIELDS)),
        price_type_requisite=settings.ONEC_PRICE_TYPE_REQUISITE,
        import_page_size=max(1, int(settings.ONEC_CUSTOMERS_IMPORT_PAGE_SIZE)),
    )
