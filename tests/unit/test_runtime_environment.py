"""The DIAN environment of the settings reaches intake's check of each document's environment: production and
habilitación check it, DIAN's simulator does not; events and issuing go to the same environment."""

from __future__ import annotations

import dataclasses

import pytest

from buzon.config import default_settings
from buzon.runtime import Runtime
from dian.codes import Environment


@pytest.mark.parametrize(
    ("configured", "checked", "sent_to"),
    [
        ("produccion", Environment.PRODUCTION, Environment.PRODUCTION),
        ("habilitacion", Environment.TESTING, Environment.TESTING),
        ("simulator", None, Environment.TESTING),
    ],
)
def test_the_settings_environment_is_the_one_intake_checks(tmp_path, configured, checked, sent_to) -> None:
    settings = default_settings(base=tmp_path)
    settings = dataclasses.replace(settings, dian=dataclasses.replace(settings.dian, environment=configured))
    runtime = Runtime.from_settings(settings)
    assert runtime.dian_environment() is sent_to
    assert runtime.intake_policy(sessions=object()).environment is checked
