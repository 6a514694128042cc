"""Settings from the environment (12-factor, django-environ).

Defaults are for a laptop demo: SQLite, a filesystem Celery broker (no server), e-mails to the
console. Production sets DJANGO_ENV=production plus DATABASE_URL, REDIS_URL, SECRET_KEY, etc.
"""
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

PRODUCTION = env("DJANGO_ENV", default="development") == "production"

SECRET_KEY = env("SECRET_KEY", default="dev-insecure-key-change-me" if not PRODUCTION else environ.Env.NOTSET)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "anymail",
    "requests_app.fulfilment",
    "requests_app.connectors",
    "requests_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dsar.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "dsar.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets web, worker and beat share the demo database without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})
    # IMMEDIATE: a transaction takes the write lock when it begins and waits up to `timeout` for it;
    # a deferred one that reads, then writes after another process wrote fails at once ("locked").
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;",
                                            "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_dsar")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # File cache: shared across processes so rate limits hold under several workers.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/staff/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("pt-br", "Português (Brasil)")]
# Web pages and e-mails in locale/, letters in locale_letters/ (catalogues are merged).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_letters"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"  # files are served only through permission-checked views
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if PRODUCTION else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "requests_app.uploads.SizeCappedUploadHandler",  # never stores more than the 10 MB limit
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- e-mail (django-anymail in production; console in the demo) -----------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
ANYMAIL = env.dict("ANYMAIL", default={})
if env("ANYMAIL_ESP", default=""):
    # e.g. ANYMAIL_ESP=postmark ANYMAIL_POSTMARK_SERVER_TOKEN=...
    EMAIL_BACKEND = f"anymail.backends.{env('ANYMAIL_ESP')}.EmailBackend"
    ANYMAIL.update({k[len("ANYMAIL_"):]: v for k, v in env.ENVIRON.items()
                    if k.startswith("ANYMAIL_") and k != "ANYMAIL_ESP"})
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))  # filebased backend only
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Privacy Team <privacy@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
DSAR_TEAM_EMAIL = env("DSAR_TEAM_EMAIL", default="privacy-team@example.com")

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    for _folder in ("out", "processed", "control"):  # kombu's filesystem transport does not create them
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task that dies mid-way is redelivered; tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# Never hang a web request on a dead broker: the outbox row is the durable record, the sweep resends.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_TIMEZONE = "UTC"
# One queue name per deployment (or per test run sharing a Redis): workers only take their own tasks.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
# Timed work (deadline sweep, outbox flush, e-mail sends) has a queue of its own, so a pile of PDF
# letters to render (default queue) never delays an alert. Workers consume both: -Q celery,timers.
DSAR_TIMERS_QUEUE = env("CELERY_TIMERS_QUEUE", default="timers")
CELERY_TASK_ROUTES = {f"requests_app.tasks.{name}": {"queue": DSAR_TIMERS_QUEUE}
                      for name in ("sweep", "flush_outbox", "send_notification")}
