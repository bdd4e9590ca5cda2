"""Who may call what: the role-by-route policy as one table of data.

Why a table and not a decorator per route: the policy can be read (and reviewed, and tested) in one
place. ``api.dependencies.authorize`` is installed on the whole app and looks every request's route
up here, so a route with no entry is refused (fail closed) and ``tests/api/test_access_matrix.py``
fails naming it. Adding a route therefore means adding its line below.

Keys are ``(METHOD, path template)`` exactly as FastAPI lists the route (prefix included). Admin is
named in every non-public rule on purpose (the test checks it): "admin can do everything" stays true
without a hidden override.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from corpora.errors import ClwstwrError
from store.users import GRANT_ONLY_ROLES, ROLES


class AuthenticationError(ClwstwrError):
    """Not logged in (or the session ended), or a wrong user name / password at log-in (HTTP 401)."""

    code = "CW700"


class PermissionDeniedError(ClwstwrError):
    """Logged in, but this role may not do this (HTTP 403)."""

    code = "CW701"


@dataclass(frozen=True)
class Rule:
    """Who may call one route.

    ``roles`` may always call it. ``granted_roles`` may call it only for a round they were granted,
    the round's name being the path parameter ``round_param``. ``public`` routes need no log-in.
    """

    roles: frozenset[str] = frozenset()
    granted_roles: frozenset[str] = frozenset()
    round_param: str | None = None
    public: bool = False

    def __post_init__(self) -> None:
        unknown = (self.roles | self.granted_roles) - set(ROLES)
        if unknown:
            raise ValueError(f"access rule names unknown roles {sorted(unknown)}; roles are {list(ROLES)}")
        if self.granted_roles and not self.round_param:
            raise ValueError("an access rule with granted_roles needs round_param (the path parameter naming the round)")


def _roles(*names: str) -> frozenset[str]:
    return frozenset(names)


PUBLIC = Rule(public=True)
ANY_ROLE = Rule(roles=frozenset(ROLES))
ADMIN = Rule(roles=_roles("admin"))
# A round's own data: every role but the grant-only ones, who need a grant for that round.
ROUND_DATA = Rule(
    roles=frozenset(ROLES) - GRANT_ONLY_ROLES, granted_roles=frozenset(GRANT_ONLY_ROLES), round_param="name"
)
# The reviewer workspace (reading it is ROUND_DATA): who codes, who settles, who runs the round.
CODERS = Rule(roles=_roles("reviewer", "admin"))
SETTLES = Rule(roles=_roles("reviewer", "programme", "admin"))
RUNS_ROUND = Rule(roles=_roles("programme", "admin"))

POLICY: Mapping[tuple[str, str], Rule] = {
    # the service and its documentation
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    # logging in and out
    ("POST", "/api/v1/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/api/v1/logout"): PUBLIC,
    ("GET", "/api/v1/me"): ANY_ROLE,
    # suggestions and rounds
    ("POST", "/api/v1/suggest"): ANY_ROLE,
    ("GET", "/api/v1/rounds"): ANY_ROLE,
    ("GET", "/api/v1/rounds/{name}/summary"): ROUND_DATA,
    # the reviewer workspace (api/routes/workspace.py): reviewers code; programme and admin run the round;
    # reading it is ROUND_DATA (a chair only for a round granted)
    ("GET", "/api/v1/rounds/{name}/answers"): ROUND_DATA,
    ("GET", "/api/v1/rounds/{name}/answers/{answer_id}"): ROUND_DATA,
    ("POST", "/api/v1/rounds/{name}/answers/{answer_id}/decisions"): CODERS,
    ("PUT", "/api/v1/rounds/{name}/answers/{answer_id}/status"): CODERS,
    ("PUT", "/api/v1/rounds/{name}/answers/{answer_id}/memo"): CODERS,
    ("PUT", "/api/v1/rounds/{name}/answers/{answer_id}/outcomes"): CODERS,
    ("POST", "/api/v1/rounds/{name}/finish"): CODERS,
    ("GET", "/api/v1/rounds/{name}/settings"): ROUND_DATA,
    ("PUT", "/api/v1/rounds/{name}/settings"): RUNS_ROUND,
    ("GET", "/api/v1/rounds/{name}/agreement"): ROUND_DATA,
    ("GET", "/api/v1/rounds/{name}/disagreements"): ROUND_DATA,
    ("POST", "/api/v1/rounds/{name}/answers/{answer_id}/consensus"): SETTLES,
    ("POST", "/api/v1/rounds/{name}/retrain"): RUNS_ROUND,
    ("GET", "/api/v1/rounds/{name}/retrain/{retrain_id}"): ROUND_DATA,
    ("POST", "/api/v1/rounds/{name}/retrain/{retrain_id}/activate"): RUNS_ROUND,
    ("GET", "/api/v1/rounds/{name}/exports/codes.csv"): ROUND_DATA,
    ("GET", "/api/v1/rounds/{name}/exports/codes.xlsx"): ROUND_DATA,
    ("GET", "/api/v1/rounds/{name}/exports/project.qdpx"): ROUND_DATA,
    # browser pages (api/pages): the log-in form and its static files are open, the rest needs a log-in
    ("GET", "/login"): PUBLIC,
    ("GET", "/static/{filename}"): PUBLIC,
    ("GET", "/"): ANY_ROLE,
    # peer reviews and outcome letters (api/routes/letters.py): chairs write, every role may read and export
    ("POST", "/api/v1/reviews"): Rule(roles=_roles("chair", "admin")),
    ("POST", "/api/v1/reviews/upload"): Rule(roles=_roles("chair", "admin")),
    ("GET", "/api/v1/reviews/{review_id}"): ANY_ROLE,
    ("POST", "/api/v1/reviews/{review_id}/letters"): Rule(roles=_roles("chair", "admin")),
    ("GET", "/api/v1/letters/{letter_id}"): ANY_ROLE,
    ("PUT", "/api/v1/letters/{letter_id}"): Rule(roles=_roles("chair", "admin")),
    ("GET", "/api/v1/letters/{letter_id}/versions"): ANY_ROLE,
    ("GET", "/api/v1/letters/{letter_id}/versions/{version}"): ANY_ROLE,
    ("GET", "/api/v1/letters/{letter_id}/compare"): ANY_ROLE,
    ("GET", "/api/v1/letters/{letter_id}/export"): ANY_ROLE,
    # administration
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users/{username}/grants"): ADMIN,
    ("POST", "/api/v1/users/{username}/disable"): ADMIN,
    ("GET", "/api/v1/audit"): ADMIN,
    # workspace pages (api/pages): the same rules as the JSON routes they show
    ("GET", "/rounds/{name}/grid"): ROUND_DATA,
    ("GET", "/rounds/{name}/answers/{answer_id}"): ROUND_DATA,
    ("GET", "/rounds/{name}/agreement"): ROUND_DATA,
    ("GET", "/rounds/{name}/retrain"): ROUND_DATA,
    ("GET", "/rounds/{name}/report"): ROUND_DATA,  # as GET /api/v1/rounds/{name}/summary
    ("GET", "/rounds/{name}/report/download"): ROUND_DATA,
    ("GET", "/letters/new"): Rule(roles=_roles("chair", "admin")),  # as POST /api/v1/reviews/upload
    ("GET", "/letters/{letter_id}"): ANY_ROLE,  # as GET /api/v1/letters/{letter_id}; editing as its PUT
}


def rule_for(method: str, path: str) -> Rule | None:
    """The rule for a route; HEAD follows GET (Starlette answers HEAD on every GET route)."""
    found = POLICY.get((method, path))
    if found is None and method == "HEAD":
        found = POLICY.get(("GET", path))
    return found


def allows(rule: Rule, role: str | None, *, has_grant: bool = False) -> bool:
    """The decision itself, as a pure function: ``role`` None means not logged in."""
    if rule.public:
        return True
    if role is None:
        return False
    return role in rule.roles or (role in rule.granted_roles and has_grant)
