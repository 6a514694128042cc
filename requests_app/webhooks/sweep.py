"""The deadline sweep's webhook step: whatever a dead broker or a down receiver left pending is
sent here, so nothing is lost (requests_app.hooks.sweep_step)."""
from ..hooks import sweep_step
from . import services


@sweep_step("webhooks")
def deliver_pending(now):
    return services.deliver_due(now)
