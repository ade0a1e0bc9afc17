"""Who may see what: every view states its roles with `@roles(...)` (or `@public`), one hook enforces it.

Deny by default: a view that states nothing is refused (403) and the route × role test fails. Pages answer an
anonymous visitor with a redirect to the login page and a wrong role with a Spanish 403 page; `/api/` answers with
JSON 401 (and `WWW-Authenticate: Bearer`) and 403. The JSON API takes `Authorization: Bearer <token>` (only the
token's SHA-256 is stored); such requests ignore the session cookie and are therefore exempt from CSRF, while every
other POST (a form, or a script riding on the session cookie) must carry the CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, Request, current_app, g, jsonify, redirect, render_template, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import AnonymousUserMixin, LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from store.models import ApiToken, Role, User
from web import tenant

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

ROLES_ATTR = "buzon_roles"
PUBLIC_ATTR = "buzon_public"
API_PREFIX = "/api/"
TOKEN_PREFIX = "bzn_"  # noqa: S105 - a public marker, not a secret
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is written at most this often per token
DEFAULT_SESSION_HOURS = 12
MAX_SESSION_HOURS = 720

ROLE_LABELS = {
    Role.CLERK: "Auxiliar de cuentas por pagar",
    Role.TREASURY: "Tesorería",
    Role.ADMIN: "Administrador",
    Role.AUDITOR: "Auditor",
    Role.BILLING: "Facturación",
}


# --- Declaring access -------------------------------------------------------------------------------------------


def roles(*allowed: Role) -> Callable[[F], F]:
    """Let only signed-in users with one of these roles reach the view (put it below the route decorator)."""
    if not allowed:
        raise ValueError("roles() needs at least one role; use @public for views open to everyone")
    for role in allowed:
        if not isinstance(role, Role):
            raise TypeError(f"roles(): expected store.models.Role members, got {role!r}")

    def mark(view: F) -> F:
        setattr(view, ROLES_ATTR, frozenset(allowed))
        return view

    return mark


def public(view: F) -> F:
    """Let anyone reach the view, signed in or not (the login page, the health probe)."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def declared_roles(view: Callable[..., Any]) -> frozenset[Role] | None:
    """The roles a view states, or None when it states none."""
    return getattr(view, ROLES_ATTR, None)


def is_public(view: Callable[..., Any]) -> bool:
    """Whether the view is marked @public."""
    return bool(getattr(view, PUBLIC_ATTR, False))


def undeclared_endpoints(app: Flask) -> list[str]:
    """The endpoints that state neither roles nor @public (Flask's own static files excepted)."""
    return sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and declared_roles(view) is None and not is_public(view)
    )


# Where each role lands after signing in: clerks and treasury on the dashboard ("Resumen"), billing on its issued
# documents (it has no inbox), the others in the inbox.
HOME_ENDPOINTS = {Role.CLERK: "dashboard.index", Role.TREASURY: "dashboard.index", Role.BILLING: "issued.index"}


def home_endpoint(role: Role | None) -> str:
    """The endpoint a user of this role lands on after signing in."""
    return HOME_ENDPOINTS.get(role, "inbox.index") if role is not None else "inbox.index"


def may_access(endpoint: str, role: Role | None = None) -> bool:
    """Whether the current user (or this role) may reach the endpoint; for templates hiding links and buttons."""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    if endpoint == "static" or is_public(view):
        return True
    allowed = declared_roles(view)
    if role is None:
        if not current_user.is_authenticated:
            return False
        role = current_user.role
    return allowed is not None and role in allowed


