"""What every route needs: who is asking (session cookie or API token), role checks, CSRF, rendering, and
the errors the app turns into 401/403/404/429 (pages redirect to /login instead of 401)."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from co2plan.web.data import Forbidden
from co2plan.web.security import ANONYMOUS, Principal, hash_password, same
from co2plan.web.settings import WebSettings
from co2plan.web.store import Store

__all__ = ["LoginRequired", "Throttled", "current_principal", "require", "csrf_guard", "render", "safe_next",
           "home_for", "cookie_names", "COMMON_RESPONSES", "create_user", "templates_for"]

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
COMMON_RESPONSES: dict = {401: {"description": "not logged in"}, 403: {"description": "not allowed (role, CSRF)"},
                    404: {"description": "no such object for this user"},
                    422: {"description": "invalid input"}, 429: {"description": "too many attempts"}}



class LoginRequired(Exception):
    """No (valid) session or token: pages redirect to /login, the API answers 401."""


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after


def cookie_names(settings: WebSettings) -> tuple[str, str]:
    return (("__Host-co2plan", "__Host-co2plan_pre") if settings.cookie_secure else ("co2plan", "co2plan_pre"))


def templates_for(request: Request) -> Jinja2Templates:
    return request.app.state.templates


# ---------------------------------------------------------------------------------------------- who is asking
def current_principal(request: Request) -> Principal:
    if hasattr(request.state, "principal"):
        return request.state.principal
    st = request.app.state
    p = ANONYMOUS
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        u = st.store.user_for_token(auth[7:].strip()[:200])
        if u is None or u["disabled"]:
            raise LoginRequired()
        p = Principal(u["id"], u["username"], u["role"], u["supplier_id"], None, "token")
    else:
        sid = request.cookies.get(cookie_names(st.settings)[0])
        if sid and len(sid) < 200:
            s = st.store.get_session(sid, st.settings.session_idle_s, st.settings.session_absolute_s)
            if s is not None:
                u = st.store.user_by_id(s["user_id"])
                if u is not None and not u["disabled"]:
                    p = Principal(u["id"], u["username"], u["role"], u["supplier_id"], s["csrf"], "session")
    request.state.principal = p
    return p


def require(role: str):
    """Dependency: 'user' (anyone logged in), 'supplier', or an enterprise role (viewer < planner < admin)."""

    def dep(p: Principal = Depends(current_principal)) -> Principal:
        if p.via == "anonymous":
            raise LoginRequired()
        if role == "supplier":
            if not p.is_supplier:
                raise Forbidden("supplier users only")
        elif role != "user" and not p.at_least(role):
            raise Forbidden(f"needs the {role} role")
        return p

    dep.__name__ = f"require_{role}"
    return dep


async def csrf_guard(request: Request, p: Principal = Depends(current_principal)) -> None:
    if request.method in SAFE_METHODS or p.via == "token":
        return
    site = request.headers.get("sec-fetch-site")
    if site and site not in ("same-origin", "none"):
        raise Forbidden("cross-site request refused")
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
        raise Forbidden("cross-origin request refused")
    expected = p.csrf if p.via == "session" else request.cookies.get(cookie_names(request.app.state.settings)[1])
    token = request.headers.get("x-csrf-token")
    ctype = request.headers.get("content-type", "")
    if not token and (ctype.startswith("application/x-www-form-urlencoded") or ctype.startswith("multipart/")):
        form = await request.form()
        token = form.get("csrf_token")
    if not same(token if isinstance(token, str) else None, expected):
        raise Forbidden("missing or wrong CSRF token: reload the page and try again")


def safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths: no scheme, no host, no '//' or backslash tricks."""
    if not target or not isinstance(target, str) or len(target) > 500:
        return default
    t = target.strip()
    if not t.startswith("/") or t.startswith("//") or "\\" in t or any(ord(c) < 32 for c in t):
        return default
    parts = urlsplit(t)
    if parts.scheme or parts.netloc:
        return default
    return t


def home_for(p: Principal) -> str:
    if p.is_supplier:
        return "/supplier"
    if p.at_least("viewer"):
        return "/enterprise"
    return "/"


def render(request: Request, name: str, ctx: dict, status: int = 200) -> HTMLResponse:
    p = current_principal(request)
    return templates_for(request).TemplateResponse(request, name, {"p": p, "csrf": p.csrf, **ctx},
                                                   status_code=status)


def create_user(store: Store, username: str, password: str, role: str, supplier_id: str | None = None) -> int:
    return store.add_user(username, hash_password(password), role, supplier_id)
