"""The FastAPI application: middleware (trusted hosts, body-size limit, security headers, Server-Timing),
who is asking (session cookie or API token), CSRF, login/logout, error pages. The views live in
``co2plan.web.routes``; data comes only from ``co2plan.web.data``.

Sessions are server-side (table ``sessions``, the cookie holds 256 random bits, stored as sha256), so they
can be revoked; the id is replaced on every login (no fixation). Cookies: ``__Host-co2plan`` (Secure,
HttpOnly, SameSite=Lax, Path=/). CSRF: synchronizer token per session, sent as the ``csrf_token`` form field
or the ``X-CSRF-Token`` header, plus an Origin / Sec-Fetch-Site same-origin check; requests with a Bearer
token carry no ambient credentials and are exempt. The login form itself uses a double-submit cookie.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from co2plan.web import charts
from co2plan.web.data import Forbidden, Lake, NotFound
from co2plan.web.http import (
    LoginRequired,
    Throttled,
    cookie_names,
    create_user,
    csrf_guard,
    home_for,
    render,
    safe_next,
)
from co2plan.web.runner import make_runner
from co2plan.web.security import ANONYMOUS, Principal, new_secret, verify_password
from co2plan.web.settings import WebSettings
from co2plan.web.store import Store

__all__ = ["create_app", "create_user"]

log = logging.getLogger("co2plan.web")
HERE = Path(__file__).parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
       "object-src 'none'")


# ---------------------------------------------------------------------------------------------- ASGI middleware
class SecurityHeaders:
    """CSP and friends on every response; no-store on everything but static files; Server-Timing."""

    def __init__(self, app, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await _too_large(send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_body:
                    raise _BodyTooLarge()
            return msg

        static = scope["path"].startswith("/static/")
        started = False

        async def send_with_headers(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
                h = [(k, v) for k, v in msg.get("headers", []) if k.lower() != b"server"]
                h += [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                      (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY"),
                      (b"cross-origin-opener-policy", b"same-origin"),
                      (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                      (b"server-timing", f"app;dur={(time.perf_counter() - t0) * 1000:.1f}".encode())]
                if not static:
                    h.append((b"cache-control", b"no-store"))
                msg = {**msg, "headers": h}
            await send(msg)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _BodyTooLarge:
            if not started:
                await _too_large(send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send) -> None:
    body = b'{"detail":"request body too large"}'
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------------------------------------- the app
def create_app(settings: WebSettings | None = None, store: Store | None = None, lake: Lake | None = None,
               runner=None) -> FastAPI:
    settings = settings or WebSettings()
    store = store or Store(settings.db_url)
    store.init()
    app = FastAPI(title="co2plan web", version="1", docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/v1/openapi.json", dependencies=[Depends(csrf_guard)],
                  description="Public, supplier and enterprise views of the carbon platform. Pages are HTML; "
                              "every page has a JSON twin under /api/v1. Machine clients authenticate with "
                              "`Authorization: Bearer <token>`.")
    app.state.settings = settings
    app.state.store = store
    app.state.lake = lake or Lake(settings.lake_root)
    app.state.runner = runner or make_runner(settings)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(plotly_js=f"/static/vendor/plotly-{charts.plotly_version()}.min.js",
                                 scope_labels=charts.SCOPE_LABELS)
    app.state.templates = templates

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))
    app.add_middleware(SecurityHeaders, max_body=settings.max_upload_bytes + 64 * 1024)

    @app.get(f"/static/vendor/plotly-{charts.plotly_version()}.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        from fastapi.responses import FileResponse

        return FileResponse(charts.plotly_js_path(), media_type="text/javascript",
                            headers={"cache-control": "public, max-age=31536000, immutable"})

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")  # after the vendor route
    _errors(app)
    _auth_routes(app)
    from co2plan.web.routes import register

    register(app)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _errors(app: FastAPI) -> None:
    def page(request: Request, status: int, msg: str, headers: dict | None = None) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": msg}, status_code=status, headers=headers)
        try:
            resp = render(request, "error.html", {"status": status, "message": msg}, status)
        except LoginRequired:
            request.state.principal = ANONYMOUS
            resp = render(request, "error.html", {"status": status, "message": msg}, status)
        resp.headers.update(headers or {})
        return resp

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):
        if _is_api(request):
            return JSONResponse({"detail": "not logged in"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        return page(request, 403, str(exc) or "not allowed")

    @app.exception_handler(NotFound)
    async def _nf(request: Request, exc: NotFound):
        return page(request, 404, str(exc) or "not found")

    @app.exception_handler(Throttled)
    async def _thr(request: Request, exc: Throttled):
        return page(request, 429, "too many failed logins: wait and try again",
                    {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return page(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _val(request: Request, exc: RequestValidationError):
        errs = [{"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()]
        if _is_api(request):
            return JSONResponse({"detail": errs}, status_code=422)
        return page(request, 422, "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errs))

    @app.exception_handler(Exception)
    async def _500(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error (logged)"}, status_code=500)


def _auth_routes(app: FastAPI) -> None:
    settings: WebSettings = app.state.settings
    store: Store = app.state.store
    session_cookie, pre_cookie = cookie_names(settings)

    def cookie_kw() -> dict:
        return {"secure": settings.cookie_secure, "httponly": True, "samesite": "lax", "path": "/"}

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, next: str | None = None):
        pre = request.cookies.get(pre_cookie)
        if not pre or len(pre) > 100:
            pre = new_secret()
        resp = render(request, "login.html", {"next": safe_next(next, ""), "pre": pre, "error": None})
        resp.set_cookie(pre_cookie, pre, max_age=3600, **cookie_kw())
        return resp

    @app.post("/login", include_in_schema=False)
    def login(request: Request, username: str = Form("", max_length=64), password: str = Form("", max_length=256),
              next: str = Form("", max_length=500)):
        ip = request.client.host if request.client else "unknown"
        keys = (f"user:{username.strip().lower()}", f"ip:{ip}")
        for k in keys:
            failures, left = store.throttle_state(k, settings.throttle_window_s)
            if failures >= settings.throttle_failures:
                raise Throttled(max(1, int(left)))
        user = store.user_by_name(username.strip())
        ok, rehash = verify_password(user["pw_hash"] if user else None, password)
        if not ok or user is None or user["disabled"]:
            for k in keys:
                store.record_failure(k, settings.throttle_window_s)
            store.log(None, "login.failed", f"user:{username.strip()[:64]}", {"ip": ip})
            resp = render(request, "login.html", {"next": safe_next(next, ""), "pre": request.cookies.get(pre_cookie),
                                                  "error": "Wrong user name or password."}, 401)
            return resp
        store.clear_failures(keys[0])
        if rehash:
            store.set_pw_hash(user["id"], rehash)
        old = request.cookies.get(session_cookie)
        if old:
            store.delete_session(old)  # never carry a pre-login id over (session fixation)
        sid, csrf = new_secret(), new_secret()
        store.create_session(sid, user["id"], csrf)
        store.log(user["id"], "login", f"user:{user['username']}", {"ip": ip}, user["supplier_id"])
        p = Principal(user["id"], user["username"], user["role"], user["supplier_id"], csrf, "session")
        resp = RedirectResponse(safe_next(next, home_for(p)), status_code=303)
        resp.set_cookie(session_cookie, sid, max_age=settings.session_absolute_s, **cookie_kw())
        resp.delete_cookie(pre_cookie, path="/", secure=settings.cookie_secure, httponly=True, samesite="lax")
        return resp

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request):
        sid = request.cookies.get(session_cookie)
        if sid:
            store.delete_session(sid)
        resp = RedirectResponse("/", status_code=303)
        resp.delete_cookie(session_cookie, path="/", secure=settings.cookie_secure, httponly=True, samesite="lax")
        return resp
