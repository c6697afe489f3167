from functools import cached_property

from cdp import roles


class CurrentRole:
    """The signed-in user's role in the current workspace, read from the database only if a template asks:
    templates show write buttons to managers only (the views refuse the writes to anyone else anyway)."""

    def __init__(self, user, workspace):
        self.user, self.workspace = user, workspace

    @cached_property
    def name(self) -> str | None:
        return roles.role_of(self.user, self.workspace) if self.workspace is not None else None

    @property
    def can_manage(self) -> bool:
        return self.name in roles.MANAGERS

    @property
    def is_owner(self) -> bool:
        return self.name == roles.OWNER


def workspace(request):
    current = getattr(request, "workspace", None)
    current = current if current else None
    return {"workspace": current, "my_role": CurrentRole(getattr(request, "user", None), current)}
