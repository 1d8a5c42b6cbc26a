"""Svardesk settings. Everything comes from environment variables with safe defaults."""

import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from svardesk.config.env import (
    data_dir,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    secret_key,
)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = PACKAGE_DIR.parent
DATA_DIR = data_dir()

SECRET_KEY = secret_key(DATA_DIR)
DEBUG = env_bool("SVARDESK_DEBUG", False)
ALLOWED_HOSTS = env_list(
    "SVARDESK_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("SVARDESK_CSRF_TRUSTED_ORIGINS", [])
# Where this Svardesk is reached from outside, for addresses printed by commands (connect_form).
BASE_URL = env_str("SVARDESK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "huey.contrib.djhuey",
    "django_htmx",
    "svardesk.core",
    "svardesk.teams",
    "svardesk.accounts",
    "svardesk.crm",
    "svardesk.tickets",
    "svardesk.conversations",
    "svardesk.channels.email",
    "svardesk.channels.chat",
    "svardesk.channels.forms",
    "svardesk.channels.calls",
    "svardesk.channels.messenger",
    "svardesk.ticket_views",
    "svardesk.sla",
    "svardesk.search",
    "svardesk.records",
    "svardesk.imports",
    "svardesk.api",
    "svardesk.webhooks",
    "svardesk.workspace",
    "svardesk.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files served natively over ASGI (async file responses, no sync-iterator warning);
    # a pass-through on the threaded path, which never sees /static/ (core/threaded_http.py).
    "svardesk.core.static_files.static_files_middleware",
    # Content-Security-Policy on every page (core/csp.py): scripts, styles and images from us.
    "svardesk.core.csp.content_security_policy",
    # Query strings without NUL (PostgreSQL refuses it in text; views read request.GET).
    "svardesk.core.middleware.strip_nul_from_query_string",
    # The API and webhooks (views marked @machine_endpoint) leave the list here: nothing below
    # serves a request authenticated by a token or a signature (core/machine_endpoints.py).
    "svardesk.core.machine_endpoints.machine_endpoints_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "svardesk.accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Which workspace page and request made a change, for the live update (workspace/live.py).
    "svardesk.workspace.live.live_origin_middleware",
    "svardesk.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "svardesk.config.urls"
ASGI_APPLICATION = "svardesk.config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # The most drawn templates (decision 0008): `<app>/jinja2/`, core/jinja.py.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "svardesk.core.jinja.environment",
            "context_processors": [
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
            ],
        },
    },
]

