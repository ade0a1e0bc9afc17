"""Signing in to, and switching between, the install's companies (several NITs in one install; web/tenant.py).

Each company keeps its own users (its own database): a person who works for two companies has an account in each,
with a role in each. At sign-in the name and password are tried in every company; the browser may then switch to
each company where they are right and the account is active (``session["empresas"]``), and to no other: a company's
administrator who sets a password in their own company gains nothing in another. Two accounts of one name whose
e-mail or identification number differ are different people, and are never joined (``same_person``). With one
company nothing here runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user
from werkzeug.security import check_password_hash

from store import audit
from store.models import Role, User
from web import tenant
from web.access import Principal, home_endpoint, roles

bp = Blueprint("companies", __name__)

ACTION_SWITCHED = "auth.company_switched"
NOT_MEMBER = "Su usuario no tiene acceso a esa empresa (o su contraseña allí cambió): ingrese de nuevo."


def _use(company: tenant.Company) -> None:
    """Make ``company`` the request's, dropping a session opened on another company's database."""
    if g.get("company") is not company:
        old = g.pop("db", None)
        if old is not None:
            old.close()
        g.company = company


def sign_in_companies(name: str, password: str) -> dict[str, str]:
    """Before a sign-in is checked: the companies where this name and password are right and the account active,
    as {key: flask-login id}; the request's company becomes the first of them (else the first where the name
    exists), so that the sign-in's checks, throttling and audit happen there. Passwords are tried only when the name
    has accounts in several companies (else the sign-in alone checks it); empty then, and with one company."""
    found = tenant.companies()
    if len(found) == 1 or not name:
        return {}
    accounts = []
    for company in found.values():
        with company.sessions() as s:
            user = s.scalar(sa.select(User).where(User.username == name))
        if user is not None:
            accounts.append((company, user))
    if len(accounts) < 2:  # nothing to choose between: the sign-in checks the one password (after its throttle)
        if accounts:
            _use(accounts[0][0])
        return {}
    members: dict[str, str] = {}
    chosen = person = None
    for company, user in accounts:
        if not (user.active and user.password_hash and check_password_hash(user.password_hash, password)):
            continue
        if person is not None and not same_person(person, user):
            continue  # the same name and password, but another person's account
        person = person or user
        members[company.key] = Principal.of(user).get_id()
        chosen = chosen or company
    _use(chosen or accounts[0][0])
    return members


def same_person(one: User, other: User) -> bool:
    """Whether two companies' accounts of one name are one person: where both record an e-mail or an identification
    number, they agree (two people who happen to share a name and an initial password are not merged)."""
    for field in ("email", "id_number"):
        a, b = getattr(one, field), getattr(other, field)
        if a and b and a.strip().lower() != b.strip().lower():
            return False
    return True


def remember(members: dict[str, str], principal: Principal) -> None:
    """After a sign-in: the companies the browser may switch to, and the one it is in now."""
    if len(tenant.companies()) == 1:
        return
    session[tenant.MEMBER_KEY] = {**members, tenant.tenant().key: principal.get_id()}
    session[tenant.COMPANY_KEY] = tenant.tenant().key


def sign_out_elsewhere(end_sessions: Callable[[User], None]) -> None:
    """At sign-out: end the user's sessions in the install's other companies too (a copied cookie then reaches none);
    ``end_sessions`` is web.auth's."""
    current = tenant.tenant().key
    for key, ident in tenant.memberships().items():
        company = tenant.companies().get(key)
        number = ident.partition(".")[0]
        if key == current or company is None or not number.isdigit():
            continue
        with company.sessions() as s:
            user = s.get(User, int(number))
            if user is not None:
                end_sessions(user)
                s.commit()


@bp.post("/empresa")
@roles(*Role)
def switch() -> Any:
    """Switch the session to another of the user's companies; the page then is that company's home for the role."""
    key = request.form.get("empresa", "")
    members = tenant.memberships()
    company = tenant.companies().get(key)
    if company is None or key not in members:
        flash(NOT_MEMBER, "empresa-error")
        return redirect(url_for(home_endpoint(current_user.role)))
    ident, _, _ = members[key].partition(".")
    with company.sessions() as s:
        user = s.get(User, int(ident)) if ident.isdigit() else None
    principal = Principal.of(user) if user is not None and user.active else None
    if principal is None or principal.get_id() != members[key]:
        members.pop(key, None)
        session[tenant.MEMBER_KEY] = members
        flash(NOT_MEMBER, "empresa-error")
        return redirect(url_for(home_endpoint(current_user.role)))
    before = tenant.tenant()
    _use(company)
    login_user(principal)
    session[tenant.COMPANY_KEY] = key
    db = tenant.db()
    audit.record(db, actor=principal.actor, action=ACTION_SWITCHED, subject=f"user:{principal.username}",
                 source=request.remote_addr, data={"from": before.settings.company.nit})  # fmt: skip
    db.commit()
    flash(f"Ahora trabaja en {company.name} (NIT {company.settings.company.nit}) como {principal.role_label}.",
          "empresa")  # fmt: skip
    return redirect(url_for(home_endpoint(principal.role)))
