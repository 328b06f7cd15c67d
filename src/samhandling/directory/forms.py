"""The service edit form and the formsets for weekly opening hours and exceptions."""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from samhandling.core.models import Municipality, OrganisationUnit
from samhandling.directory.models import Coverage, Need, Referrer, Service, Weekday
from samhandling.directory.services.editing import (
    EDIT_ANY,
    LONG_TEXT_FIELDS,
    M2M_FIELDS,
    SCALAR_FIELDS,
    TEXT_MAX_LENGTH,
    exceptions_problems,
    hours_problems,
    units_placeable_by,
)

# Up to this many municipalities are shown as checkboxes; more become a grouped list.
CHECKBOX_LIMIT = 60

TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _municipality_queryset(user: Any, service: Service | None) -> QuerySet[Municipality]:
    """Editors choose any municipality; others those in the counties their units serve."""
    everything = Municipality.objects.order_by("county_name", "name")
    if user.has_perm(EDIT_ANY):
        return everything
    units: list[OrganisationUnit] = list(user.units.all())
    if service is not None and service.unit_id:
        units.append(service.unit)
    related = {u.pk for unit in units for u in [unit, *unit.ancestors()]}
    current: list[str] = []
    if service is not None and service.pk:
        current = list(service.municipalities.values_list("number", flat=True))
    counties = set(
        Municipality.objects.filter(Q(units__in=related) | Q(number__in=current)).values_list(
            "county_number", flat=True
        )
    )
    if not counties:
        return everything
    return everything.filter(Q(county_number__in=counties) | Q(number__in=current))