DSAR_SWEEP_SECONDS = env.int("DSAR_SWEEP_SECONDS", default=300)
DSAR_OUTBOX_FLUSH_SECONDS = env.int("DSAR_OUTBOX_FLUSH_SECONDS", default=60)
DSAR_SWEEP_BATCH_SIZE = env.int("DSAR_SWEEP_BATCH_SIZE", default=10_000)  # claims per transaction
DSAR_DIGEST_MAX_ITEMS = env.int("DSAR_DIGEST_MAX_ITEMS", default=50)  # cases listed per digest e-mail
CELERY_BEAT_SCHEDULE = {
    # A sweep or flush still queued when the next one is due is dropped (expires): a backed-up
    # broker must not replay a pile of identical runs; each run does all that is due.
    "deadline-sweep": {"task": "requests_app.tasks.sweep", "schedule": float(DSAR_SWEEP_SECONDS),
                       "options": {"expires": DSAR_SWEEP_SECONDS}},
    "outbox-flush": {"task": "requests_app.tasks.flush_outbox", "schedule": float(DSAR_OUTBOX_FLUSH_SECONDS),
                     "kwargs": {"render_letters": False}, "options": {"expires": DSAR_OUTBOX_FLUSH_SECONDS}},
    # Its letter half, on the default queue with the other PDF rendering.
    "letters-flush": {"task": "requests_app.tasks.render_pending_letters",
                      "schedule": float(DSAR_OUTBOX_FLUSH_SECONDS), "options": {"expires": DSAR_OUTBOX_FLUSH_SECONDS}},
    # Uploads parked by request forms abandoned more than a day ago (requests_app/uploads.py).
    "purge-pending-uploads": {"task": "requests_app.tasks.purge_pending_uploads",
                              "schedule": crontab(hour=3, minute=17), "options": {"expires": 6 * 3600}},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- product settings ---------------------------------------------------------------------------
DSAR_CONFIRMATION_DAYS = env.int("DSAR_CONFIRMATION_DAYS", default=14)  # unconfirmed → not_filed
DSAR_DUE_SOON_DAYS = env.int("DSAR_DUE_SOON_DAYS", default=7)
DSAR_URGENT_DAYS = env.int("DSAR_URGENT_DAYS", default=2)
DSAR_STATUS_LINK_MAX_AGE_DAYS = env.int("DSAR_STATUS_LINK_MAX_AGE_DAYS", default=800)  # ≥ 24 months (11 CCR §7101)
DSAR_RATE_LIMIT_PER_IP = env("DSAR_RATE_LIMIT_PER_IP", default="10/h")
DSAR_RATE_LIMIT_PER_EMAIL = env("DSAR_RATE_LIMIT_PER_EMAIL", default="5/h")
# Letterheads per controller key of the regime registry. Names, registration number and address are
# those of the AliExpress privacy policy (31 Oct 2024): top of the document and sections J, K, L, M;
# contact details from its section P. The policy gives no address for the US buyers' entity, so
# none is printed unless a deployment sets one.
DSAR_CONTROLLERS = {
    "intl": {  # EEA/UK (section J), Brazil (L), Mexico (M) and other locations
        "name": "Alibaba.com Singapore E-Commerce Private Limited",
        "registration": "Company Reg. No. 200720572D",
        "address": env("DSAR_INTL_CONTROLLER_ADDRESS",
                       default="51 Bras Basah Road, #01-21 Lazada One, Singapore 189554"),
        "email": env("DSAR_INTL_PRIVACY_EMAIL", default="DataProtection.AE@aliexpress.com"),
        "web": "privacy.aliexpress.com",
    },
    "us": {  # registered buyers in the United States (top of the policy, section K)
        "name": "AliExpress E-Commerce One Pte. Ltd.",
        "registration": "",
        "address": env("DSAR_US_CONTROLLER_ADDRESS", default=""),
        "email": env("DSAR_US_PRIVACY_EMAIL", default="DataProtection.AE@aliexpress.com"),
        "web": "privacy.aliexpress.com",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# --- fulfilment (requests_app/fulfilment): tasks per system, access packages ------------------------
# A task is due after this share of the time left on the case's legal clock, and never later than
# the legal due moment minus the review margin (time to check results and issue the decision).
DSAR_TASK_DUE_SHARE = env.float("DSAR_TASK_DUE_SHARE", default=0.5)
DSAR_TASK_REVIEW_MARGIN_DAYS = env.int("DSAR_TASK_REVIEW_MARGIN_DAYS", default=3)
DSAR_TASK_REMIND_DAYS = env.int("DSAR_TASK_REMIND_DAYS", default=2)  # owners are reminded this long before due
DSAR_VENDOR_LINK_DAYS = env.int("DSAR_VENDOR_LINK_DAYS", default=14)
DSAR_PACKAGE_DAYS = env.int("DSAR_PACKAGE_DAYS", default=30)  # how long the requester may download the package
DSAR_PACKAGE_CODE_MINUTES = env.int("DSAR_PACKAGE_CODE_MINUTES", default=15)
DSAR_EXPORT_MAX_UNZIPPED_BYTES = env.int("DSAR_EXPORT_MAX_UNZIPPED_BYTES", default=100 * 1024 * 1024)

# --- connectors (requests_app/connectors): SQL and HTTP systems worked automatically --------------
DSAR_CONNECTOR_KEY = env("DSAR_CONNECTOR_KEY", default="")  # Fernet key for connector secrets at rest
DSAR_CONNECTOR_ERASE_APPROVAL = env.bool("DSAR_CONNECTOR_ERASE_APPROVAL", default=True)  # a second person approves
DSAR_CONNECTOR_MAX_ATTEMPTS = env.int("DSAR_CONNECTOR_MAX_ATTEMPTS", default=5)
DSAR_CONNECTOR_BACKOFF_SECONDS = env.int("DSAR_CONNECTOR_BACKOFF_SECONDS", default=30)  # doubled per attempt
DSAR_CONNECTOR_CALLBACK_HOURS = env.int("DSAR_CONNECTOR_CALLBACK_HOURS", default=24)
DSAR_CONNECTOR_LEASE_SECONDS = env.int("DSAR_CONNECTOR_LEASE_SECONDS", default=900)  # a claim older is a dead worker's
