"""The audit log in words (es-CO): what each action code means, who each actor is, and each data field's label.

Every action code written in the codebase has a phrase here (tests/web/test_audit_log.py scans the code for them);
a code nobody taught this module still reads as a sentence ("realizó la acción «x.y» sobre un documento").
Phrases are verb phrases that follow the actor: "Ana Torres (auxiliar)" + "envió el evento 032 — Recibo del bien".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from dian.codes import DocumentState, DocumentType, EventCode
from web.document_labels import EVENT_SHORT
from web.labels import QUARANTINE_LABELS, ROLE_NOUNS, STATE_LABELS, VERDICT_LABELS, local_time

ACTIONS: dict[str, str] = {
    # Signing in and out (web/auth.py)
    "auth.login": "inició sesión",
    "auth.login.failed": "intentó iniciar sesión con una contraseña incorrecta o un usuario inexistente",
    "auth.login.locked": "bloqueó la cuenta 15 minutos por intentos fallidos",
    "auth.login.throttled": "rechazó un intento de inicio de sesión: demasiados intentos fallidos",
    "auth.login.refused": "intentó iniciar sesión con una cuenta desactivada",
    "auth.logout": "cerró sesión",
    "auth.company_switched": "pasó a trabajar en esta empresa",
    # Users and tokens (web/auth.py, web/users.py)
    "user.created": "creó el usuario",
    "user.password_changed": "cambió la contraseña del usuario",
    "user.enabled": "activó el usuario",
    "user.disabled": "desactivó el usuario",
    "user.role_changed": "cambió el rol del usuario",
    "api_token.created": "creó un token de API",
    "api_token.revoked": "revocó un token de API",
    # Mail (inbox/intake.py, web/quarantine.py, events/notify.py)
    "mail.quarantined": "puso en cuarentena un correo",
    "mail.duplicate": "descartó un correo repetido (sus documentos ya estaban archivados)",
    "mail.reprocess": "reprocesó un correo de la cuarentena",
    "mail.dismissed": "descartó un correo de la cuarentena",
    "mail.event_notice.sent": "envió por correo al proveedor el aviso de un evento",
    "mail.event_notice.send_failed": "no pudo enviar por correo al proveedor el aviso de un evento (se reintentará)",
    "mail.reminder.sent": "envió por correo un recordatorio de plazo",
    "mail.reminder.send_failed": "no pudo enviar por correo un recordatorio de plazo (se reintentará)",
    "mail.title_alert.sent": "envió por correo un aviso de título valor (cambio de tenedor o pago congelado)",
    "mail.title_alert.send_failed": "no pudo enviar por correo un aviso de título valor (se reintentará)",
    # The endorsement watch (radian/watch/, radian/alerts.py)
    "title.alert.raised": "avisó a tesorería y cuentas por pagar de un cambio en un título valor por pagar",
    "title.watch.refused": "no aceptó lo que la DIAN dijo de un título valor por pagar (respuesta sin verificar)",
    "title.alert.seen": "marcó como vistos avisos de títulos valor",  # web/alerts.py
    # Our own invoices and notes (issuing/service.py, issuing/outbox.py, issuing/ranges.py)
    "outbound.issued": "expidió y firmó un documento propio (factura o nota) con su número",
    "outbound.accepted": "registró que la DIAN validó un documento propio",
    "outbound.rejected": "registró que la DIAN rechazó un documento propio, con sus reglas",
    "outbound.send_failed": "no obtuvo respuesta de la DIAN para un documento propio (queda en cola y se reintentará)",
    "outbound.delivery_queued": "preparó el correo al comprador con el documento validado (zip con XML y PDF)",
    "outbound.delivery_waiting": "no pudo consultar a la DIAN la dirección del comprador (se reintentará)",
    "outbound.delivery_no_address": "no encontró la dirección de recepción del comprador: el documento no se envió",
    "outbound.delivery_too_large": "no envió el documento al comprador: el zip supera 2 MB por correo",
    "outbound.delivery_resent": "reenvió al comprador un documento validado",
    "outbound.delivered": "registró que el correo al comprador salió (servidor SMTP lo aceptó)",
    "mail.issued.sent": "envió por correo al comprador un documento validado por la DIAN",
    "mail.issued.send_failed": "no pudo enviar por correo al comprador un documento validado (se reintentará)",
    "numbering.synced": "leyó de la DIAN los rangos de numeración autorizados",
    "numbering.next_set": "movió hacia adelante el siguiente número de un rango de numeración",
    "numbering.kind_set": "indicó qué documentos numera un rango de la DIAN (facturas o contingencia tipo 03)",
    # Documento soporte (issuing/support_service.py, issuing/support_week.py)
    "outbound.support_issued": "expidió y firmó un documento soporte (05) o su nota de ajuste (95) con su número",
    "support.purchase_registered": "registró una compra a un no obligado a facturar para el documento soporte semanal",
    "support.week_gathered": "reunió las compras de la semana de un vendedor en un documento soporte acumulado",
    "support.seller_mail_queued": "preparó el correo al vendedor con el documento soporte validado por la DIAN",
    # Habilitación, contingency and our 034 (issuing/habilitacion.py, issuing/contingency.py, issuing/tacit.py)
    "outbound.deferred": "registró que la DIAN aún no tenía la factura de una nota del set de pruebas (se reenvía)",
    "contingency.started": "inició una contingencia de la DIAN (las facturas se expiden como tipo 04)",
    "contingency.ended": "terminó la contingencia de la DIAN",
    "contingency.deadline_alert": "avisó a facturación y a los administradores que vence el plazo de transmitir un "
    "documento de contingencia",
    "tacit.proposed": "propuso a facturación la aceptación tácita (034) de una factura propia",
    # Documents (inbox/intake.py, inbox/confirm.py, events/clock.py, events/sync.py)
    "document.filed": "archivó el documento",
    "document.quarantined": "puso en cuarentena un documento del correo",
    "document.dian.confirmed": "confirmó con la DIAN la validación del documento",
    "document.dian.refused": "encontró que la DIAN no confirma el documento",
    "document.dian_answer.kept": "guardó la respuesta de la DIAN de un documento que aún no ha llegado",
    "document.event.observed": "recibió un evento de la contraparte sobre el documento",
    "document.event.refused": "rechazó un evento de quien no podía enviarlo",
    "document.window.closed": "cerró el plazo de reclamo (aceptación tácita a la espera del 034)",
    "document.reminder.queued": "preparó un recordatorio de plazo para el responsable",
    "document.sync.refused": "rechazó una respuesta de la DIAN a la consulta de eventos (no era auténtica)",
    "document.assigned": "asignó el documento a un responsable",
    "document.unassigned": "quitó el responsable del documento",
    "document.comment.added": "comentó el documento",
    "document.dian.status_checked": "consultó en la DIAN el estado del documento",
    "document.dian.status_failed": "no pudo consultar en la DIAN el estado del documento",
    "documents.uploaded": "subió documentos desde el navegador",
    # Suppliers (web/suppliers.py)
    "supplier.reception_email.changed": "cambió la dirección de recepción del proveedor",
    "supplier.automation.changed": "cambió los automáticos del proveedor",
    "supplier.dian_lookup": "consultó en la DIAN la dirección de recepción del proveedor",
    # DIAN (store/dian_certificates.py, web/admin_dian.py)
    "dian.certificate.learned": "aprendió un certificado de firma de la DIAN",
    "dian.connection_tested": "probó la conexión con la DIAN",
    # Admin (web/jobs.py, web/admin_webhooks.py)
    "job.run_now": "ejecutó a mano una tarea programada",
    "webhook.retry_requested": "pidió reintentar un envío de webhook",
    # The archive (store/archive/: buzon archive, web/archive.py)
    "archive.exported": "exportó el paquete de auditoría firmado de un periodo",
    "archive.hold.added": "puso una retención legal sobre documentos del archivo",
    "archive.hold.released": "levantó una retención legal del archivo",
    # Four-eyes (events/approvals.py)
    "approval.requested": "pidió un evento que requiere la aprobación de una segunda persona (queda pendiente)",
    "approval.approved": "aprobó un evento pedido por otra persona",
    "approval.sent": "firmó y puso en cola para la DIAN un evento aprobado",
    "approval.refused": "rechazó, con su motivo, un evento pedido por otra persona",
    "approval.expired": "dio por vencida una aprobación pendiente: el plazo legal terminó sin decisión",
    "approval.lapsed": "dio por vencida una aprobación pendiente sobre un título: las reglas ya no permiten la acción",
    "approval.alerted": "avisó a quienes aprueban que una aprobación pendiente está por perder el plazo legal",
    # Backup and restore (store/backup.py, store/restore.py: buzon backup, buzon restore)
    "backup.created": "sacó una copia de seguridad completa (base de datos y archivos)",
    "backup.restored": "restauró esta instalación desde una copia de seguridad (filas comparadas con la copia)",
}

# event.<code>.<what>: the outbox, the notices (events/emit.py, outbox.py, notify.py)
EVENT_ACTIONS = {
    "signed": "firmó y envió a la DIAN el evento {event}",
    "registered": "obtuvo el registro en la DIAN del evento {event}",
    "rejected": "recibió el rechazo de la DIAN al evento {event}",
    "send_failed": "no pudo enviar a la DIAN el evento {event} (se reintentará)",
    "unresolved": "se quedó sin respuesta definitiva de la DIAN para el evento {event}",
    "notice_queued": "preparó el aviso al proveedor del evento {event}",
    "notice_skipped": "no avisó al proveedor del evento {event}",
    "retry_requested": "pidió reintentar ahora el envío a la DIAN del evento {event}",
}

# What a code's first word is about, for the fallback sentence.
TOPICS = {
    "auth": "el inicio de sesión",
    "user": "un usuario",
    "api_token": "un token de API",
    "mail": "un correo",
    "document": "un documento",
    "documents": "documentos",
    "event": "un evento",
    "dian": "la DIAN",
    "job": "una tarea",
    "webhook": "un webhook",
    "supplier": "un proveedor",
    "title": "un título valor",
    "archive": "el archivo",
    "approval": "una aprobación",
    "backup": "una copia de seguridad",
}

# The filter's "Tipo de acción": label and the code prefixes it covers (whole words: "event" finds event.030.signed).
ACTION_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "eventos": ("Eventos ante la DIAN", ("event",)),
    "documentos": ("Documentos recibidos", ("document",)),
    "correo": ("Correo y cuarentena", ("mail",)),
    "sesiones": ("Inicios de sesión", ("auth",)),
    "usuarios": ("Usuarios y tokens", ("user", "api_token")),
    "administracion": ("Administración (tareas, webhooks, DIAN)", ("job", "webhook", "dian")),
    "titulos": ("Títulos valor (RADIAN)", ("title",)),
    "archivo": ("Archivo y retención", ("archive",)),
    "aprobaciones": ("Aprobaciones (cuatro ojos)", ("approval",)),
    "copias": ("Copias de seguridad", ("backup",)),
}

_EVENT_CODE = re.compile(r"^event\.(\d{3})\.([a-z_]+)$")


def event_name(code: str) -> str:
    """030 — Acuse de recibo (the short names of the document page; DIAN's long ones for the rest)."""
    if code in EVENT_SHORT:
        return f"{code} — {EVENT_SHORT[code]}"
    try:
        return f"{code} — {EventCode(code).label}"
    except ValueError:
        return code


def is_known(action: str) -> bool:
    """Whether the action has a phrase of its own (not the fallback)."""
    if action in ACTIONS:
        return True
    match = _EVENT_CODE.match(action)
    return bool(match and match.group(2) in EVENT_ACTIONS)


def describe_action(action: str) -> str:
    """The action as a verb phrase that follows the actor's name."""
    if action in ACTIONS:
        return ACTIONS[action]
    match = _EVENT_CODE.match(action)
    if match:
        code, what = match.groups()
        template = EVENT_ACTIONS.get(what)
        if template:
            return template.format(event=event_name(code))
        return f"hizo «{what.replace('_', ' ')}» con el evento {event_name(code)}"
    topic = TOPICS.get(action.split(".", 1)[0])
    return f"realizó la acción «{action}»" + (f" sobre {topic}" if topic else "")


# --- Actors -----------------------------------------------------------------------------------------------------

JOB_NAMES = {
    "poll_mailbox": "lectura del buzón",
    "auto_acknowledge": "acuse de recibo automático",
    "auto_receipt": "recibo de servicios automático",
    "deliver_outbox": "envío de eventos y correos",
    "sync_events": "consulta de eventos en la DIAN",
    "deadlines": "plazos y recordatorios",
    "deliver_webhooks": "webhooks",
    "confirm_documents": "confirmación con la DIAN",
    "title_watch": "vigilancia de endosos (RADIAN)",
    "approvals": "aprobaciones pendientes (avisos y vencimientos)",
}
SYSTEM_ACTORS = {
    "system:intake": "Buzón (lectura del correo)",
    "system:import": "Buzón (importación de correos)",
    "system:web": "Buzón (web)",
    "system:demo": "Buzón (datos de demostración)",
    "system:scheduler": "Buzón (programador de tareas)",
    "system:backup": "Buzón (copia de seguridad)",
    "system:restore": "Buzón (restauración)",
    "demo": "Buzón (datos de demostración)",
    "anonymous": "Alguien sin sesión",
    "dian:GetStatusEvent": "La DIAN (consulta de eventos)",
}


def describe_actor(actor: str, people: Mapping[str, tuple[str, str]]) -> str:
    """The actor in words; ``people`` maps a user name to (display name, role code)."""
    kind, _, name = actor.partition(":")
    if kind == "user" and name:
        found = people.get(name)
        if found is None:
            return f"{name} (usuario que ya no existe)"
        display, role = found
        return f"{display} ({ROLE_NOUNS.get(role, role)})"
    if actor in SYSTEM_ACTORS:
        return SYSTEM_ACTORS[actor]
    if kind == "job" and name:
        return f"Tarea automática ({JOB_NAMES.get(name, name)})"
    if kind == "cli" and name:
        return f"{name} (línea de comandos del servidor)"
    if kind == "system" and name:
        return f"Buzón ({name})"
    if kind == "test" and name:
        return f"Prueba ({name})"
    return actor


# --- Data -------------------------------------------------------------------------------------------------------

FIELDS = {
    # Four-eyes (events/approvals.py)
    "approval_id": "Solicitud de aprobación",
    "requested_by": "Pedido por",
    "counterparty_nit": "NIT de la contraparte",
    "amount": "Valor",
    "action": "Acción pedida",
    # The archive (store/archive/)
    "period_from": "Desde",
    "period_to": "Hasta",
    "missing": "Archivos faltantes",
    "sums_sha256": "SHA-256 de SHA256SUMS",
    "audit_chain": "Cadena de auditoría",
    # Backup and restore (store/backup.py)
    "file": "Archivo",
    "revision": "Versión del esquema",
    "tables": "Tablas",
    "rows": "Filas",
    "blobs": "Archivos guardados",
    "audit_chain_position": "Cadena de auditoría: posición sellada",
    "audit_chain_hash": "Cadena de auditoría: hash de esa posición",
    "scope": "Alcance",
    "what": "Qué cubre",
    "held_by": "Puesta por",
    "release_reason": "Motivo del levantamiento",
    "number": "Número",
    "type": "Tipo",
    "issuer_nit": "NIT del emisor",
    "verdict": "Verificación",
    "state": "Estado",
    "previous_state": "Estado anterior",
    "role": "Rol",
    "old_role": "Rol anterior",
    "new_role": "Rol nuevo",
    "from": "Antes",
    "to": "Para",
    "user": "Usuario",
    "name": "Nombre",
    "prefix": "Prefijo",
    "email": "Correo",
    "first_name": "Nombres",
    "family_name": "Apellidos",
    "id_type": "Tipo de documento",
    "id_number": "Número de documento",
    "job_title": "Cargo",
    "department": "Área",
    "reason": "Motivo",
    "detail": "Detalle",
    "note": "Nota",
    "error": "Error",
    "errors": "Errores",
    "messages": "Mensajes de la DIAN",
    "status_code": "Código de estado DIAN",
    "attempts": "Intentos",
    "next_attempt_at": "Próximo intento",
    "event_id": "Evento n.º",
    "cude": "CUDE",
    "code": "Evento",
    "registered": "Registrado en la DIAN",
    "mail_id": "Correo saliente n.º",
    "mail_message_id": "Correo recibido n.º",
    "part": "Parte del correo",
    "subject": "Asunto",
    "earlier": "Igual al correo n.º",
    "cufes": "CUFE",
    "until": "Hasta",
    "window_ended_at": "El plazo terminó",
    "address_from": "Dirección tomada de",
    "via": "Por medio de",
    "basis": "Base de la prueba",
    "learned": "Certificado aprendido",
    "learned_from": "Aprendido del documento (CUFE)",
    "endpoint": "Servicio",
    "environment": "Ambiente",
    "not_after": "Vence",
    "before": "Antes",
    "referenced_cufe": "Documento referenciado (CUFE)",
    "outcome": "Resultado",
    "seconds": "Duración (s)",
    "job_id": "Tarea",
    "summary": "Resumen",
    "run_ids": "Ejecuciones n.º",
    "document_id": "Documento n.º",
    "mode": "Modo",
    "filed": "Archivados",
    "quarantined": "En cuarentena",
    "delivered": "Entregados",
    "retrying": "Por reintentar",
    "failed": "Fallidos",
    "skipped": "Omitidos",
    "sent": "Enviados",
    "rejected": "Rechazados",
    "closed": "Cerrados",
    "events": "Eventos",
    "mail": "Correos",
    "mail_errors": "Errores de correo",
    "online": "Consulta en línea",
    "refusals": "Rechazos",
    "after": "Después",
    "found": "Encontrada",
    "files": "Archivos",
    "size": "Tamaño (bytes)",
    "failure": "Fallo",
    "comment_id": "Comentario n.º",
    "length": "Largo (caracteres)",
    "description": "Descripción",
    "message": "Mensaje",
    "meaning": "Qué significa",
    "auto_acknowledge": "Acuse de recibo (030) automático",
    "auto_receipt": "Recibo del bien (032) automático",
    "answer_blob": "Respuesta guardada",
    "reminded": "Recordatorios",
    "without_address": "Sin dirección",
    "duplicates": "Repetidos",
    "confirmed": "Confirmados",
    "documents": "Documentos",
    "emitted": "Emitidos",
    "observed": "Observados",
    "refused": "Rechazados",
    "waiting": "En espera",
    "unresolved": "Sin respuesta definitiva",
    "checked": "Revisados",
}
REASONS = {**QUARANTINE_LABELS, "address": "demasiados intentos desde esta dirección", "locked": "cuenta bloqueada",
           "unknown_user": "usuario inexistente con demasiados intentos", "inactive": "cuenta desactivada"}  # fmt: skip
OUTCOMES = {"ok": "Correcta", "failed": "Falló", "running": "En curso", "connected": "Conectado"}
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
MAX_TEXT = 400


def field_label(key: str) -> str:
    """A data key as a label: known ones in Spanish, others with their underscores as spaces."""
    return FIELDS.get(key, key.replace("_", " ").capitalize())


def field_value(key: str, value: Any) -> str:
    """A data value as text a person reads: Sí/No, Bogotá times, Spanish labels of codes, lists joined."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if isinstance(value, Mapping):
        return "; ".join(f"{field_label(str(k))}: {field_value(str(k), v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(field_value(key, v) for v in value)
    if isinstance(value, datetime):
        return local_time(value)
    if isinstance(value, Decimal | float):
        return f"{value:g}".replace(".", ",")
    text = str(value)
    if key in ("role", "old_role", "new_role") and text in ROLE_NOUNS:
        return ROLE_NOUNS[text]
    if key in ("state", "previous_state"):
        try:
            return STATE_LABELS[DocumentState(text)]
        except (ValueError, KeyError):
            return text
    if key == "type":
        try:
            return DocumentType(text).label
        except ValueError:
            return text
    if key == "verdict":
        return VERDICT_LABELS.get(text, text)
    if key == "reason":
        return REASONS.get(text, text)
    if key == "outcome":
        return OUTCOMES.get(text, text)
    if key == "code":
        return event_name(text)
    if key == "job_id":
        return JOB_NAMES.get(text, text)
    if _ISO_MOMENT.match(text):
        try:
            return local_time(datetime.fromisoformat(text))
        except ValueError:
            return text
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


# Keys shown by the subject column already (or internal), left out of the data cell.
HIDDEN = frozenset({"document_id"})


_ORDER = {key: n for n, key in enumerate(FIELDS)}


def readable_fields(data: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The entry's data as (label, text) pairs, without empty ones nor those the subject already says; in FIELDS'
    order, then the unknown keys alphabetically (PostgreSQL's JSONB does not keep the order they were written in)."""
    if not data:
        return []
    keys = sorted(
        (k for k in data if k not in HIDDEN and data[k] not in (None, "", [], {})),
        key=lambda k: (_ORDER.get(k, len(_ORDER)), k),
    )
    return [(field_label(k), field_value(k, data[k])) for k in keys]