def _grouped_by_county(queryset: QuerySet[Municipality]) -> list[tuple[str, list]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for m in queryset:
        groups.setdefault(m.county_name, []).append((m.number, f"{m.number} {m.name}"))
    return list(groups.items())


def _formfield(db_field: models.Field, **kwargs: Any) -> forms.Field | None:
    # An address typed without a scheme gets https, not http.
    if isinstance(db_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return db_field.formfield(**kwargs)


class ServiceForm(forms.ModelForm):
    """Every editable field of a service; the view passes the cleaned data to the services."""

    referrers = forms.MultipleChoiceField(
        label=_("Who may refer"),
        choices=Referrer.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)
    mark_verified = forms.BooleanField(
        label=_("I have checked the whole entry: it is correct today"),
        help_text=_("Marks the service as verified today."),
        required=False,
    )

    class Meta:
        model = Service
        fields = [*SCALAR_FIELDS, *M2M_FIELDS]
        formfield_callback = _formfield
        widgets = {
            "description_nb": forms.Textarea(attrs={"rows": 4}),
            "description_nn": forms.Textarea(attrs={"rows": 4}),
            "how_to_nb": forms.Textarea(attrs={"rows": 3}),
            "how_to_nn": forms.Textarea(attrs={"rows": 3}),
            "coverage": forms.RadioSelect,
            "level": forms.RadioSelect,
            "needs": forms.CheckboxSelectMultiple,
            "age_min": forms.NumberInput(attrs={"min": 0, "max": 120}),
            "age_max": forms.NumberInput(attrs={"min": 0, "max": 120}),
            "postal_code": forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]{4}"}),
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "sms_number": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        service = self.instance if self.instance.pk else None
        editing = service is not None
        self.fields["unit"].queryset = units_placeable_by(user=user).order_by("name")
        self.fields["unit"].empty_label = None if editing else _("Choose a unit")
        self.fields["level"].choices = [c for c in self.fields["level"].choices if c[0]]
        self.fields["needs"].queryset = Need.objects.all()
        municipalities = _municipality_queryset(user, service)
        field = self.fields["municipalities"]
        field.queryset = municipalities
        if municipalities.count() > CHECKBOX_LIMIT:
            field.widget = forms.SelectMultiple(attrs={"size": 12})
            field.choices = _grouped_by_county(municipalities)
            field.help_text = _(
                "Hold Ctrl (Cmd on a Mac) to choose several. "
                "Not used for national services, which cover the whole country."
            )
        else:
            field.widget = forms.CheckboxSelectMultiple()
            field.choices = [(m.number, f"{m.number} {m.name}") for m in municipalities]
        for name in LONG_TEXT_FIELDS:
            self.fields[name].max_length = TEXT_MAX_LENGTH
            self.fields[name].validators.append(MaxLengthValidator(TEXT_MAX_LENGTH))
            self.fields[name].widget.attrs["maxlength"] = TEXT_MAX_LENGTH
        self.fields["postal_code"].validators.append(
            RegexValidator(r"^\d{4}$", _("A postal code has four digits."))
        )
        if editing:
            self.fields["base_version"].required = True
        else:
            del self.fields["base_version"]
            del self.fields["mark_verified"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        age_min, age_max = data.get("age_min"), data.get("age_max")
        if age_min is not None and age_max is not None and age_min > age_max:
            self.add_error(
                "age_max",
                _("The oldest age must be the same as or higher than the youngest age."),
            )
        for age in ("age_min", "age_max"):
            if data.get(age) is not None and data[age] > 120:
                self.add_error(age, _("Give an age from 0 to 120."))
        if data.get("coverage") == Coverage.NATIONAL:
            data["municipalities"] = Municipality.objects.none()
        elif "municipalities" in data and not data["municipalities"]:
            self.add_error(
                "municipalities",
                _("Choose the municipalities the service covers, or make it national."),
            )
        if data.get("referral_required") and not data.get("referrers"):
            self.add_error("referrers", _("Say who may refer when a referral is required."))
        lat, lon = data.get("latitude"), data.get("longitude")
        if (lat is None) != (lon is None):
            self.add_error("longitude", _("Give both latitude and longitude, or neither."))
        if lat is not None and not -90 <= lat <= 90:
            self.add_error("latitude", _("Latitude is between -90 and 90."))
        if lon is not None and not -180 <= lon <= 180:
            self.add_error("longitude", _("Longitude is between -180 and 180."))
        return data

    def service_data(self) -> dict[str, Any]:
        """The cleaned values the services layer takes."""
        return {
            name: self.cleaned_data[name]
            for name in (*SCALAR_FIELDS, *M2M_FIELDS)
            if name in self.cleaned_data
        }

    def sections(self) -> list[dict[str, Any]]:
        """The fields grouped for display: legend, bound fields, layout class."""
        layout: list[tuple[Any, tuple[str, ...], str]] = [
            (
                _("Name and description"),
                (
                    "name_nb",
                    "name_nn",
                    "description_nb",
                    "description_nn",
                    "how_to_nb",
                    "how_to_nn",
                ),
                "pairs",
            ),
            (_("Provider and area"), ("unit", "coverage", "municipalities"), ""),
            (_("Who it is for"), ("level", "age_min", "age_max", "needs"), "ages"),
            (
                _("How to get in"),
                (
                    "offers_drop_in",
                    "offers_phone",
                    "offers_sms",
                    "offers_chat",
                    "offers_web_form",
                    "referral_required",
                    "referrers",
                ),
                "checks",
            ),
            (
                _("Address and contact"),
                (
                    "street_address",
                    "postal_code",
                    "city",
                    "latitude",
                    "longitude",
                    "phone",
                    "sms_number",
                    "email",
                    "website",
                    "chat_url",
                ),
                "grid",
            ),
        ]
        return [
            {"legend": legend, "fields": [self[n] for n in names if n in self.fields], "css": css}
            for legend, names, css in layout
        ]

    def hours_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("always_open", "open_on_holidays")]

    def status_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("is_active", "mark_verified") if n in self.fields]


class OpeningHoursForm(forms.Form):
    weekday = forms.TypedChoiceField(
        label=_("Weekday"),
        choices=[("", _("Choose a day")), *Weekday.choices],
        coerce=int,
    )
    opens = forms.TimeField(label=_("Opens"), widget=TIME_WIDGET)
    closes = forms.TimeField(label=_("Closes"), widget=TIME_WIDGET)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        opens, closes = data.get("opens"), data.get("closes")
        if opens and closes and opens >= closes:
            self.add_error("closes", _("The closing time must be after the opening time."))
        return data


class OpeningExceptionForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    closed = forms.BooleanField(
        label=_("Closed all day"),
        required=False,
        widget=forms.CheckboxInput(attrs={"data-closed-toggle": ""}),
    )
    opens = forms.TimeField(label=_("Opens"), widget=TIME_WIDGET, required=False)
    closes = forms.TimeField(label=_("Closes"), widget=TIME_WIDGET, required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        closed, opens, closes = data.get("closed"), data.get("opens"), data.get("closes")
        if closed and (opens or closes):
            raise forms.ValidationError(
                _("Either tick “closed all day” or give opening times, not both.")
            )
        if not closed and "opens" not in self.errors and "closes" not in self.errors:
            if not (opens and closes):
                raise forms.ValidationError(
                    _("Give both an opening and a closing time, or tick “closed all day”.")
                )
            if opens >= closes:
                self.add_error("closes", _("The closing time must be after the opening time."))
        return data


class IntervalFormSet(forms.BaseFormSet):
    """A formset whose filled-in, not removed rows become the service's list of intervals."""

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "label_suffix": ""}

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields["DELETE"].label = _("Remove")

    def rows(self) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]

    def problems(self, rows: list[dict[str, Any]]) -> list[str]:
        raise NotImplementedError

    def clean(self) -> None:
        if any(self.errors):
            return
        problems = self.problems(self.rows())
        if problems:
            raise forms.ValidationError(problems)


