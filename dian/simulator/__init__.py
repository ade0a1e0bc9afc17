"""A local DIAN: the WcfDianCustomerServices web service with DIAN's validation and event rules (sandbox and tests).

In process: ``Simulator(data_dir).validate(xml)`` returns DIAN's signed ApplicationResponse for a valid invoice.
Over HTTP: ``SimulatorServer(simulator).start().url`` (or ``buzon dian-sim --port P --data DIR``).
Events 030-034: ``events.py``; RADIAN 035-051, GetStatusEvent and GetDocumentInfo: ``radian.py``; the parties it
plays for demos and tests (``simulator.counterparts``, admin ``POST /_sim/counterparts``): ``counterparts.py``.
"""

from dian.simulator.core import Simulator
from dian.simulator.faults import Fault, FaultPlan
from dian.simulator.replies import Reply, SimulatorRejected
from dian.simulator.server import SimulatorServer
from dian.simulator.wsgi import SERVICE_PATH, SimulatorApp

__all__ = [
    "SERVICE_PATH",
    "Fault",
    "FaultPlan",
    "Reply",
    "Simulator",
    "SimulatorApp",
    "SimulatorRejected",
    "SimulatorServer",
]
