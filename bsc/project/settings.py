"""Django settings: every knob comes from the environment (see the README's configuration table).

Without DATABASE_URL / REDIS_URL the project starts an embedded PostgreSQL and Redis (bsc/project/embedded.py).
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]


def envstr(name: str, default: str) -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default)
    if value not in ("true", "false"):
        raise ImproperlyConfigured(f"{name} must be 'true' or 'false', not {value!r}")
    return value == "true"


def envint(name: str, default: str) -> int:
    value = os.environ.get(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "true")
SECRET_KEY = envstr("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false")
    SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "pgtrigger",
    "pghistory",
    "bsc",
    "kpis",
    "coaching",
    "comments",
    "attachments",
]

MIDDLEWARE = [
    "bsc.project.server_timing.ServerTimingMiddleware",  # first, so `total` covers every other middleware
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): this session passed a second factor
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Server-Timing headers (database time and query count, template time, total) for the browser's developer tools.
SERVER_TIMING = envbool("SERVER_TIMING", "true" if DEBUG else "false")

ROOT_URLCONF = "bsc.project.urls"
WSGI_APPLICATION = "bsc.project.wsgi.application"

TEMPLATES = [
    {
        # Django's backend with its renders timed for the Server-Timing header (bsc/project/server_timing.py);
        # named "django" so django-template-partials still wraps its loaders.
        "BACKEND": "bsc.project.server_timing.DjangoTemplates",
        "NAME": "django",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bsc.context_processors.navigation",
                "coaching.context_processors.inbox",
            ],
        },
    },
]

# --- Database and Redis: real servers from the environment, or the embedded ones ---------------------

if os.environ.get("DATABASE_URL"):
    # Persistent connections, checked at the start of each request: one a database restart broke is replaced
    # instead of failing the request (tests/soak/test_postgres_restart.py).
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)}
else:
    from bsc.project import embedded

    DATABASES = {"default": embedded.postgres_settings()}
if os.environ.get("BSC_DATABASE_NAME"):
    # Lets a test's Celery worker process reach the test database Django created.
    DATABASES["default"]["NAME"] = os.environ["BSC_DATABASE_NAME"]
DATABASES["default"].setdefault("TEST", {})
# A database host that drops packets (rather than refusing) answers the page with the 503 page within seconds,
# instead of holding a web worker for the operating system's TCP timeout.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", envint("DATABASE_CONNECT_TIMEOUT", "5"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if os.environ.get("REDIS_URL"):
    REDIS_URL = os.environ["REDIS_URL"]
else:
    from bsc.project import embedded

    REDIS_URL = embedded.redis_url()
if os.environ.get("PYTEST_XDIST_WORKER"):
    # The suite in parallel (pytest-xdist, docs/operations.md): each test process gw<n> (and the Celery
    # workers it starts, which inherit the variable) gets Redis database n + 1 for its broker, results and
    # cache, as pytest-django gives it a database of its own; its fixtures purge the queue and ping workers.
    from urllib.parse import urlsplit, urlunsplit

    _redis_db = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw")) + 1
    REDIS_URL = urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{_redis_db}"))

CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# --- Celery ------------------------------------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_VISIBILITY_TIMEOUT = envint("CELERY_VISIBILITY_TIMEOUT", "3600")
# A broker host that drops packets, or accepts and never answers, makes a publish give up within about
# 2 x CELERY_BROKER_TIMEOUT (one retry: a connection Redis dropped while restarting is replaced at once) instead
# of holding a web worker for the operating system's TCP timeout (2 minutes) or for ever; the page's work waits
# for the republish (bsc/publish.py).
CELERY_BROKER_TIMEOUT = envint("CELERY_BROKER_TIMEOUT", "2")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": CELERY_BROKER_TIMEOUT,
    "socket_timeout": CELERY_BROKER_TIMEOUT,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.2}
# Limits of every task that works on one organization: at the soft limit the task raises
# SoftTimeLimitExceeded (its transaction rolls back), at the hard one its process is killed; both well
# before Redis would hand the task to another worker.
TASK_SOFT_TIME_LIMIT = envint("TASK_SOFT_TIME_LIMIT", "1500")
TASK_TIME_LIMIT = envint("TASK_TIME_LIMIT", "1800")
if not 0 < TASK_SOFT_TIME_LIMIT < TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        "TASK_SOFT_TIME_LIMIT must be above 0 and below TASK_TIME_LIMIT, and TASK_TIME_LIMIT below "
        f"CELERY_VISIBILITY_TIMEOUT (now {TASK_SOFT_TIME_LIMIT}, {TASK_TIME_LIMIT} and {CELERY_VISIBILITY_TIMEOUT})"
    )
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {
    "scores-recompute-sweep": {  # repairs recomputes whose task was lost (the outbox keeps their requests)
        "task": "kpis.tasks.scores_recompute_sweep",
        "schedule": 60.0,
    },
    # Republishes the imports and review packs left queued when their publish failed (the broker was down).
    "queued-tasks-republish": {
        "task": "bsc.tasks.queued_tasks_republish",
        "schedule": 60.0,
    },
    "scores-recompute-nightly": {
        "task": "kpis.tasks.scores_recompute_nightly",
        "schedule": crontab(hour=2, minute=30),
    },
    "cadences-generate-ahead": {
        "task": "coaching.tasks.cadences_generate_ahead",
        "schedule": crontab(hour=1, minute=15),
    },
    # Reminders are decided from PostgreSQL on every tick (never scheduled with an ETA); the unique dedupe
    # key makes a second beat or a repeated tick harmless (docs/reminders.md).
    "reminders-tick": {
        "task": "coaching.tasks.reminders_tick",
        "schedule": crontab(minute="*/15"),
    },
    # The tick queues a send after it commits; this repairs a lost publish and retries failed mails.
    "notifications-send": {
        "task": "coaching.tasks.notifications_send",
        "schedule": crontab(minute="*"),
    },
    # Review packs are kept 90 days (coaching/review_packs.py).
    "review-packs-expire": {
        "task": "coaching.tasks.review_packs_expire",
        "schedule": crontab(hour=3, minute=40),
    },
    # The growing log-in cool-off reads one day of failures; older ones are only kept so long.
    "login-failures-prune": {
        "task": "bsc.tasks.login_failures_prune",
        "schedule": crontab(hour=3, minute=10),
    },
    # A worker notes the time in Redis every minute; /healthz reports its age (bsc/project/health.py).
    "worker-heartbeat": {
        "task": "bsc.project.health.worker_heartbeat",
        "schedule": 60.0,
    },
}
CELERY_IMPORTS = ["bsc.project.health"]  # the heartbeat task and the failed-task counter (not an app's tasks.py)

# --- Auth --------------------------------------------------------------------------------------------

AUTH_USER_MODEL = "bsc.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "switch_organization"  # the only organization, or the picker
LOGOUT_REDIRECT_URL = "login"

# Log-in protection (bsc/login_protection.py): failures count per account *and* address together, so
# nobody can lock someone else out from their own address, nor lock every account of a shared address.
# A pair's first lock-out lasts AXES_COOLOFF_MINUTES; each further one within a day doubles, up to
# AXES_COOLOFF_MAX_MINUTES.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", "5")
AXES_COOLOFF_MINUTES = envint("AXES_COOLOFF_MINUTES", "5")
AXES_COOLOFF_MAX_MINUTES = envint("AXES_COOLOFF_MAX_MINUTES", "1440")
AXES_COOLOFF_TIME = "bsc.login_protection.cool_off"
AXES_USERNAME_CALLABLE = "bsc.login_protection.username"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USE_ATTEMPT_EXPIRATION = True  # each pair's failures expire after its own cool-off
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # the history the growing cool-off reads
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # trying again while paused does not extend the pause
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
# Behind reverse proxies, the client's address is the PROXY_COUNT-th entry from the right of
# X-Forwarded-For (each proxy appends the address it was reached from; entries a client wrote itself are
# further left and ignored). With 0, the connection's own address counts.
PROXY_COUNT = envint("PROXY_COUNT", "0")
if PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"PROXY_COUNT must be 0 or more, not {PROXY_COUNT}")
if PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = PROXY_COUNT - 1  # django-ipware counts the proxies listed in the header
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
IPWARE_STRICT = False  # a longer header (a client's own X-Forwarded-For) still yields the proxies' entry

# Two-factor log-in (bsc/two_factor.py): TOTP apps with one-time recovery codes, through django-otp; code
# attempts are throttled per device (1 s, 2 s, 4 s … after each failure).
OTP_TOTP_ISSUER = "Scorecard"  # the name authenticator apps list the account under
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# --- Email -------------------------------------------------------------------------------------------

EMAIL_HOST = envstr("EMAIL_HOST", "")
EMAIL_PORT = envint("EMAIL_PORT", "25")
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "false")
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Scorecard <scorecard@localhost>")
# A hung SMTP server must not hold a notification's row lock for ever (docs/reminders.md).
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", "30")
# A reminder mail that failed is tried again after this many seconds, doubling each time (at most 6 h).
REMINDER_RETRY_SECONDS = envint("REMINDER_RETRY_SECONDS", "60")
# Without an SMTP host, mail is printed to the console so development needs no mail server.
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)

# --- I18n, static ------------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Evidence files (attachments/): kept under MEDIA_ROOT in one folder per organization with random names, served only
# through a view that checks the organization and the role; MEDIA_URL stays unset, so nothing serves them publicly.
# Without MEDIA_ROOT they go into the embedded servers' data folder (BSC_DATA_DIR); docker compose mounts a volume.
if os.environ.get("MEDIA_ROOT"):
    MEDIA_ROOT = os.environ["MEDIA_ROOT"]
else:
    from bsc.project import embedded

    MEDIA_ROOT = str(embedded.data_dir() / "media")
EVIDENCE_MAX_MB = envint("EVIDENCE_MAX_MB", "10")
if EVIDENCE_MAX_MB < 1:
    raise ImproperlyConfigured(f"EVIDENCE_MAX_MB must be 1 or more, not {EVIDENCE_MAX_MB}")
# An upload above this size streams to a temporary file instead of memory (and attachments/uploads.py stops one
# past EVIDENCE_MAX_MB as it streams, or before reading when the request announces more).
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- API ---------------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "bsc.api.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "bsc.api.schema.ApiSchema",  # declares every operation's error responses
    "EXCEPTION_HANDLER": "bsc.api.base.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "bsc.api.pagination.LimitOffsetPagination",  # limit 1 to 500, 100 by default
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],  # the API takes JSON bodies only
    "TEST_REQUEST_DEFAULT_FORMAT": "json",  # so the tests' APIClient speaks it too
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Balanced Scorecard API",
    "DESCRIPTION": (
        "Organization-scoped API: every resource lives under /api/v1/o/{org_slug}/; "
        "/api/v1/organizations/ lists the caller's organizations."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1(/o/\{org_slug\})?",  # tags and operation ids from the resource name
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status`: name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "SessionStatusEnum": "coaching.models.SessionStatus",
        "ActionItemStatusEnum": "coaching.models.ActionItemStatus",
        "ReviewPackStatusEnum": "coaching.models.ReviewPackStatus",
        "SessionKindEnum": "coaching.models.SessionKind",
        "PeriodKindEnum": "bsc.org_calendar.KINDS",
        "ScoreStatusEnum": "bsc.statuses.STATUSES",
        "CheckKindEnum": ["kpi", "objective", "scorecard"],
        "CommentedItemKindEnum": "comments.targets.KINDS",
    },
}

# --- Security (production: DEBUG=false) --------------------------------------------------------------

SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "false" if DEBUG else "true")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false" if DEBUG else "true")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # a monitor or container health check may ask over plain HTTP
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000")
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # Django's default, stated: other sites never see our URLs
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy, enforced on every response (django-csp): scripts and styles only from our own
# files, so injected markup can run nothing. Nothing inline: no <script> or <style> elements, no on*=""
# handlers, no style="" attributes (scripts set styles through CSSOM, which CSP allows), and htmx is told
# through <meta name="htmx-config"> in base.html not to add its indicator <style> nor to eval anything
# (hx-on and event filters are not used). object-src, base-uri and form-action have no default-src
# fallback, so they are stated; frame-ancestors replaces X-Frame-Options in current browsers.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Browser features the application never uses are switched off for it and anything it might embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"forbidden_without_traceback": {"()": "bsc.logging_filters.ForbiddenWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        # A refused action (403) is one line with its reason, not a traceback (bsc/logging_filters.py).
        "django.request": {"filters": ["forbidden_without_traceback"]},
    },
}
