"""Staff roles as groups with permissions: analyst, manager, auditor."""
from django.contrib.auth.models import Group, Permission

ROLE_PERMISSIONS = {
    # Works the cases assigned to them: may reveal the requester and extend a clock (with a written
    # reason) on those cases only -- services.extend_deadline / reveal_requester also check can_work.
    "analyst": ["work_case", "view_datasubjectrequest", "extend_deadline", "reveal_requester"],
    # Sees and assigns all, extends, decides appeals.
    "manager": ["work_case", "view_all_cases", "assign_case", "extend_deadline", "decide_appeal",
                "reveal_requester", "view_datasubjectrequest", "view_configchange"],
    # Reads everything, changes nothing. Managers and auditors read the configuration audit.
    "auditor": ["view_all_cases", "view_datasubjectrequest", "view_event", "view_deadline", "view_letter",
                "view_configchange"],
}


def ensure_roles() -> dict[str, Group]:
    groups = {}
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="requests_app",
                                                        codename__in=codenames))
        groups[name] = group
    return groups
