"""Demo sign-ins for `make run`: one user per role, all with the documented demo password (demo mode only).

README.md and the login page (web/templates/login.html) name these accounts; keep the three in step.
The models are imported where they are used (start-up time: nothing of store for a command that never seeds).
"""

from __future__ import annotations

from dataclasses import dataclass

from buzon.config import Settings
from buzon.runtime import Runtime

DEMO_PASSWORD = "buzon-demo"  # noqa: S105 - documented, and only ever set in demo mode


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    first_name: str
    family_name: str
    job_title: str
    id_number: str


DEMO_USERS = (
    DemoUser("auxiliar", "clerk", "Ana María", "Rodríguez Pérez", "Auxiliar de cuentas por pagar", "52123456"),
    DemoUser("tesoreria", "treasury", "Carlos Andrés", "Gómez Ruiz", "Tesorero", "79234567"),
    DemoUser("admin", "admin", "Laura", "Martínez Soto", "Administradora del sistema", "43345678"),
    DemoUser("auditor", "auditor", "Jorge", "Vargas Niño", "Revisor fiscal", "80456789"),
    DemoUser("facturacion", "billing", "Diana Marcela", "Ospina Cárdenas", "Analista de facturación", "1020345678"),
)


def seed_users(settings: Settings) -> str | None:
    """For `buzon init` in demo mode: add the demo users that are missing (never touches existing ones)."""
    from store.models import Role
    from web.auth import create_user, find_user

    if not settings.demo:
        return None
    runtime = Runtime.from_settings(settings)
    added: list[str] = []
    try:
        with runtime.sessions() as session:
            for demo in DEMO_USERS:
                if find_user(session, demo.username) is not None:
                    continue
                create_user(
                    session,
                    demo.username,
                    role=Role(demo.role),
                    password=DEMO_PASSWORD,
                    actor="system:demo",
                    email=f"{demo.username}@empresa-demo.test",
                    first_name=demo.first_name,
                    family_name=demo.family_name,
                    job_title=demo.job_title,
                    id_type="13",  # cédula de ciudadanía
                    id_number=demo.id_number,
                )
                added.append(demo.username)
            session.commit()
    finally:
        runtime.close()
    if not added:
        return None
    return f"demo: usuarios {', '.join(added)} (contraseña {DEMO_PASSWORD})"
