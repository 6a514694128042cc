"""Small helpers for the requester e-mails (templates/emails/)."""
from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def confirmation_days() -> int:
    """How long a confirmation link works before an unconfirmed request is closed as not filed."""
    return settings.DSAR_CONFIRMATION_DAYS


@register.simple_tag
def controller(regime) -> dict:
    """The company answering under this regime (letterhead configuration)."""
    return settings.DSAR_CONTROLLERS.get(getattr(regime, "controller", ""), {})


@register.filter
def date_from_iso(value):
    """Letter contexts keep dates as ISO strings (JSON); turn one back into a date for |date."""
    import datetime as dt

    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value
