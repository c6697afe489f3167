"""Health facts gathered for /healthz. Apps add their own checks through HEALTH_CHECKS."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings


def cluster_heartbeat() -> dict:
    """What django-q2's cluster reports about itself: running clusters and their last heartbeat."""
    try:
        from django_q.status import Stat

        stats = Stat.get_all()
    except Exception as exc:  # noqa: BLE001 - a broker that is down is a health fact, not an error
        return {"status": "unknown", "detail": type(exc).__name__}
    clusters = [
        {
            "id": str(stat.cluster_id),
            "status": stat.status,
            "workers": len(stat.workers),
            "seen": stat.tob.isoformat(),
        }
        for stat in stats
    ]
    return {"status": "ok" if clusters else "no-cluster", "clusters": clusters}


def extra_health_checks() -> dict:
    """Runs each callable named in settings.HEALTH_CHECKS; each returns a dict merged into the body.

    A check reports trouble by returning {"problems": [...]}; problems from all checks are joined.
    """
    body: dict = {}
    problems: list = []
    for dotted in getattr(settings, "HEALTH_CHECKS", []):
        module_name, _, attr = dotted.rpartition(".")
        result = getattr(import_module(module_name), attr)()
        problems.extend(result.pop("problems", []))
        body.update(result)
    if problems:
        body["problems"] = problems
    return body
