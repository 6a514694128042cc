from django.conf import settings
from django.db import models


class SessionEpoch(models.Model):
    """Bumped by "sign out everywhere": a session opened under an older epoch is ended on its next
    request, whatever the session backend (sessions cannot be listed by user in Django's)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_epoch")
    epoch = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)