class HoursFormSet(IntervalFormSet):
    def problems(self, rows: list[dict[str, Any]]) -> list[str]:
        return hours_problems(hours=rows)


class ExceptionsFormSet(IntervalFormSet):
    def problems(self, rows: list[dict[str, Any]]) -> list[str]:
        return exceptions_problems(exceptions=rows)


OpeningHoursFormSet = forms.formset_factory(
    OpeningHoursForm,
    formset=HoursFormSet,
    extra=1,
    can_delete=True,
    max_num=50,
    absolute_max=60,
    validate_max=True,
)
OpeningExceptionFormSet = forms.formset_factory(
    OpeningExceptionForm,
    formset=ExceptionsFormSet,
    extra=1,
    can_delete=True,
    max_num=200,
    absolute_max=220,
    validate_max=True,
)


def hours_initial(service: Service | None) -> list[dict[str, Any]]:
    if service is None:
        return [{"weekday": day, "opens": "08:00", "closes": "16:00"} for day in range(5)]
    return [
        {"weekday": h.weekday, "opens": h.opens, "closes": h.closes} for h in service.hours.all()
    ]


def exceptions_initial(service: Service | None) -> list[dict[str, Any]]:
    if service is None:
        return []
    return [
        {"date": e.date, "closed": e.closed, "opens": e.opens, "closes": e.closes, "note": e.note}
        for e in service.exceptions.all()
    ]


def edit_forms(
    *, user: Any, service: Service | None, data: Any = None, base_version: int = 0
) -> tuple[ServiceForm, IntervalFormSet, IntervalFormSet]:
    """The service form and its two formsets, bound to `data` when given."""
    # The form gets its own copy: ModelForm validation writes into the instance it holds.
    instance = Service.objects.get(pk=service.pk) if service is not None else Service()
    initial = {"base_version": base_version} if service is not None else {}
    form = ServiceForm(data, instance=instance, initial=initial, user=user)
    hours = OpeningHoursFormSet(data, prefix="hours", initial=hours_initial(service))
    exceptions = OpeningExceptionFormSet(
        data, prefix="exceptions", initial=exceptions_initial(service)
    )
    return form, hours, exceptions


def all_valid(forms_: Iterable[Any]) -> bool:
    """Validate every form, so each shows its errors at once."""
    return all([f.is_valid() for f in forms_])  # noqa: C419 — a generator would stop early
