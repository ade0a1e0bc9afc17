"""Every quarantine reason has the sentence intake writes into its detail and the label the quarantine page shows:
a reason added without them would reach the clerk as its bare code ("unsupported")."""

from __future__ import annotations

import pytest

from inbox.intake.reasons import REASON_TEXT
from store.models import QuarantineReason
from web.labels import QUARANTINE_LABELS


@pytest.mark.parametrize("reason", list(QuarantineReason))
def test_each_reason_has_its_sentence_and_its_label(reason: QuarantineReason) -> None:
    assert REASON_TEXT[reason][:1].isupper(), REASON_TEXT[reason]
    label = QUARANTINE_LABELS[reason.value]
    assert label and label != reason.value
