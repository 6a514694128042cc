from __future__ import annotations

from .models import RESOLVED_STATES, Task, TaskState


def my_tasks(user, limit: int = 200):
    """The user's tasks, open ones first by due date, then the latest resolved: one query."""
    open_ = list(Task.objects.filter(assignee=user, state=TaskState.OPEN)
                 .select_related("case", "system").order_by("due_at", "id")[:limit])
    done = list(Task.objects.filter(assignee=user, state__in=RESOLVED_STATES)
                .select_related("case", "system").order_by("-completed_at", "-id")[:50])
    return open_, done


def latest_package(case):
    from .models import AccessPackage

    return AccessPackage.objects.filter(case=case).order_by("-id").first()


def case_tasks(case) -> list[Task]:
    return list(Task.objects.filter(case=case).select_related("system", "assignee").prefetch_related("files")
                .order_by("system__name"))


def progress(tasks: list[Task]) -> dict:
    resolved = sum(1 for t in tasks if t.state != TaskState.OPEN)
    return {"resolved": resolved, "total": len(tasks), "open": len(tasks) - resolved,
            "percent": round(100 * resolved / len(tasks)) if tasks else 100}
