from django.db import models


class Heartbeat(models.Model):
    """When a periodic job last completed (the dead man's switch): one row per job, updated in place.

    ``alerted_for`` is the ``completed_at`` value the team was last alerted about, so a stalled job
    causes one alert e-mail, not one per check (claimed with a conditional UPDATE)."""

    name = models.CharField(max_length=40, unique=True)
    completed_at = models.DateTimeField()
    duration_ms = models.FloatField(default=0)
    claimed = models.PositiveIntegerField(default=0, help_text="Clock steps claimed by the last run")
    alerted_for = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} completed at {self.completed_at:%Y-%m-%d %H:%M:%S}"


class Redaction(models.Model):
    """A case whose requester's personal data was redacted at the end of its retention period.
    The case and its audit trail stay (what happened and when), without the person."""

    case = models.OneToOneField("requests_app.DataSubjectRequest", on_delete=models.PROTECT,
                                related_name="redaction")
    redacted_at = models.DateTimeField()
    retention_months = models.PositiveSmallIntegerField()
    files_deleted = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"case {self.case_id} redacted at {self.redacted_at:%Y-%m-%d}"