# --- Who is signed in -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the request sees it: a detached snapshot of the users row, and how it authenticated."""

    id: int
    username: str
    role: Role
    display_name: str
    email: str | None
    session_key: str  # changes with the password, so a password change ends the other sessions
    via: str = "session"  # or "token"
    token_id: int | None = None

    is_authenticated = True
    is_active = True
    is_anonymous = False

    @classmethod
    def of(cls, user: User, *, via: str = "session", token_id: int | None = None) -> Principal:
        """The principal for a users row."""
        name = " ".join(p for p in (user.first_name, user.family_name) if p) or user.username
        return cls(
            id=user.id,
            username=user.username,
            role=Role(user.role),
            display_name=name,
            email=user.email,
            session_key=session_key(user),
            via=via,
            token_id=token_id,
        )

    def get_id(self) -> str:
        """What flask-login keeps in the session cookie: the id and a key bound to the password hash."""
        return f"{self.id}.{self.session_key}"

    @property
    def actor(self) -> str:
        """The audit actor (DESIGN.md section 3): user:<username>."""
        return f"user:{self.username}"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def load(self, session: Session) -> User:
        """The users row itself (for the profile fields, e.g. to prefill the 032 form)."""
        return session.get_one(User, self.id)


class Anonymous(AnonymousUserMixin):
    """Nobody signed in: no role, no actor."""

    role = None
    username = ""
    display_name = ""


def session_key(user: User) -> str:
    """A short key derived from the secret key, the password hash and the user's session version: a new password,
    a logout, a reset or disabling (which bump the version) invalidate every cookie made before."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    material = f"{user.id}:{user.password_hash}:{user.session_version or 0}"
    return hmac.new(secret, material.encode(), hashlib.sha256).hexdigest()[:20]


def session_lifetime(settings: Any) -> timedelta:
    """How long a session lasts without use: web.session_hours (1 to 720, default 12)."""
    hours = getattr(getattr(settings, "web", None), "session_hours", DEFAULT_SESSION_HOURS)
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_SESSION_HOURS:
        hours = DEFAULT_SESSION_HOURS
    return timedelta(hours=hours)


def _db() -> Session:
    return tenant.db()


def bearer_token(req: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header on an /api/ request, else None."""
    if not req.path.startswith(API_PREFIX):
        return None
    scheme, _, value = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def token_digest(req: Request) -> str | None:
    """The hash of the request's API bearer token (as stored), None without one: web/tenant.py finds its company."""
    raw = bearer_token(req)
    return None if raw is None else hash_token(raw)


def _load_session_user(user_id: str) -> Principal | None:
    """flask-login's user loader: the session's user while it is active and its password unchanged."""
    if bearer_token(request) is not None:
        return None  # a bearer request is the token's user only; the cookie is ignored (and so is CSRF)
    ident, _, key = user_id.partition(".")
    if not (ident.isascii() and ident.isdigit()) or len(ident) > 18:
        return None
    user = _db().get(User, int(ident))
    if user is None or not user.active:
        return None
    principal = Principal.of(user)
    return principal if hmac.compare_digest(principal.session_key, key) else None


def _load_token_user(req: Request) -> Principal | None:
    """flask-login's request loader: the user of a valid, unrevoked bearer token."""
    raw = bearer_token(req)
    if raw is None:
        return None
    found = authenticate_token(_db(), raw, now=datetime.now(UTC))
    if found is None:
        return None
    user, token = found
    return Principal.of(user, via="token", token_id=token.id)


# --- API tokens -------------------------------------------------------------------------------------------------


