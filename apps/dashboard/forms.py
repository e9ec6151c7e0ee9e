"""Forms of the owner portal and the staff enrolment buttons.

They validate exactly like the API: the model fields' validators (bounds in physical units) and
``Model.clean()`` run through ``ModelForm``; the cross-field rules come from :mod:`apps.assets.validators`,
and what only the service can know (shares of a site ≤ 100 %, migration targets, editable status) is
checked by the service on save and mapped back onto the fields by the view. Forms never save themselves.
"""

from __future__ import annotations

from typing import Any

from django import forms

from apps.accounts.principal import Principal
from apps.assets import selectors
from apps.assets.fields import BATTERY_FIELDS, PV_ARRAY_FIELDS, SITE_FIELDS, WORKLOAD_CLASS_FIELDS
from apps.assets.models import Battery, PVArray, Site, WorkloadClass
from apps.assets.validators import workload_class_errors


class _RegistryForm(forms.ModelForm):
    """Validates in the API's order: first each field on its own (the model field's validators, i.e. its
    physical bounds, run on the form field), then — only if every field is valid — the cross-field rules
    (``Model.clean()``, constraints, :mod:`apps.assets.validators`). So a bad value is reported once, on its
    own field, as the API does.

    Like the API, a field whose model column has a default may be left empty and then gets that default (the
    form shows it pre-filled). Number inputs accept any decimal.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._defaults: dict[str, Any] = {}
        for name, field in self.fields.items():
            model_field = self._meta.model._meta.get_field(name)
            field.validators = [
                *field.validators,
                *(v for v in model_field.validators if v not in field.validators),
            ]
            if model_field.has_default() and not model_field.many_to_many:
                self._defaults[name] = model_field.get_default()
                field.required = False
            if isinstance(field, forms.FloatField):
                field.widget.attrs.setdefault("step", "any")
                field.widget.attrs.setdefault("inputmode", "decimal")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for name, default in self._defaults.items():
            if name in cleaned and cleaned[name] in (None, ""):
                cleaned[name] = default
        return cleaned

    def _post_clean(self) -> None:  # ModelForm's hook that builds the instance and runs Model.full_clean()
        if self.errors:  # a field is invalid: cross-field rules wait, as in the API
            return
        super()._post_clean()  # type: ignore[misc]


class SiteForm(_RegistryForm):
    """A site's registration. ``owner`` is the caller's organisation (set by the service, not the form)."""

    class Meta:
        model = Site
        fields = list(SITE_FIELDS)
        help_texts = {
            "timezone": "IANA name, e.g. America/Chicago.",
            "pue": "Power usage effectiveness = facility power / IT power (≥ 1).",
            "grid_import_limit_kw": "At the point of connection.",
        }

    def __init__(self, *args: Any, principal: Principal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.principal = principal
        self.fields["timezone"].widget.attrs |= {"placeholder": "America/Chicago", "autocomplete": "off"}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        clash = selectors.site_list(principal=self.principal).filter(
            owner=self.principal.organisation, name=name
        )
        if self.instance.pk is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(f"You already have a site named '{name}'.")
        return name


class _SiteChildForm(_RegistryForm):
    """A workload class, battery or PV array of ``site``; names are unique per site."""

    related_name: str = ""
    noun: str = ""

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        self.instance.site = site

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        clash = getattr(self.site, self.related_name).filter(name=name)
        if self.instance.pk is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(f"This site already has a {self.noun} named '{name}'.")
        return name


class WorkloadClassForm(_SiteChildForm):
    related_name = "workload_classes"
    noun = "workload class"

    class Meta:
        model = WorkloadClass
        fields = list(WORKLOAD_CLASS_FIELDS)
        widgets = {"migratable_to": forms.CheckboxSelectMultiple}
        help_texts = {
            "share_pct": "Shares of one site add up to at most 100 %.",
            "max_delay_h": "Empty: not deferrable (inference never is).",
            "migratable_to": "Your other sites this workload can move to (not for inference).",
            "min_power_fraction": "Lowest fraction of its power it can run at when curtailed (0–1).",
        }

    def __init__(self, *args: Any, site: Site, principal: Principal, **kwargs: Any) -> None:
        super().__init__(*args, site=site, **kwargs)
        targets = self.fields["migratable_to"]
        assert isinstance(targets, forms.ModelMultipleChoiceField)
        targets.queryset = (
            selectors.site_list(principal=principal).filter(owner=site.owner_id).exclude(pk=site.pk)
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            for field, reason in workload_class_errors(cleaned).items():
                self.add_error(field if field in self.fields else None, reason)
        return cleaned


class BatteryForm(_SiteChildForm):
    """Bounds and ``Battery.clean()`` (SoC min ≤ max ≤ capacity, reserve ≤ …) run in ``ModelForm``."""

    related_name = "batteries"
    noun = "battery"

    class Meta:
        model = Battery
        fields = list(BATTERY_FIELDS)
        help_texts = {
            "backup_reserve_kwh": "Energy that must always remain for UPS duty; never dispatched.",
            "charge_efficiency": "Fraction in (0, 1].",
            "discharge_efficiency": "Fraction in (0, 1].",
        }


class PVArrayForm(_SiteChildForm):
    """Bounds and ``PVArray.clean()`` (AC limit ≤ 1.5 × DC capacity) run in ``ModelForm``."""

    related_name = "pv_arrays"
    noun = "PV array"

    class Meta:
        model = PVArray
        fields = list(PV_ARRAY_FIELDS)
        help_texts = {"azimuth_deg": "Clockwise from north; 180 = south-facing."}


class TransitionForm(forms.Form):
    """Reason of an enrolment action (required by the service to reject or suspend)."""

    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


ASSET_FORMS: dict[str, type[_SiteChildForm]] = {
    "workloads": WorkloadClassForm,
    "batteries": BatteryForm,
    "pv-arrays": PVArrayForm,
}
