"""Test settings: the real settings, with tasks run inline and a throwaway media folder.

DATABASE_URL and REDIS_URL still come from the environment: CI points them at this machine's
PostgreSQL and Redis; without them the suite uses SQLite."""
import tempfile

from .settings import *  # noqa: F401,F403

CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
MEDIA_ROOT = tempfile.mkdtemp(prefix="dsar-test-media-")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "http://testserver"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# Tests travel days between two staff actions; the idle sign-out has its own tests, which turn it on.
DSAR_STAFF_IDLE_MINUTES = 0