# --- Database: DATABASE_URL, or SQLite in the data folder -------------------------------------
# Threads per web process that run HTTP requests (core/threaded_http.py): more requests at once
# wait on the event loop. Each holds at most one database connection while it works, so it
# matches the PostgreSQL pool's default size.
HTTP_THREADS = max(1, env_int("SVARDESK_HTTP_THREADS", 10))
# How long a stopping web process waits for requests in progress (a half-sent upload, a slow
# client) before it cancels them; unbounded, one stalled client kept `serve` from stopping.
WEB_STOP_TIMEOUT = max(1, env_int("SVARDESK_STOP_TIMEOUT", 10))
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'svardesk.sqlite3'}"
_is_sqlite = DATABASE_URL.startswith("sqlite:")
DATABASES = {
    # SQLite keeps its connections (web requests run on a fixed thread pool,
    # core/threaded_http.py): a new one starts with an empty page cache and its PRAGMAs, which
    # cost ~2.5 ms of CPU per request. PostgreSQL reuses connections through its pool instead.
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 600 if _is_sqlite else 0)
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work beside the writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue instead of failing with "database is locked" halfway through.
    # synchronous=FULL: a commit is on disk when it returns, so mail acknowledged to its
    # sender (SMTP 250, HTTP 202, an advanced IMAP UID) survives a power loss; NORMAL may
    # lose the last commits. Cost: bench/README.md. (NORMAL only to measure that cost.)
    sqlite_sync = env_str("SVARDESK_SQLITE_SYNCHRONOUS", "FULL").strip().upper()
    if sqlite_sync not in ("FULL", "EXTRA", "NORMAL"):
        raise ImproperlyConfigured(
            f"SVARDESK_SQLITE_SYNCHRONOUS must be FULL, EXTRA or NORMAL, not {sqlite_sync!r}"
        )
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            f"PRAGMA journal_mode=WAL; PRAGMA synchronous={sqlite_sync}; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=20000; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
        ),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation and parallel workers pay off for long analytic queries, not for a help
    # desk's short ones: on a million tickets JIT added ~70 ms to searches whose plans only
    # looked expensive, and starting a worker cost ~14 ms on a search that found nothing.
    # work_mem: a team-scoped agent's search ANDs the team's tickets (a quarter of a million
    # at 1M) into a bitmap; past PostgreSQL's default 4 MB the bitmap turns lossy and every
    # ticket on its pages is re-checked by folding its text again — 18 ms became 330 ms when
    # the table grew by a sixth. Per sort or bitmap node, not per connection.
    work_mem = env_str("SVARDESK_DB_WORK_MEM", "32MB").strip()
    if not re.fullmatch(r"\d+(kB|MB|GB)?", work_mem):
        raise ImproperlyConfigured(f"SVARDESK_DB_WORK_MEM must look like 32MB, not {work_mem!r}")
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", f"-c jit=off -c max_parallel_workers_per_gather=0 -c work_mem={work_mem}"
    )
    # A new PostgreSQL connection costs ~7 ms (a backend process, authentication, settings):
    # with a pool, requests and tasks reuse connections instead (Django closes its connection
    # after every request and task; the pool keeps it open). SVARDESK_DB_POOL=0 turns it off,
    # e.g. behind PgBouncer.
    if env_bool("SVARDESK_DB_POOL", True) and not DATABASES["default"].get("CONN_MAX_AGE"):
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": 1,
            "max_size": env_int("SVARDESK_DB_POOL_SIZE", 10),
            "timeout": 20,
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Some ticket indexes INCLUDE extra columns for PostgreSQL's index-only reads; SQLite builds
# them without those columns, which is what we want there, so its warning says nothing new.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Cache, channel layer and task queue: in-process by default, Redis when REDIS_URL is set ---
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        # One connection pool per process, not one per request (core/redis_cache.py).
        "default": {"BACKEND": "svardesk.core.redis_cache.ProcessRedisCache", "LOCATION": REDIS_URL}
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, no longer than the layer's
            # blocking BZPOPMIN (5 s): every socket quiet for 5 s had its consumer crash with
            # TimeoutError (channels_redis#422). Longer, so a lost Redis is still noticed.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
        }
    }
    # Every signed-in request reads its session: from Redis, shared by every process, instead
    # of one SQL statement each (written to both; the database still holds every session).
    # Only with Redis: a per-process cache would keep a signed-out session alive in the
    # other processes.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The HubSpot-compatible API's rate limits per token (api/ratelimit.py); 0 lifts a limit.
API_RATE_LIMIT = env_int("SVARDESK_API_RATE_LIMIT", 190)  # requests per ten seconds
API_SEARCH_RATE_LIMIT = env_int("SVARDESK_API_SEARCH_RATE_LIMIT", 5)  # searches per second
API_DAILY_LIMIT = env_int("SVARDESK_API_DAILY_LIMIT", 1_000_000)  # requests per UTC day

TASKS_IMMEDIATE = env_bool("SVARDESK_TASKS_IMMEDIATE", False)
# Several installs may share one Redis (or a benchmark its data folder): each its own queue.
TASKS_QUEUE_NAME = env_str("SVARDESK_TASKS_QUEUE", "svardesk")
# Seconds between a message's arrival and its processing, so a burst is processed in batches.
INBOUND_PROCESSING_DELAY = env_float("SVARDESK_INBOUND_DELAY", 1.0)
if REDIS_URL and not TASKS_IMMEDIATE:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": TASKS_QUEUE_NAME,
        "url": REDIS_URL,
        "immediate": False,
        "utc": True,
        "consumer": {"workers": env_int("SVARDESK_WORKERS", 2), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": TASKS_QUEUE_NAME,
        "filename": str(DATA_DIR / "tasks.sqlite3"),
        "immediate": TASKS_IMMEDIATE,
        "utc": True,
        "consumer": {"workers": env_int("SVARDESK_WORKERS", 2), "worker_type": "thread"},
    }

# --- Accounts --------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "workspace:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (accounts.throttle): a client (IP address) with this many failed sign-ins
# inside the window is refused for one window (a limit below 10 counts as 10); an address's
# failures never refuse it, they only slow its sign-ins down, by this many seconds at most.
LOGIN_FAILURE_LIMIT = env_int("SVARDESK_LOGIN_FAILURE_LIMIT", 20)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("SVARDESK_LOGIN_FAILURE_WINDOW", 900)
LOGIN_SLOWDOWN_MAX_SECONDS = env_float("SVARDESK_LOGIN_SLOWDOWN_MAX", 3.0)
# The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (IP addresses or
# networks, comma-separated). uvicorn's own variable: `svardesk serve` passes it on and
# `uvicorn --proxy-headers` reads it itself. Unset, `serve` believes nobody.
FORWARDED_ALLOW_IPS = env_str("FORWARDED_ALLOW_IPS", "")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SVARDESK_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Email -----------------------------------------------------------------------------------
SMTP_URL = env_str("SVARDESK_SMTP_URL")
DEFAULT_FROM_EMAIL = env_str("SVARDESK_FROM_EMAIL", "Svardesk <no-reply@svardesk.localhost>")
if SMTP_URL:
    from svardesk.config.mail import smtp_settings_from_url

    globals().update(smtp_settings_from_url(SMTP_URL))
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    # Kept in the database and listed in Settings → Outgoing mail (docs/email.md).
    EMAIL_BACKEND = env_str(
        "SVARDESK_EMAIL_BACKEND", "svardesk.channels.email.kept_mail.KeptMailBackend"
    )
