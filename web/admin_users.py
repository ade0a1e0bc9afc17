"""The users admin screen: list, add with a role, disable or enable, reset a password, change a role (admins only).

A new or reset password is either generated (shown once, on the answer to the POST, never stored in the session
cookie) or typed twice. The work itself is web/users.py; each change is an audit entry with the admin as actor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from store.models import Role, User
from web.access import ROLE_LABELS, roles
from web.admin import ADMIN, client_address, db, no_store
from web.assignment import display_name
from web.auth import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, USERNAME_RE, AccountError, find_user
from web.labels import local_time
from web.users import (
    PROFILE_FIELDS,
    LastAdminError,
    add_user,
    change_role,
    disable,
    enable,
    generate_password,
    reset_password,
    user_by_id,
    user_rows,
)

bp = Blueprint("admin_users", __name__)

STATE_LABELS = {"active": "Activo", "locked": "Bloqueado por intentos fallidos", "disabled": "Desactivado"}
ID_TYPES = {"13": "Cédula de ciudadanía", "22": "Cédula de extranjería", "41": "Pasaporte"}


class FormError(ValueError):
    """A form value that cannot be used; the message is Spanish and names the field."""


def _password_from(form: Any) -> tuple[str, bool]:
    """The password the form asks for and whether it was generated; FormError when the typed two differ or are short."""
    if form.get("modo") == "generar":
        return generate_password(), True
    first, second = form.get("password", ""), form.get("password2", "")
    if not first:
        raise FormError("Contraseña: escriba la nueva contraseña dos veces, o elija «Generar una contraseña».")
    if first != second:
        raise FormError("Contraseña: las dos contraseñas no coinciden. Escríbalas de nuevo.")
    if len(first) < MIN_PASSWORD_LENGTH:
        raise FormError(f"Contraseña: debe tener al menos {MIN_PASSWORD_LENGTH} caracteres.")
    if len(first) > MAX_PASSWORD_LENGTH:
        raise FormError(f"Contraseña: debe tener como máximo {MAX_PASSWORD_LENGTH} caracteres.")
    return first, False


def _role_from(form: Any) -> Role:
    try:
        return Role(form.get("role", ""))
    except ValueError:
        raise FormError("Rol: elija uno de la lista.") from None


def _username_from(form: Any) -> str:
    raw = form.get("username", "")
    name = raw.strip().lower()
    if not USERNAME_RE.match(name):
        raise FormError(
            f"Usuario «{raw.strip()[:80]}»: use de 2 a 80 letras minúsculas sin tildes, dígitos, «.», «-» o «_», "
            "empezando por una letra o un dígito (p. ej. ana.torres)."
        )
    if find_user(db(), name) is not None:
        raise FormError(f"Usuario «{name}»: ya existe. Elija otro nombre o restablezca la contraseña de ese usuario.")
    return name


def _profile_from(form: Any) -> dict[str, str]:
    profile = {k: form.get(k, "").strip() for k in PROFILE_FIELDS}
    limits = {"email": 320, "id_number": 20, "id_type": 2}
    for key, value in profile.items():
        if len(value) > limits.get(key, 120):
            raise FormError(f"{FIELD_LABELS[key]}: como máximo {limits.get(key, 120)} caracteres.")
        if any(ord(c) < 32 for c in value):
            raise FormError(f"{FIELD_LABELS[key]}: tiene caracteres de control; escríbalo de nuevo.")
    if profile["email"] and ("@" not in profile["email"] or " " in profile["email"]):
        raise FormError(f"Correo electrónico «{profile['email']}»: no parece una dirección de correo.")
    if profile["id_type"] and profile["id_type"] not in ID_TYPES:
        raise FormError("Tipo de documento: elija uno de la lista.")
    if profile["id_number"] and not (profile["id_number"].isascii() and profile["id_number"].isdigit()):
        raise FormError("Número de documento: solo dígitos, sin puntos ni espacios.")
    return profile


FIELD_LABELS = {
    "email": "Correo electrónico",
    "first_name": "Nombres",
    "family_name": "Apellidos",
    "id_type": "Tipo de documento",
    "id_number": "Número de documento",
    "job_title": "Cargo",
    "department": "Área",
}


def _page(*, error: str | None = None, form: Any = None, shown: dict[str, str] | None = None, status: int = 200) -> Any:
    now = datetime.now(UTC)
    rows = [
        {
            "user": row.user,
            "name": " ".join(p for p in (row.user.first_name, row.user.family_name) if p),
            "state": row.state,
            "state_label": STATE_LABELS[row.state],
            "role_label": ROLE_LABELS[Role(row.user.role)],
            "last_login": local_time(row.last_login) or "Nunca",
            "tokens": sum(1 for t in row.user.tokens if t.revoked_at is None),
            "is_me": row.user.id == current_user.id,
        }
        for row in user_rows(db(), now)
    ]
    response = render_template(
        "admin/users.html",
        rows=rows,
        roles=ROLE_LABELS,
        id_types=ID_TYPES,
        error=error,
        form=form or {},
        shown=shown,
        min_length=MIN_PASSWORD_LENGTH,
    )
    return no_store(make_response(response, status)) if shown else make_response(response, status)


def _user(user_id: int) -> User:
    try:
        return user_by_id(db(), user_id)
    except AccountError:
        abort(404, description=f"No existe el usuario n.º {user_id}.")


@bp.get("/admin/usuarios")
@roles(ADMIN)
def index() -> Any:
    """Every user with state, role and last login; the form to add one."""
    return _page()


@bp.post("/admin/usuarios")
@roles(ADMIN)
def add() -> Any:
    """Add a user; a generated password is shown once on the answer."""
    session = db()
    try:
        username = _username_from(request.form)
        role = _role_from(request.form)
        profile = _profile_from(request.form)
        password, generated = _password_from(request.form)
        user = add_user(
            session, username, role=role, password=password, actor=current_user.actor, source=client_address(),
            **profile,
        )  # fmt: skip
    except FormError as exc:
        return _page(error=str(exc), form=request.form, status=400)
    except AccountError as exc:  # the rules of web.auth that the form did not check first
        return _page(error=f"No se creó el usuario: {exc}", form=request.form, status=400)
    session.commit()
    message = f"Usuario {display_name(user)} creado con el rol {ROLE_LABELS[role]}."
    if generated:
        return _page(shown={"title": message, "username": user.username, "password": password})
    flash(message + " Ya puede iniciar sesión con la contraseña que usted escribió.", "ok")
    return redirect(url_for("admin_users.index"))


@bp.post("/admin/usuarios/<int:user_id>/desactivar")
@roles(ADMIN)
def deactivate(user_id: int) -> Any:
    """Disable a user (not oneself, not the last active admin): no sign-in, tokens refused, sessions ended."""
    session = db()
    user = _user(user_id)
    try:
        disable(session, user, actor=current_user.actor, actor_id=current_user.id, source=client_address())
    except LastAdminError as exc:
        flash(exc.spanish, "error")
        return redirect(url_for("admin_users.index"))
    session.commit()
    flash(
        f"Usuario {display_name(user)} desactivado: ya no puede iniciar sesión y sus tokens de API dejan de servir.",
        "ok",
    )
    return redirect(url_for("admin_users.index"))


@bp.post("/admin/usuarios/<int:user_id>/activar")
@roles(ADMIN)
def activate(user_id: int) -> Any:
    """Enable a disabled user."""
    session = db()
    user = _user(user_id)
    was_active = user.active
    enable(session, user, actor=current_user.actor, source=client_address())
    session.commit()
    flash(
        f"Usuario {display_name(user)} "
        f"{'ya estaba activo' if was_active else 'activado: puede iniciar sesión de nuevo'}.",
        "ok",
    )
    return redirect(url_for("admin_users.index"))


@bp.post("/admin/usuarios/<int:user_id>/rol")
@roles(ADMIN)
def role(user_id: int) -> Any:
    """Change a user's role (not the last active admin's to another)."""
    session = db()
    user = _user(user_id)
    try:
        new_role = _role_from(request.form)
        changed = change_role(session, user, new_role, actor=current_user.actor, source=client_address())
    except FormError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin_users.index"))
    except LastAdminError as exc:
        flash(exc.spanish, "error")
        return redirect(url_for("admin_users.index"))
    session.commit()
    if changed:
        flash(f"{display_name(user)} ahora tiene el rol {ROLE_LABELS[new_role]}.", "ok")
    else:
        flash(f"{display_name(user)} ya tenía el rol {ROLE_LABELS[new_role]}: nada cambió.", "warn")
    return redirect(url_for("admin_users.index"))


@bp.get("/admin/usuarios/<int:user_id>/contrasena")
@roles(ADMIN)
def password_form(user_id: int) -> Any:
    """The form to reset a user's password: generate one or type one twice."""
    return render_template("admin/password.html", user=(user := _user(user_id)), name=display_name(user),
                           min_length=MIN_PASSWORD_LENGTH, error=None, shown=None)  # fmt: skip


@bp.post("/admin/usuarios/<int:user_id>/contrasena")
@roles(ADMIN)
def password(user_id: int) -> Any:
    """Reset the password (lifts a login lock, ends the user's sessions); a generated one is shown once."""
    session = db()
    user = _user(user_id)
    name = display_name(user)
    try:
        new, generated = _password_from(request.form)
        reset_password(session, user, new, actor=current_user.actor, source=client_address())
    except (FormError, AccountError) as exc:
        body = render_template("admin/password.html", user=user, name=name, min_length=MIN_PASSWORD_LENGTH,
                               error=str(exc), shown=None)  # fmt: skip
        return make_response(body, 400)
    session.commit()
    if generated:
        body = render_template("admin/password.html", user=user, name=name, min_length=MIN_PASSWORD_LENGTH,
                               error=None, shown={"username": user.username, "password": new})  # fmt: skip
        return no_store(make_response(body, 200))
    flash(f"Contraseña de {name} cambiada; sus sesiones abiertas se cerraron.", "ok")
    return redirect(url_for("admin_users.index"))
