from . import heartbeat


def timers_banner(request):
    """Managers see on every staff page that the deadline timers stopped (and the team is alerted once)."""
    user = getattr(request, "user", None)
    if (not request.path.startswith("/staff/") or user is None or not user.is_authenticated
            or not user.has_perm("requests_app.assign_case")):  # managers (permission cache: no query)
        return {}
    status = heartbeat.sweep_status()
    if status.stale:
        heartbeat.alert_if_stale()
    return {"timers_status": status}