# How many kept outgoing messages stay (the newest); a periodic task deletes the older ones.
KEPT_MAIL_LIMIT = env_int("SVARDESK_KEPT_MAIL_LIMIT", 1_000)

# --- Inbound email (SMTP receiver, IMAP polling, raw-MIME endpoint) ---------------------------
# Largest raw message accepted by any way in (SMTP answers 552, HTTP 413, IMAP leaves it).
EMAIL_MAX_MESSAGE_BYTES = env_int("SVARDESK_EMAIL_MAX_BYTES", 50 * 1024 * 1024)
# A message with more MIME parts or attachments is quarantined unread: each attachment is a
# file and a row written while the database is locked, each part a node in memory. Real mail
# stays far below (a long thread forwarded with its files: tens); raise them and reprocess.
EMAIL_MAX_PARTS = env_int("SVARDESK_EMAIL_MAX_PARTS", 500)
EMAIL_MAX_ATTACHMENTS = env_int("SVARDESK_EMAIL_MAX_ATTACHMENTS", 100)
# Raw mail one processing batch takes (at least one message, however large): parsing needs a
# few times a message's size in memory.
INBOUND_BATCH_MAX_BYTES = env_int("SVARDESK_INBOUND_BATCH_BYTES", 20 * 1024 * 1024)

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("sv", _("Swedish"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
# Dates by language and region: the user's pair is activated as one code ("en-gb", "sv-us";
# accounts.regional) and its formats are in core/formats/.
FORMAT_MODULE_PATH = "svardesk.core.formats"
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files: our own under each app's static/, front-end libraries from node_modules ---
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("SVARDESK_STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
NODE_MODULES = Path(env_str("SVARDESK_NODE_MODULES", str(PROJECT_DIR / "node_modules")))
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/quill", NODE_MODULES / "quill" / "dist"),
    ("vendor/sortable", NODE_MODULES / "sortablejs"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
]
# Serve the collected files and, for a checkout without collectstatic, the finders' files.
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_USE_STATIC_ROOT = True
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"

# --- Product limits ---------------------------------------------------------------------------
TICKET_LIST_PAGE_SIZE = env_int("SVARDESK_PAGE_SIZE", 50)
SIDEBAR_COUNT_CACHE_SECONDS = env_int("SVARDESK_COUNT_CACHE_SECONDS", 5)
# An agent counts as present for chat while a workspace socket of theirs is open: the socket
# refreshes its presence every third of this many seconds, so one that dies without saying so
# (its process killed) lapses within it (accounts.presence).
CHAT_PRESENCE_TTL_SECONDS = env_float("SVARDESK_CHAT_PRESENCE_TTL", 30.0)
# Custom views in the whole help desk (all users, all sharings together).
CUSTOM_VIEW_LIMIT = env_int("SVARDESK_CUSTOM_VIEW_LIMIT", 50)

# --- Forms channel (docs/forms.md) ------------------------------------------------------------
# Submissions one client (IP address; an IPv6 /64) may send per window, and the largest POST.
FORMS_RATE_LIMIT = env_int("SVARDESK_FORMS_RATE_LIMIT", 20)
FORMS_RATE_WINDOW_SECONDS = env_int("SVARDESK_FORMS_RATE_WINDOW", 60)
FORMS_MAX_BODY_BYTES = env_int("SVARDESK_FORMS_MAX_BYTES", 64 * 1024)

# --- Messenger channel (docs/messenger.md) -----------------------------------------------------
# The Graph API's base URL (tests and proxies point it elsewhere) and the version in its paths.
GRAPH_API_URL = env_str("SVARDESK_GRAPH_API_URL", "https://graph.facebook.com").rstrip("/")
GRAPH_API_VERSION = env_str("SVARDESK_GRAPH_API_VERSION", "v21.0")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("SVARDESK_LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "huey": {"level": "WARNING"}},
}
