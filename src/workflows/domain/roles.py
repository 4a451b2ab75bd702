"""The roles of an agency's staff; BPMN lanes name them in Chinese."""

ROLE_NAMES = {
    "acceptor": "受理员",
    "reviewer": "审核员",
    "finance": "财务",
    "supervisor": "科室负责人",
    "hospital": "定点医院",
    "designer": "流程设计员",
    "admin": "系统管理员",
    "integrator": "外部系统",  # an agency's own system working external tasks (services/external_tasks.py)
}

ROLE_BY_LANE = {name: code for code, name in ROLE_NAMES.items()}

# Roles that work tasks in a lane; designers and administrators never get case tasks.
TASK_ROLES = frozenset({"acceptor", "reviewer", "finance", "supervisor", "hospital"})

# A user task whose diagram names no role (no role lane, no candidateGroups naming one, as diagrams drawn elsewhere
# are): it goes to the hall's clerks, whoever works tasks there. Not a role anyone is given.
ANY_TASK_ROLE = "any"
TASK_ROLE_NAMES = {**ROLE_NAMES, ANY_TASK_ROLE: "大厅任一岗位"}


def worked_roles(user) -> list[str]:
    """The task roles whose open tasks `user` may take: their own, and the hall's any role if they work tasks."""
    own = [role for role in user.roles if role in TASK_ROLES]
    return [*own, ANY_TASK_ROLE] if own else []


def role_name(code: str) -> str:
    """The Chinese name of a task's role, the hall's any role included."""
    return TASK_ROLE_NAMES.get(code, code)


def role_for_lane(lane_name: str | None) -> str | None:
    """The role code a lane stands for, or None when the lane names no task role."""
    role = ROLE_BY_LANE.get((lane_name or "").strip())
    return role if role in TASK_ROLES else None
