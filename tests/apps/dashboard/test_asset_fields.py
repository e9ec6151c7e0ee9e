"""The owner portal's forms and the REST API accept the same fields for every asset kind (one list per kind,
:mod:`apps.assets.fields`)."""

from __future__ import annotations

import pytest

from apps.assets.api.serializers import (
    BatterySerializer,
    PVArraySerializer,
    SiteSerializer,
    WorkloadClassSerializer,
)
from apps.dashboard.forms import BatteryForm, PVArrayForm, SiteForm, WorkloadClassForm


def _writable(serializer_class: type) -> list[str]:
    meta = serializer_class.Meta
    read_only = set(getattr(meta, "read_only_fields", ())) | {"id", "owner", "site"}
    return [name for name in meta.fields if name not in read_only]


@pytest.mark.parametrize(
    ("form", "serializer"),
    [
        (SiteForm, SiteSerializer),
        (WorkloadClassForm, WorkloadClassSerializer),
        (BatteryForm, BatterySerializer),
        (PVArrayForm, PVArraySerializer),
    ],
)
def test_form_and_api_take_the_same_fields(form: type, serializer: type) -> None:
    assert list(form._meta.fields) == _writable(serializer)
    assert len(form._meta.fields) >= 6
