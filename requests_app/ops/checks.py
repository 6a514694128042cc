"""Misconfiguration fails at start-up (`manage.py check`, run by the deploy), not at the first scrape."""
from django.conf import settings
from django.core import checks

MIN_TOKEN_LENGTH = 32


@checks.register(checks.Tags.security, deploy=True)
def metrics_token(app_configs, **kwargs):
    if not getattr(settings, "METRICS_REQUIRED", False):
        return []
    token = getattr(settings, "METRICS_TOKEN", "")
    if len(token) < MIN_TOKEN_LENGTH:
        return [checks.Error(
            f"METRICS_TOKEN is {'missing' if not token else 'too short'}: /metrics needs a bearer token of at "
            f"least {MIN_TOKEN_LENGTH} characters in production",
            hint="Set METRICS_TOKEN (e.g. `openssl rand -hex 32`), or METRICS_REQUIRED=false to turn /metrics off.",
            id="ops.E001")]
    return []


@checks.register()
def retention_period(app_configs, **kwargs):
    months = getattr(settings, "DSAR_RETENTION_MONTHS", 24)
    if months < 24:  # 11 CCR §7101(a): records of requests are kept for at least 24 months
        return [checks.Error(f"DSAR_RETENTION_MONTHS={months} is shorter than the 24 months 11 CCR §7101 requires",
                             hint="It may lengthen the period, never shorten it.", id="ops.E002")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def object_storage(app_configs, **kwargs):
    """With STORAGE_URL set, the bucket must answer before the app serves (letters and uploads live there)."""
    if "s3" not in settings.STORAGES["default"]["BACKEND"].lower():
        return []
    from django.core.files.storage import default_storage

    from .health import bounded

    # Bounded: an object store that accepts and never answers must not hang the start-up.
    result = bounded(lambda: default_storage.connection.meta.client.head_bucket(Bucket=default_storage.bucket_name))
    if not result["ok"]:  # unreachable, refused, hung, no such bucket, no permission
        return [checks.Error(f"The object store for STORAGE_URL cannot be used: {result['error']}",
                             hint="Check STORAGE_URL's bucket and endpoint_url and the credentials "
                                  "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).", id="ops.E003")]
    return []
