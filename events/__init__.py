"""Events 030-034: emitting and signing them, the outbox that submits them to DIAN with retries and Regla 90
reconciliation, observing the counterpart's events, the three-business-day clock, and mail to the supplier. Code
arrives with the Events issue.
"""
