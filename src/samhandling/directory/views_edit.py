"""Editing services, their version history, verification, and "My services"."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from samhandling.directory.forms import all_valid, edit_forms
from samhandling.directory.models import Service, ServiceVersion
from samhandling.directory.services import editing

VERSIONS_PER_PAGE = 20
SERVICES_PER_PAGE = 50
UNVERIFIED_SHOWN = 50


def _editable_service(request: HttpRequest, code: Any) -> Service:
    service = get_object_or_404(Service.objects.select_related("unit"), code=code)
    if not editing.service_may_edit(user=request.user, service=service):
        raise PermissionDenied
    return service


def _latest_number(service: Service) -> int:
    latest = service.versions.order_by("-number").values_list("number", flat=True).first()
    return latest or 0


def _attach_errors(form: Form, error: ValidationError) -> None:
    """Show an error from the services layer next to its field, or at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


def _render_form(
    request: HttpRequest, service: Service | None, forms: tuple, status: int = 200, **extra: Any
) -> HttpResponse:
    form, hours, exceptions = forms
    context = {
        "service": service,
        "form": form,
        "hours_formset": hours,
        "exceptions_formset": exceptions,
        "has_errors": bool(
            form.errors
            or hours.total_error_count()
            or exceptions.total_error_count()
            or extra.get("conflict")
        ),
        **extra,
    }
    return render(request, "directory/service_form.html", context, status=status)


@login_required
def service_create(request: HttpRequest) -> HttpResponse:
    if not editing.service_may_create(user=request.user):
        raise PermissionDenied
    if request.method != "POST":
        return _render_form(request, None, edit_forms(user=request.user, service=None))
    forms = edit_forms(user=request.user, service=None, data=request.POST)
    form, hours, exceptions = forms
    if all_valid(forms):
        try:
            service = editing.service_create(
                by=request.user,
                data=form.service_data(),
                hours=hours.rows(),
                exceptions=exceptions.rows(),
            )
        except ValidationError as error:
            _attach_errors(form, error)
        else:
            messages.success(request, _("The service was added as version 1."))
            return redirect("directory:service-versions", code=service.code)
    return _render_form(request, None, forms, status=400)


@login_required
def service_edit(request: HttpRequest, code: Any) -> HttpResponse:
    service = _editable_service(request, code)
    latest = _latest_number(service)
    if request.method != "POST":
        forms = edit_forms(user=request.user, service=service, base_version=latest)
        return _render_form(request, service, forms, latest=latest)
    forms = edit_forms(user=request.user, service=service, data=request.POST)
    form, hours, exceptions = forms
    if not all_valid(forms):
        return _render_form(request, service, forms, status=400, latest=latest)
    try:
        version = editing.service_update(
            service=service,
            by=request.user,
            data=form.service_data(),
            hours=hours.rows(),
            exceptions=exceptions.rows(),
            base_version=form.cleaned_data["base_version"],
            verify=form.cleaned_data.get("mark_verified", False),
        )
    except editing.EditConflict as conflict:
        return _render_form(
            request, service, forms, status=409, latest=latest, conflict=conflict.messages[0]
        )
    except ValidationError as error:
        _attach_errors(form, error)
        return _render_form(request, service, forms, status=400, latest=latest)
    if version is None:
        messages.info(request, _("Nothing was changed, so no new version was saved."))
        return redirect("directory:service-edit", code=service.code)
    messages.success(
        request, _("Your changes were saved as version %(number)d.") % {"number": version.number}
    )
    return redirect("directory:service-versions", code=service.code)


@require_POST
@login_required
def service_verify(request: HttpRequest, code: Any) -> HttpResponse:
    service = _editable_service(request, code)
    version = editing.service_verify(service=service, by=request.user)
    if version is None:
        messages.info(request, _("“%(name)s” was already verified today.") % {"name": service})
    else:
        messages.success(
            request, _("“%(name)s” is marked as still correct today.") % {"name": service}
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("directory:mine")
    return HttpResponseRedirect(target)


@login_required
def service_versions(request: HttpRequest, code: Any) -> HttpResponse:
    service = _editable_service(request, code)
    versions = service.versions.select_related("author").order_by("-number")
    page = Paginator(versions, VERSIONS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"version": v, "diff": editing.service_version_diff(version=v)} for v in page]
    return render(
        request,
        "directory/versions.html",
        {"service": service, "page": page, "rows": rows},
    )


@login_required
def service_version(request: HttpRequest, code: Any, number: int) -> HttpResponse:
    service = _editable_service(request, code)
    version = get_object_or_404(
        ServiceVersion.objects.select_related("author"), service=service, number=number
    )
    newer = service.versions.filter(number__gt=number).order_by("number").first()
    older = service.versions.filter(number__lt=number).order_by("-number").first()
    return render(
        request,
        "directory/version.html",
        {
            "service": service,
            "version": version,
            "diff": editing.service_version_diff(version=version),
            "changed_labels": [editing.field_label(n) for n in version.changes or {}],
            "fields": editing.service_version_fields(version=version),
            "newer": newer,
            "older": older,
        },
    )


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    editable = editing.services_editable_by(user=request.user).select_related("unit")
    unverified = editing.services_unverified(user=request.user)
    unverified_count = unverified.count()
    services = editable.order_by("-is_active", "name_nb", "pk")
    page = Paginator(services, SERVICES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "directory/mine.html",
        {
            "page": page,
            "unverified": list(unverified[:UNVERIFIED_SHOWN]),
            "unverified_count": unverified_count,
            "unverified_more": max(unverified_count - UNVERIFIED_SHOWN, 0),
            "cutoff": editing.verify_cutoff(),
            "verify_months": settings.SAMHANDLING_VERIFY_MONTHS,
            "may_create": editing.service_may_create(user=request.user),
        },
    )
