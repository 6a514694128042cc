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
# The address links in e-mails point at. run.sh sets it; unset in development, links use the host
# of the request that caused the e-mail (requests_app.middleware), else the first allowed host.
SITE_URL = env("SITE_URL", default="" if not PRODUCTION else f"https://{ALLOWED_HOSTS[0]}")

INSTALLED_APPS = [
    "requests_app.admin_site.SuperuserAdminConfig",  # django.contrib.admin, for superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "anymail",
    "requests_app.fulfilment",
    "requests_app.connectors",
    "requests_app",
    "requests_app.ops",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "mozilla_django_oidc",
    "requests_app.accounts",
    "requests_app.drp",
    "requests_app.intake",
]

MIDDLEWARE = [
    "requests_app.ops.logs.RequestIdMiddleware",
    "requests_app.ops.metrics.LatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "requests_app.accounts.sessions.SessionEpochMiddleware",
    "requests_app.accounts.otp.RequireOTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "requests_app.middleware.RequestBaseUrlMiddleware",
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
                "requests_app.ops.context.timers_banner",
                "requests_app.accounts.oidc.context",
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
    # Bounded: a Redis that accepts and never answers must not hold a request (rate limits then skip).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=1.0),
                                      "socket_timeout": env.float("REDIS_TIMEOUT", default=1.0)}}}
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
# --- staff sign-in (requests_app/accounts) ---------------------------------------------------------
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
# Single sign-on with the company's OpenID Connect provider: set the client and the provider's
# endpoints (from its /.well-known/openid-configuration); roles come from OIDC_ROLE_CLAIM's values.
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email profile groups")
OIDC_USE_PKCE = env.bool("OIDC_USE_PKCE", default=True)
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)  # never hang a sign-in on a slow provider
OIDC_ROLE_CLAIM = env("OIDC_ROLE_CLAIM", default="groups")
OIDC_ROLE_MAP = env.dict("OIDC_ROLE_MAP", default={})  # "dsar-managers=manager,dsar-analysts=analyst"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?sso=refused"
if OIDC_RP_CLIENT_ID:
    AUTHENTICATION_BACKENDS.append("requests_app.accounts.oidc.RoleMappingBackend")
# Password sign-in needs a TOTP code too (django-otp); identity-provider sign-in follows its own MFA.
DSAR_STAFF_OTP_REQUIRED = env.bool("DSAR_STAFF_OTP_REQUIRED", default=PRODUCTION)
OTP_TOTP_ISSUER = "DSAR privacy team"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/staff/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("pt-br", "Português (Brasil)")]
# Web pages and e-mails in locale/, letters in locale_letters/ (catalogues are merged).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_letters"]
LOCALE_PATHS.append(BASE_DIR / "requests_app" / "intake" / "locale")  # the intake app's public strings
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
# Shared file storage for several hosts: STORAGE_URL=s3://bucket?endpoint_url=…&region_name=… puts
# letters, uploads and packages in S3-compatible object storage (credentials: AWS_ACCESS_KEY_ID /
# AWS_SECRET_ACCESS_KEY or the instance's role). Unset: the local file system (the embedded default).
STORAGE_URL = env("STORAGE_URL", default="")
if STORAGE_URL:
    from urllib.parse import parse_qsl, urlsplit

    from botocore.config import Config as _BotoConfig

    _store = urlsplit(STORAGE_URL)
    if _store.scheme != "s3" or not _store.netloc:
        raise environ.ImproperlyConfigured(f"STORAGE_URL must look like s3://bucket?endpoint_url=…, not {STORAGE_URL!r}")
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": _store.netloc, "location": _store.path.strip("/"),
        "file_overwrite": False,  # letters and uploads are records: a name is never reused
        "default_acl": None, "querystring_auth": True,  # private objects, served only through our views
        "client_config": _BotoConfig(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3}),
        **dict(parse_qsl(_store.query)),
    }}
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
if env("ANYMAIL_WEBHOOK_SECRET", default=""):
    # "user:password" for the inbound-mail webhook's basic auth; without it the webhook refuses all.
    ANYMAIL.setdefault("WEBHOOK_SECRET", env("ANYMAIL_WEBHOOK_SECRET"))
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))  # filebased backend only
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
# Every provider call is bounded: an SMTP server or HTTP API that accepts and never answers must not
# hold a worker (SMTP: EMAIL_TIMEOUT; anymail's HTTP providers: REQUESTS_TIMEOUT).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
ANYMAIL.setdefault("REQUESTS_TIMEOUT", EMAIL_TIMEOUT)
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
# The longest a web request or the sweep waits to hand a task to the broker (requests_app/enqueue.py).
DSAR_PUBLISH_TIMEOUT = env.float("DSAR_PUBLISH_TIMEOUT", default=2.0)
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
    # Opt-outs an earlier version left waiting for an e-mail confirmation (11 CCR §7026(d)).
    "accept-waiting-opt-outs": {"task": "requests_app.tasks.accept_waiting_opt_outs",
                                "schedule": crontab(hour=3, minute=27), "options": {"expires": 6 * 3600}},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- product settings ---------------------------------------------------------------------------
