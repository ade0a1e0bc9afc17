"""Events 030-034: emitting and signing them (emit), the outbox that submits them to DIAN with retries and Regla 90
reconciliation (outbox), mail to the supplier and to clerks (notify), the counterpart's events (sync), and the
three-business-day clock with reminders (clock).
"""