def hash_token(raw: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh bearer token: a recognisable prefix and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def authenticate_token(session: Session, raw: str, *, now: datetime) -> tuple[User, ApiToken] | None:
    """The active user and token for a raw bearer token, or None (unknown, revoked, or the user is inactive).

    Marks the token as used (at most once per TOKEN_TOUCH_INTERVAL, so the API does not write on every call).
    """
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    digest = hash_token(raw)
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or token.revoked_at is not None or not hmac.compare_digest(token.token_hash, digest):
        return None
    user = token.user
    if not user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
        session.commit()
    return user, token


# --- Enforcement ------------------------------------------------------------------------------------------------


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def safe_next(target: str | None) -> str | None:
    """A local path to return to after login, or None (no open redirects to other sites)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def unauthenticated() -> Any:
    """401 JSON for the API; for pages, a redirect to the login page that comes back here afterwards."""
    if is_api_request():
        response = jsonify(
            error="authentication_required",
            message="Se requiere autenticación: envíe Authorization: Bearer <token>.",
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="buzon"'
        return response
    here = request.full_path.rstrip("?") if request.query_string else request.path
    return redirect(url_for("auth.login", next=here))


def forbidden() -> Any:
    """403: JSON for the API, a Spanish page otherwise."""
    if is_api_request():
        return jsonify(error="forbidden", message="Su rol no tiene acceso a este recurso."), 403
    return error_page(403)


def _enforce() -> Any:
    """The one before_request check: CSRF for cookie-borne writes, then the view's stated roles."""
    if _api_write_without_credentials():
        return unauthenticated()  # 401, not a CSRF 400: CSRF guards a session's authority, and there is none
    if current_app.config.get("WTF_CSRF_ENABLED", True) and bearer_token(request) is None:
        current_app.extensions["csrf"].protect(apply_exemptions=True)
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None  # a 404/405 is raised by the dispatcher; static files are public
    view = current_app.view_functions[endpoint]
    if is_public(view):
        return None
    allowed = declared_roles(view)
    if allowed is None:
        log.error("route %s states no roles: refused (deny by default)", endpoint)
        return forbidden()
    if not current_user.is_authenticated:
        return unauthenticated()
    if current_user.role not in allowed:
        return forbidden()
    return None


def _api_write_without_credentials() -> bool:
    """An /api/ write (POST, PUT, PATCH, DELETE) with neither a valid bearer token nor a signed-in session, to a view
    that is not public (or to no view): it is answered 401 before the CSRF check. A session user without a bearer
    token still meets CSRF, and browser forms are not API paths."""
    if not is_api_request() or request.method in ("GET", "HEAD", "OPTIONS") or current_user.is_authenticated:
        return False
    endpoint = request.endpoint
    return endpoint is None or not is_public(current_app.view_functions[endpoint])


def _csrf_error(exc: CSRFError) -> Any:
    if is_api_request():
        return jsonify(error="csrf", message="Falta el token CSRF o no es válido."), 400
    return error_page(400, template="400_csrf.html")


# --- Error pages and JSON errors -----------------------------------------------------------------------------------

# (error code for JSON, Spanish message) of the HTTP errors the app raises; a view's own Spanish description wins.
_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "La solicitud no es válida."),
    403: ("forbidden", "Su rol no tiene acceso a este recurso."),
    404: ("not_found", "No existe ningún recurso en esta dirección."),
    405: ("method_not_allowed", "Esta dirección no admite el método pedido."),
    413: ("payload_too_large", "El cuerpo de la solicitud es demasiado grande."),
    429: ("too_many_requests", "Demasiadas solicitudes; espere un momento."),
    500: ("internal_error", "Error interno del servidor."),
}
_PAGES = {400: "400.html", 403: "403.html", 404: "404.html", 405: "405.html", 413: "413.html", 500: "500.html"}
# Shown when even the error page cannot be rendered (the database is down and the user cannot be loaded).
_BARE_500 = """<!doctype html>
<html lang="es-CO"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Error interno · Buzón</title></head>
<body style="font-family: system-ui, sans-serif; margin: 2rem; max-width: 40rem">
<main id="contenido"><h1>Algo falló de nuestro lado</h1>
<p>Buzón no pudo completar lo que pidió. Intente de nuevo en unos minutos; si vuelve a pasar, avise al administrador
con la referencia <code>{reference}</code>.</p><p><a href="/">Volver al inicio</a></p></main></body></html>"""


def _own_description(exc: HTTPException) -> str | None:
    """The description a view gave (abort(404, description=...)), not werkzeug's English default."""
    description = exc.description
    return description if description and description != type(exc).description else None


