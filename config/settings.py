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

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"), "Folder for the embedded database, broker, uploads and logs."))
VAR_DIR.mkdir(parents=True, exist_ok=True)


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
    "django.contrib.admin",
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
]

MIDDLEWARE = [
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
    "fail-stale-imports": {"task": "exchange.fail_stale_imports", "schedule": 3600.0},
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 20, "Items per page in list endpoints of the REST API."),
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
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
    "EXCHANGE_MAX_SESSION_SIZE", 8 * 1024**3, "Largest total upload of one exchange session, in bytes."
)
EXCHANGE_MAX_UNZIPPED_SIZE = env_int(
    "EXCHANGE_MAX_UNZIPPED_SIZE", 8 * 1024**3, "Largest total unpacked size of an archive, in bytes."
)
EXCHANGE_MAX_ZIP_RATIO = env_int(
    "EXCHANGE_MAX_ZIP_RATIO", 200, "Largest unpacked/packed size ratio of an archive entry."
)
EXCHANGE_MAX_ZIP_ENTRIES = env_int("EXCHANGE_MAX_ZIP_ENTRIES", 200_000, "Most entries an archive may hold.")
EXCHANGE_SESSION_IDLE_MINUTES = env_int(
    "EXCHANGE_SESSION_IDLE_MINUTES", 120, "An exchange session idle this long expires."
)
EXCHANGE_IMPORT_MODE = env_str(
    "EXCHANGE_IMPORT_MODE",
    "wait",
    "wait: 1C polls with progress until the import ends; background: success once queued.",
)
EXCHANGE_IMPORT_STALE_MINUTES = env_int(
    "EXCHANGE_IMPORT_STALE_MINUTES", 120, "An import without progress this long is marked failed."
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
EXCHANGE_AUTH_MAX_FAILURES = env_int(
    "EXCHANGE_AUTH_MAX_FAILURES", 5, "Failed checkauth attempts per address or user before throttling."
)
EXCHANGE_AUTH_WINDOW_SECONDS = env_int(
    "EXCHANGE_AUTH_WINDOW_SECONDS", 900, "Window over which failed checkauth attempts are counted."
)
EXCHANGE_LOG_RETENTION_DAYS = env_int("EXCHANGE_LOG_RETENTION_DAYS", 30, "Days copies of exchanged files are kept.")
EXCHANGE_LOG_MAX_BYTES = env_int(
    "EXCHANGE_LOG_MAX_BYTES", 5 * 1024**3, "Total size the exchanged-file copies may take."
)
EXCHANGE_COOKIE_NAME = env_str("EXCHANGE_COOKIE_NAME", "exchange_session", "Cookie name given to 1C at checkauth.")

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO", "Log level of the project's loggers.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        name: {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}
        for name in ("catalog", "orders", "customers", "exchange", "commerceml", "config")
    },
}