DSAR_CONFIRMATION_DAYS = env.int("DSAR_CONFIRMATION_DAYS", default=14)  # unconfirmed → not_filed
# Intake (requests_app/intake): confirmation reminders, the optional one-time code on the form.
DSAR_CONFIRM_REMINDER_AFTER_HOURS = env.int("DSAR_CONFIRM_REMINDER_AFTER_HOURS", default=24)
DSAR_CONFIRM_REMINDER_BEFORE_CLOSE_DAYS = env.int("DSAR_CONFIRM_REMINDER_BEFORE_CLOSE_DAYS", default=2)
DSAR_EMAIL_CODE_REQUIRED = env.bool("DSAR_EMAIL_CODE_REQUIRED", default=False)
DSAR_EMAIL_CODE_MINUTES = env.int("DSAR_EMAIL_CODE_MINUTES", default=15)
DSAR_EMAIL_CODE_ATTEMPTS = env.int("DSAR_EMAIL_CODE_ATTEMPTS", default=5)
DSAR_EMAIL_CODE_RATE = env("DSAR_EMAIL_CODE_RATE", default="3/h")  # codes sent per address
DSAR_DUE_SOON_DAYS = env.int("DSAR_DUE_SOON_DAYS", default=7)
DSAR_URGENT_DAYS = env.int("DSAR_URGENT_DAYS", default=2)
DSAR_STATUS_LINK_MAX_AGE_DAYS = env.int("DSAR_STATUS_LINK_MAX_AGE_DAYS", default=800)  # ≥ 24 months (11 CCR §7101)
DSAR_RATE_LIMIT_PER_IP = env("DSAR_RATE_LIMIT_PER_IP", default="10/h")
DSAR_RATE_LIMIT_PER_EMAIL = env("DSAR_RATE_LIMIT_PER_EMAIL", default="5/h")
# Behind a reverse proxy: the META key of the header it sets to the client's address (e.g. HTTP_X_REAL_IP,
# or HTTP_X_FORWARDED_FOR with the number of proxies in front of the app); empty: REMOTE_ADDR.
DSAR_CLIENT_IP_HEADER = env("DSAR_CLIENT_IP_HEADER", default="")
DSAR_TRUSTED_PROXY_COUNT = env.int("DSAR_TRUSTED_PROXY_COUNT", default=1)
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

# Structured JSON logs in production (LOG_FORMAT=json), each line with the request id that caused it.
LOG_FORMAT = env("LOG_FORMAT", default="json" if PRODUCTION else "text")
# Data Rights Protocol 1.0 (requests_app/drp): our id in the DRP directory; per-IP rate limit of its API;
# callback timeouts; callbacks over https only in production (http for local agents in development).
DRP_BUSINESS_ID = env("DRP_BUSINESS_ID", default="")
DRP_RATE_LIMIT = env("DRP_RATE_LIMIT", default="600/m")
DRP_CALLBACK_CONNECT_TIMEOUT = env.float("DRP_CALLBACK_CONNECT_TIMEOUT", default=3.0)
DRP_CALLBACK_READ_TIMEOUT = env.float("DRP_CALLBACK_READ_TIMEOUT", default=10.0)
DRP_CALLBACK_REQUIRE_HTTPS = env.bool("DRP_CALLBACK_REQUIRE_HTTPS", default=PRODUCTION)
# Callbacks never reach loopback, private or link-local addresses in production (agents' URLs are
# untrusted input); development and the tests talk to local servers.
DRP_CALLBACK_ALLOW_PRIVATE = env.bool("DRP_CALLBACK_ALLOW_PRIVATE", default=not PRODUCTION)
GPC_LAST_UPDATE = env("GPC_LAST_UPDATE", default="2026-11-30")  # /.well-known/gpc.json "lastUpdate"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "requests_app.ops.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "pythonjsonlogger.json.JsonFormatter",
                 "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
                 "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- operations (requests_app/ops) ----------------------------------------------------------------
# /metrics needs this bearer token; production refuses to start without one unless metrics are off.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_REQUIRED = env.bool("METRICS_REQUIRED", default=PRODUCTION)
# Closed cases keep their records this long, then the requester's data is redacted (11 CCR §7101:
# at least 24 months; the check refuses less).
DSAR_RETENTION_MONTHS = env.int("DSAR_RETENTION_MONTHS", default=24)
CELERY_BEAT_SCHEDULE.update({
    "timers-watchdog": {"task": "requests_app.ops.tasks.watchdog", "schedule": 60.0, "options": {"expires": 60}},
    "retention": {"task": "requests_app.ops.tasks.apply_retention", "schedule": crontab(hour=3, minute=41),
                  "options": {"expires": 6 * 3600}},
})

if PRODUCTION:
    # Trust X-Forwarded-Proto only behind a proxy that sets it (DSAR_TRUST_X_FORWARDED_PROTO=true):
    # gunicorn exposed directly would let any client claim https.
    if env.bool("DSAR_TRUST_X_FORWARDED_PROTO", default=False):
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
# --- security and reliability (issue 10) -------------------------------------------------------------
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                  "requests_app.middleware.RequestGuardMiddleware")  # body cap, NUL in query: before any view
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
                  "requests_app.middleware.StaffIdleTimeoutMiddleware")