def _back() -> str | None:
    """The page the visitor came from, when it is one of ours (for "Volver a la página anterior")."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(path) if path != request.full_path.rstrip("?") and path != request.path else None


def error_page(code: int, *, template: str | None = None, **context: Any) -> Any:
    """The Spanish error page for this status (lang es-CO, one h1, a way back)."""
    name = template or _PAGES.get(code, "400.html" if code < 500 else "500.html")
    context.setdefault("detail", None)
    return render_template(name, code=code, back=_back(), reference=None, **context), code


def json_error(code: int, message: str | None = None, **extra: Any) -> Any:
    """A JSON error under /api/: {"error", "message" (Spanish), and e.g. "field"}."""
    error, default = _ERRORS.get(code, ("error", "Error."))
    return jsonify(error=error, message=message or default, **extra), code


def _http_error(exc: HTTPException) -> Any:
    """HTTP errors: JSON under /api/ (an ERP client never parses an HTML page), a Spanish page elsewhere."""
    code = exc.code or 500
    if code < 400:
        return exc  # a routing redirect (e.g. a missing trailing slash)
    if code >= 500:
        return _server_error(exc)
    own = _own_description(exc)
    headers = {}
    if code == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    if is_api_request():
        extra: dict[str, Any] = {}
        message = own
        if code == 405:
            allowed = ", ".join(m for m in getattr(exc, "valid_methods", None) or () if m not in ("HEAD", "OPTIONS"))
            message = f"El método {request.method} no se admite aquí; use {allowed or 'otro'}."
        if code == 413:
            extra["field"] = "body"
            limit = request.max_content_length
            message = own or "El cuerpo de la solicitud es demasiado grande" + (
                f" (máximo {limit} bytes)." if limit else "."
            )
        body, status = json_error(code, message, **extra)
        return body, status, headers
    page, status = error_page(code, detail=own)
    return page, status, headers


def _server_error(exc: BaseException) -> Any:
    """Any unexpected failure: logged with a reference, answered with a 500 that never shows a traceback."""
    reference = secrets.token_hex(4)
    original = getattr(exc, "original_exception", None) or exc
    log.error("error %s on %s %s", reference, request.method, request.path, exc_info=original)
    session = getattr(g, "db", None)
    if session is not None:
        try:
            session.rollback()
        except Exception:  # the database may be gone; the answer must still go out
            log.warning("error %s: rollback failed too", reference, exc_info=True)
    if is_api_request():
        return json_error(500, f"Error interno del servidor (referencia {reference}).", reference=reference)
    try:
        return render_template("500.html", code=500, back=None, reference=reference, detail=None), 500
    except Exception:  # e.g. the user cannot be loaded: a page that needs nothing
        log.warning("error %s: the error page failed too", reference, exc_info=True)
        return _BARE_500.format(reference=reference), 500, {"Content-Type": "text/html; charset=utf-8"}


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the Secure flag also set whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_access(app: Flask) -> None:
    """Install sessions, flask-login, CSRF and the role check on the app (create_app calls this)."""
    app.config.setdefault("SESSION_COOKIE_SECURE", False)
    # Flask sets PERMANENT_SESSION_LIFETIME itself (31 days), so setdefault would never apply: assign it. Flask checks
    # the cookie's signed timestamp against it and re-signs the cookie on every request, so this is idle time.
    app.config["PERMANENT_SESSION_LIFETIME"] = session_lifetime(app.config["BUZON_SETTINGS"])
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # _enforce checks, exempting bearer-token requests only
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the (bounded) session
    app.session_interface = CookieSessions()

    manager = LoginManager()
    manager.anonymous_user = Anonymous
    manager.user_loader(_load_session_user)
    manager.request_loader(_load_token_user)
    manager.init_app(app)

    CSRFProtect(app)
    app.before_request(_enforce)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)
    app.after_request(_security_headers)

    @app.context_processor
    def _access_helpers() -> dict[str, Any]:
        return {"may_access": may_access, "settings": tenant.settings()}
