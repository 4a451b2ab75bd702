"""Who may pass process variables beside a form (domain/variables.py): a clerk of the step, or the agency's own
system; nobody else, whatever else they may do."""
from __future__ import annotations

import pytest

from workflows.domain.errors import Forbidden
from workflows.domain.model import User
from workflows.domain.variables import require_variable_source

VARIABLES = {"referral": True}


def user(*roles: str) -> User:
    return User(username="u", full_name="某人", password_hash="", agency_code="210400", hall_code="210400-01",
                roles=list(roles))


@pytest.mark.parametrize("roles, step_role", [(("acceptor",), "acceptor"), (("reviewer", "finance"), "finance"),
                                              (("hospital",), "any"), (("integrator",), "reviewer")])
def test_a_clerk_of_the_step_or_the_agencys_system_may_pass_variables(roles, step_role):
    require_variable_source(user(*roles), step_role, VARIABLES)


@pytest.mark.parametrize("roles, step_role", [((), "acceptor"), (("designer",), "acceptor"), (("admin",), "any"),
                                              (("reviewer",), "acceptor"), (("designer", "admin"), "any")])
def test_anyone_else_is_refused_by_name_of_the_rule(roles, step_role):
    with pytest.raises(Forbidden, match="只有本步骤的经办人员或外部系统可以传入流程变量"):
        require_variable_source(user(*roles), step_role, VARIABLES)


def test_without_variables_there_is_nothing_to_refuse():
    require_variable_source(user(), "acceptor", {})