MIDDLEWARE += [
    "requests_app.middleware.PrivacyHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]
INSTALLED_APPS += ["axes", "csp"]
DSAR_MAX_REQUEST_BYTES = env.int("DSAR_MAX_REQUEST_BYTES", default=DATA_UPLOAD_MAX_MEMORY_SIZE)  # all parts together
DSAR_STAFF_IDLE_MINUTES = env.int("DSAR_STAFF_IDLE_MINUTES", default=30)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Sent e-mails keep their addresses and metadata; their bodies (status links valid for 800 days) go.
DSAR_PURGE_SENT_EMAIL_BODIES_DAYS = env.int("DSAR_PURGE_SENT_EMAIL_BODIES_DAYS", default=30)

# Brute force on /accounts/login/ and /admin/login/ (django-axes): lock the account and, separately,
# the client address after DSAR_LOGIN_FAILURE_LIMIT failures, for DSAR_LOGIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = ["requests_app.lockout.LockoutBackend", *AUTHENTICATION_BACKENDS]  # model (+ OIDC)
AXES_FAILURE_LIMIT = env.int("DSAR_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("DSAR_LOGIN_LOCKOUT_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner on stderr (management commands print one line)
AXES_LOCKOUT_CALLABLE = "requests_app.lockout.locked_out"  # a clear page, status 429
AXES_CLIENT_IP_CALLABLE = "requests_app.lockout.client_ip"  # the same trusted header as the rate limits

# Content-Security-Policy (django-csp): only our own scripts, styles and images; no framing.
CONTENT_SECURITY_POLICY = {"DIRECTIVES": {
    "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"], "img-src": ["'self'", "data:"],
    "font-src": ["'self'"], "connect-src": ["'self'"], "object-src": ["'none'"], "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"], "form-action": ["'self'"],
}}
DSAR_PERMISSIONS_POLICY = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=(), "
                           "browsing-topics=()")

# Deliveries have a queue of their own: a slow or hung mail provider holds only the mail workers,
# never the one that runs the sweep (docker-compose: worker -Q celery,timers and mail -Q mail).
DSAR_MAIL_QUEUE = env("CELERY_MAIL_QUEUE", default="mail")
CELERY_TASK_ROUTES.update({f"requests_app.tasks.{name}": {"queue": DSAR_MAIL_QUEUE}
                           for name in ("flush_outbox", "send_notification", "purge_sent_email_bodies",
                                        "send_status_link")})
CELERY_BEAT_SCHEDULE["purge-sent-email-bodies"] = {
    "task": "requests_app.tasks.purge_sent_email_bodies", "schedule": crontab(hour=3, minute=37),
    "options": {"expires": 6 * 3600}}
# --- REST API (requests_app/api) and outbound webhooks (requests_app/webhooks) ----------------------
INSTALLED_APPS += ["rest_framework", "drf_spectacular", "drf_spectacular_sidecar", "requests_app.api",
                   "requests_app.webhooks"]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["requests_app.api.auth.ApiKeyAuthentication",
                                       "rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "requests_app.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env("API_RATE_LIMIT", default="6000/hour")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DSAR workflow API",
    "DESCRIPTION": "Cases, the privacy team's actions, clocks, the calculator, the CCPA metrics and the audit "
                   "trail. Authenticate with `Authorization: Bearer <API key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "requests_app.api.schema.add_error_responses"],
    "ENUM_NAME_OVERRIDES": {"CaseStateEnum": "requests_app.models.State",
                            "AppealStateEnum": "requests_app.models.AppealState"},
}
API_EVENTS_SETTLE_SECONDS = env.int("API_EVENTS_SETTLE_SECONDS", default=5)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)  # connect and read, each
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=15)
CELERY_TASK_ROUTES["requests_app.webhooks.tasks.deliver_webhooks"] = {"queue": DSAR_TIMERS_QUEUE}

# --- connectors (requests_app/connectors): SQL and HTTP systems worked automatically --------------
DSAR_CONNECTOR_KEY = env("DSAR_CONNECTOR_KEY", default="")  # Fernet key for connector secrets at rest
DSAR_CONNECTOR_ERASE_APPROVAL = env.bool("DSAR_CONNECTOR_ERASE_APPROVAL", default=True)  # a second person approves
DSAR_CONNECTOR_MAX_ATTEMPTS = env.int("DSAR_CONNECTOR_MAX_ATTEMPTS", default=5)
DSAR_CONNECTOR_BACKOFF_SECONDS = env.int("DSAR_CONNECTOR_BACKOFF_SECONDS", default=30)  # doubled per attempt
DSAR_CONNECTOR_CALLBACK_HOURS = env.int("DSAR_CONNECTOR_CALLBACK_HOURS", default=24)
DSAR_CONNECTOR_LEASE_SECONDS = env.int("DSAR_CONNECTOR_LEASE_SECONDS", default=900)  # a claim older is a dead worker's
