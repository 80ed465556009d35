"""Django settings. Every value comes from the environment (see config/env.py and README).

The embedded default (no variables set) is SQLite plus a broker that needs no server (kombu's
SQLAlchemy transport on a SQLite file), so that `make run` works on a bare machine. Production
sets DATABASE_URL=postgres://… and CELERY_BROKER_URL=redis://….
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

from config.env import ImproperEnvironment, env_bool, env_float, env_int, env_list, env_str
from config.ratelimit import parse_rate

BASE_DIR = Path(__file__).resolve().parent.parent

VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"), "Folder for the embedded database, broker, uploads and logs."))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Prometheus samples of every process of this machine (observability.multiproc). prometheus-client
# reads the variable when it is imported, which happens after the settings are loaded; never on
# shared storage: each machine has its own and is scraped on its own.
PROMETHEUS_MULTIPROC_DIR = Path(
    env_str(
        "PROMETHEUS_MULTIPROC_DIR",
        str(VAR_DIR / "prometheus"),
        "Folder where every web and worker process of this machine keeps its metrics; local, cleaned at start.",
    )
)
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
METRICS_TOKEN = env_str(
    "METRICS_TOKEN",
    "",
    "When set, /metrics answers only requests with `Authorization: Bearer <token>`; open when empty.",
)
SHOP_NAME = env_str("SHOP_NAME", "Магазин", "The shop's name, the title of the admin.")


def _secret_key() -> str:
    """The key from the environment, else one generated once and kept in VAR_DIR (never committed)."""
    from_env = env_str("DJANGO_SECRET_KEY", "", "Secret key; generated into VAR_DIR/secret_key when empty.")
    if from_env:
        return from_env
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False, "Debug mode; `make run` turns it on, off everywhere else.")
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]", "Comma-separated host names the site answers."
)
CSRF_TRUSTED_ORIGINS = env_list(
    "DJANGO_CSRF_TRUSTED_ORIGINS", "", "Comma-separated origins trusted for admin forms behind a proxy."
)

INSTALLED_APPS = [
    "observability.admin_site.ShopAdminConfig",  # django.contrib.admin with the dashboard as front page
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "customers",
    "catalog",
    "orders",
    "exchange",
    "observability",
]

MIDDLEWARE = [
    "observability.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
    "Database; postgres://user@host:5432/name in production, SQLite file by default.",
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file: WAL lets readers and one writer coexist, and
    # IMMEDIATE transactions take the write lock up front instead of failing mid-transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    # A file, not :memory:, so that a worker process started by a test sees the test database;
    # one per test process, so that concurrent test runs never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "customers.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_str("DJANGO_LANGUAGE_CODE", "ru", "Language of the admin.")
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "Europe/Moscow", "Time zone for dates shown and dates 1C sends without offset.")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "static"), "Where collectstatic puts files."))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at start-up about a missing one
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media"), "Public uploaded files (product images)."))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str(
    "CELERY_BROKER_URL",
    f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}",
    "Celery broker; redis://127.0.0.1:6379/0 in production, a SQLite file by default.",
)
CELERY_RESULT_BACKEND = env_str(
    "CELERY_RESULT_BACKEND",
    CELERY_BROKER_URL
    if CELERY_BROKER_URL.startswith("redis")
    else f"db+sqlite:///{VAR_DIR / 'celery-results.sqlite3'}",
    "Where task results are kept; follows a Redis broker, else a SQLite file.",
)
CELERY_TASK_ALWAYS_EAGER = False
# The queue every task of the site goes to and a worker started without -Q consumes: sites (or
# test runs) sharing one broker database each use their own.
CELERY_TASK_DEFAULT_QUEUE = env_str(
    "CELERY_QUEUE",
    "celery",
    "Celery queue the site's tasks go to and its workers consume (one per site on a shared broker).",
)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600} if CELERY_BROKER_URL.startswith("redis") else {}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "expire-exchange-sessions": {"task": "exchange.expire_sessions", "schedule": 600.0},
    "prune-exchange-logs": {"task": "exchange.prune_exchange_logs", "schedule": 3600.0},
    # Every minute: a dead worker's import must not hold the exchange (EXCHANGE_IMPORT_LOST_SECONDS).
    "fail-stale-imports": {"task": "exchange.fail_stale_imports", "schedule": 60.0},
    "clear-expired-login-sessions": {"task": "config.clear_expired_sessions", "schedule": 86400.0},
    # The customer export outbox: customers still marked whose task was lost (broker outage,
    # worker killed) are queued again; see exchange.counterparties.export.
    "requeue-customer-exports": {"task": "exchange.requeue_customer_exports", "schedule": 60.0},
    "import-customers-from-1c": {"task": "exchange.import_customers_from_1c", "schedule": 300.0},
}

# --- Shared cache and login throttles ------------------------------------------------------
# One cache shared by every process of the site (DRF's rate throttles, the API's rate limits):
# Redis when CACHE_URL or, failing that, CELERY_BROKER_URL names one; on the embedded default a
# file cache in VAR_DIR/cache, which every process on the machine shares and which needs no table
# or server. Never a per-process memory cache: with 3 gunicorn workers a limit would be 3 limits.
CACHE_URL = env_str(
    "CACHE_URL",
    "",
    "Shared cache: redis://host:6379/N; empty: the Redis of CELERY_BROKER_URL if it is one, else a file cache in VAR_DIR/cache.",
)
CACHE_KEY_PREFIX = env_str(
    "CACHE_KEY_PREFIX", "shop1c", "Prefix of every cache key, for sites (or test runs) sharing one Redis."
)
_cache_url = CACHE_URL or (CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "")
if _cache_url and not _cache_url.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperEnvironment(f"CACHE_URL must be a redis:// URL or empty, got {CACHE_URL!r}")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
    )
    | {"KEY_PREFIX": CACHE_KEY_PREFIX}
}
TRUSTED_PROXIES = env_int(
    "TRUSTED_PROXIES",
    0,
    "Reverse proxies in front of the site; the client address is taken from X-Forwarded-For only when above 0.",
)
LOGIN_MAX_FAILURES = env_int(
    "LOGIN_MAX_FAILURES",
    5,
    "Failed API token or admin logins per address and login before throttling (4x that per address).",
)
LOGIN_FAILURE_WINDOW_SECONDS = env_int(
    "LOGIN_FAILURE_WINDOW_SECONDS", 900, "Window over which failed API token and admin logins are counted."
)

# --- REST API -------------------------------------------------------------------------------
# Largest request body (uploaded files aside) Django reads into memory; the API answers a bigger
# one 413. The 1C exchange streams its uploads and is not bound by it (EXCHANGE_FILE_LIMIT).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int(
    "DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE",
    2_621_440,
    "Largest request body in bytes the API and the admin read (files aside); bigger ones get 413.",
)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PARSER_CLASSES": [
        "config.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 20, "Items per page in list endpoints of the REST API."),
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # The same rule as config.http.client_address: X-Forwarded-For only behind trusted proxies.
    "NUM_PROXIES": TRUSTED_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API",
    "DESCRIPTION": "Catalog (read-only), customers and orders of a shop whose catalog comes from 1C.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Shop -----------------------------------------------------------------------------------
SHOP_CURRENCY = env_str("SHOP_CURRENCY", "RUB", "Currency of orders when a price carries none.")
SHOP_ORDER_NUMBER_PREFIX = env_str(
    "SHOP_ORDER_NUMBER_PREFIX", "", "Text put before every order number, e.g. a shop code."
)
# What one order may hold, so that one visitor cannot tie up a shop's stock in a single order.
SHOP_ORDER_MAX_LINES = env_int("SHOP_ORDER_MAX_LINES", 200, "Most lines one order may have.")
SHOP_ORDER_MAX_LINE_QUANTITY = env_int(
    "SHOP_ORDER_MAX_LINE_QUANTITY", 10_000, "Largest quantity of one variant in one order."
)
# Orders placed (refused ones are not counted), on the shared cache: per client address for
# everyone, per account for logged-in customers. Customers behind one office NAT share the first.
SHOP_ORDER_RATE_PER_ADDRESS = parse_rate(
    env_str(
        "SHOP_ORDER_RATE_PER_ADDRESS", "30/hour", "Orders one client address may place, e.g. 30/hour; empty: no limit."
    ),
    name="SHOP_ORDER_RATE_PER_ADDRESS",
)
SHOP_ORDER_RATE_PER_CUSTOMER = parse_rate(
    env_str(
        "SHOP_ORDER_RATE_PER_CUSTOMER",
        "60/hour",
        "Orders one customer account may place, e.g. 60/hour; empty: no limit.",
    ),
    name="SHOP_ORDER_RATE_PER_CUSTOMER",
)
SHOP_ORDER_STATUS_EMAIL = env_bool(
    "SHOP_ORDER_STATUS_EMAIL", True, "Email the customer when their order's status changes (sent by the worker)."
)

# --- Email ----------------------------------------------------------------------------------
# The console backend prints messages to the worker's log: nothing leaves the machine until SMTP
# is configured.
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if env_bool("EMAIL_SMTP", False, "Send email through SMTP (EMAIL_HOST…); off: print it to the log.")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost", "SMTP server.")
EMAIL_PORT = env_int("EMAIL_PORT", 587, "SMTP port.")
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "", "SMTP login.")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "", "SMTP password.")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True, "STARTTLS to the SMTP server.")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "shop@localhost", "Sender address of the shop's email.")

# --- 1C exchange ("Обмен с сайтом"); read through exchange.conf.exchange_settings() --------
EXCHANGE_DATA_DIR = Path(
    env_str(
        "EXCHANGE_DATA_DIR",
        str(VAR_DIR / "exchange"),
        "Private folder for uploads from 1C and exchange logs; never served.",
    )
)
EXCHANGE_ZIP = env_bool("EXCHANGE_ZIP", True, "Answer zip=yes to init: 1C may send one archive.")
# 64 MiB parts: at 8 MiB even a bare receive-and-write app under gunicorn reached only 0.53 of the
# disk's rate on the benchmark machine (per-request cost); at 64 MiB the endpoint reaches 0.86.
# A proxy in front must accept bodies this big (nginx: client_max_body_size 64m).
EXCHANGE_FILE_LIMIT = env_int(
    "EXCHANGE_FILE_LIMIT",
    64 * 1024 * 1024,
    "Bytes per upload request 1C is told to send (file_limit); a proxy in front must accept bodies this big.",
)
EXCHANGE_MAX_FILE_SIZE = env_int(
    "EXCHANGE_MAX_FILE_SIZE", 2 * 1024**3, "Largest file one exchange may upload, in bytes."
)
EXCHANGE_MAX_SESSION_SIZE = env_int(
    "EXCHANGE_MAX_SESSION_SIZE",
    8 * 1024**3,
    "Largest total size of one exchange session's files, uploaded and unpacked, in bytes.",
)
EXCHANGE_MAX_UNZIPPED_SIZE = env_int(
    "EXCHANGE_MAX_UNZIPPED_SIZE", 8 * 1024**3, "Largest total unpacked size of an archive, in bytes."
)
EXCHANGE_MAX_ZIP_RATIO = env_int(
    "EXCHANGE_MAX_ZIP_RATIO",
    200,
    "Largest unpacked/packed size ratio of an archive entry, and of a session's archives together (beyond 1 MiB).",
)
EXCHANGE_MAX_ZIP_ENTRIES = env_int("EXCHANGE_MAX_ZIP_ENTRIES", 200_000, "Most entries an archive may hold.")
EXCHANGE_MIN_FREE_BYTES = env_int(
    "EXCHANGE_MIN_FREE_BYTES",
    1024**3,
    "Free disk space uploads and unpacking always leave, in bytes; 1C gets a failure instead.",
)
EXCHANGE_SESSION_IDLE_MINUTES = env_int(
    "EXCHANGE_SESSION_IDLE_MINUTES", 120, "An exchange session idle this long expires."
)
EXCHANGE_IMPORT_MODE = env_str(
    "EXCHANGE_IMPORT_MODE",
    "wait",
    "wait: 1C polls with progress until the import ends; background: success once queued.",
)
EXCHANGE_IMPORT_STALE_MINUTES = env_int(
    "EXCHANGE_IMPORT_STALE_MINUTES", 120, "An import no worker has started for this long is marked failed."
)
# A running import stamps its heartbeat every second; 120 s of silence means its worker is gone.
EXCHANGE_IMPORT_LOST_SECONDS = env_int(
    "EXCHANGE_IMPORT_LOST_SECONDS",
    120,
    "A running import whose worker sent no heartbeat this long is failed and the lock released.",
)
EXCHANGE_IMPORT_SKIP_UNCHANGED_FILES = env_bool(
    "EXCHANGE_IMPORT_SKIP_UNCHANGED_FILES",
    True,
    "Skip a file identical to one already imported (its ДатаФормирования stamp aside) while the catalog is untouched since.",
)
EXCHANGE_SITE_OWNED_FIELDS = env_list(
    "EXCHANGE_SITE_OWNED_FIELDS",
    "",
    "Product fields the site owns once a manager edited them on the site: 1C no longer overwrites them"
    " (comma-separated: name, article, description, category, unit, images).",
)
EXCHANGE_DEACTIVATE_MISSING = env_bool(
    "EXCHANGE_DEACTIVATE_MISSING",
    True,
    "Deactivate products and offers a full exchange of their catalog did not contain; 0 keeps them active.",
)
EXCHANGE_AUTH_MAX_FAILURES = env_int(
    "EXCHANGE_AUTH_MAX_FAILURES",
    5,
    "Failed checkauth attempts per address and login before throttling (4x that per address).",
)
EXCHANGE_AUTH_WINDOW_SECONDS = env_int(
    "EXCHANGE_AUTH_WINDOW_SECONDS", 900, "Window over which failed checkauth attempts are counted."
)
EXCHANGE_LOG_RETENTION_DAYS = env_int(
    "EXCHANGE_LOG_RETENTION_DAYS", 30, "Days the request log rows and the copies of exchanged files are kept."
)
EXCHANGE_LOG_MAX_BYTES = env_int(
    "EXCHANGE_LOG_MAX_BYTES", 5 * 1024**3, "Total size the exchanged-file copies may take."
)
EXCHANGE_COOKIE_NAME = env_str("EXCHANGE_COOKIE_NAME", "exchange_session", "Cookie name given to 1C at checkauth.")
EXCHANGE_ORDERS_ENCODING = env_str(
    "EXCHANGE_ORDERS_ENCODING",
    "utf-8",
    "Encoding of the orders document (mode=query): utf-8 (with BOM) or windows-1251.",
)
EXCHANGE_ORDERS_RESEND_CHANGED = env_bool(
    "EXCHANGE_ORDERS_RESEND_CHANGED", True, "Hand an order to 1C again when it changed on the site after its export."
)

# --- Customer sync with 1C's HTTP service; read through exchange.conf.customer_sync_settings() --
ONEC_CUSTOMERS_URL = env_str(
    "ONEC_CUSTOMERS_URL", "", "URL of 1C's customers HTTP service (POST export, GET import); empty = sync off."
)
ONEC_HTTP_USER = env_str("ONEC_HTTP_USER", "", "Basic-auth user for 1C's HTTP service.")
ONEC_HTTP_PASSWORD = env_str("ONEC_HTTP_PASSWORD", "", "Basic-auth password for 1C's HTTP service.")
ONEC_HTTP_TIMEOUT = env_float("ONEC_HTTP_TIMEOUT", 10.0, "Seconds to wait for 1C's HTTP service per request.")
ONEC_CUSTOMERS_FORMAT = env_str(
    "ONEC_CUSTOMERS_FORMAT", "json", "Body of the customer export: json, or commerceml (one Контрагент)."
)
ONEC_SYNC_MAX_ATTEMPTS = env_int(
    "ONEC_SYNC_MAX_ATTEMPTS", 5, "Export attempts of one customer before it is marked failed."
)
ONEC_SYNC_BACKOFF_SECONDS = env_float(
    "ONEC_SYNC_BACKOFF_SECONDS", 30.0, "Delay before the second export attempt; doubles per attempt, with jitter."
)
ONEC_SYNC_BACKOFF_MAX_SECONDS = env_float(
    "ONEC_SYNC_BACKOFF_MAX_SECONDS", 1800.0, "Longest delay between two export attempts."
)
ONEC_SYNC_REQUEUE_MINUTES = env_int(
    "ONEC_SYNC_REQUEUE_MINUTES", 5, "A customer still marked for export this long after its due time is queued again."
)
ONEC_SYNC_FIELDS = env_list(
    "ONEC_SYNC_FIELDS",
    "first_name,last_name,email,phone,company_name,inn,kpp,address",
    "Customer fields whose change is exported to 1C again.",
)
ONEC_PHONE_REGION = env_str("ONEC_PHONE_REGION", "RU", "Region of phone numbers written without a country code.")
ONEC_EXTRA_FIELDS = env_list(
    "ONEC_EXTRA_FIELDS", "", "Extra customer fields exchanged with 1C, as site_field:1c_name pairs, comma-separated."
)
ONEC_PRICE_TYPE_REQUISITE = env_str(
    "ONEC_PRICE_TYPE_REQUISITE", "ТипЦен", "Requisite of a Контрагент that carries the Ид of its price type."
)
ONEC_CUSTOMERS_IMPORT_PAGE_SIZE = env_int(
    "ONEC_CUSTOMERS_IMPORT_PAGE_SIZE", 200, "Customers asked from 1C per import request (limit=)."
)
SHOP_SITE_URL = env_str("SHOP_SITE_URL", "http://localhost:8000", "Public address of the site, for links in emails.")

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO", "Log level of the project's loggers.")
LOG_FORMAT = env_str(
    "LOG_FORMAT", "plain", "plain: text lines; json: one JSON object per line with request id and exchange session."
)
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperEnvironment(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "observability.logs.JsonFormatter"},
    },
    # Every record passes the secrets filter before it is written (sessid, cookies, passwords), and
    # gets the request id and exchange session of its context.
    "filters": {
        "secrets": {"()": "config.log_masking.SecretsFilter"},
        "context": {"()": "observability.logs.ContextFilter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["secrets", "context"]}
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        name: {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}
        for name in ("catalog", "orders", "customers", "exchange", "commerceml", "config", "observability")
    },
}
