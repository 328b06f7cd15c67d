"""The service map (Sammenkartet): choose a place, see its map, download it as PDF or PNG."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from samhandling.core.models import Municipality, OrganisationUnit, UnitKind
from samhandling.directory.services.maps import (
    ServiceMap,
    map_for_municipality,
    map_for_partnership,
    map_municipality_choices,
    map_partnership_choices,
    map_render_pdf,
    map_render_png,
)

FILE_TYPES = {"pdf": "application/pdf", "png": "image/png"}


@require_safe
def map_index(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("kommune", "").strip()
    code = request.GET.get("helsefellesskap", "").strip()
    query = request.GET.get("q", "").strip()[:100]
    errors = {}
    if number:
        if Municipality.objects.filter(number=number).exists():
            return redirect("directory:map-municipality", number=number)
        errors["kommune"] = _("Choose a municipality from the list.")
    if code:
        if OrganisationUnit.objects.filter(code=code, kind=UnitKind.PARTNERSHIP).exists():
            return redirect("directory:map-partnership", code=code)
        errors["helsefellesskap"] = _("Choose a helsefellesskap from the list.")
    counties = map_municipality_choices(query=query)
    context = {
        "counties": counties,
        "partnerships": map_partnership_choices(),
        "query": query,
        "match_count": sum(len(c.municipalities) for c in counties),
        "errors": errors,
    }
    return render(request, "directory/map_index.html", context, status=400 if errors else 200)


@require_safe
def municipality_map(request: HttpRequest, number: str) -> HttpResponse:
    service_map = _municipality_map_or_404(number)
    files = {
        fmt: reverse("directory:map-municipality-file", kwargs={"number": number, "fmt": fmt})
        for fmt in FILE_TYPES
    }
    return _page(request, service_map, files)


@require_safe
def partnership_map(request: HttpRequest, code: str) -> HttpResponse:
    service_map = _partnership_map_or_404(code)
    files = {
        fmt: reverse("directory:map-partnership-file", kwargs={"code": code, "fmt": fmt})
        for fmt in FILE_TYPES
    }
    return _page(request, service_map, files)


@require_safe
def municipality_map_file(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    if fmt not in FILE_TYPES:
        raise Http404
    return _file(_municipality_map_or_404(number), fmt)


@require_safe
def partnership_map_file(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    if fmt not in FILE_TYPES:
        raise Http404
    return _file(_partnership_map_or_404(code), fmt)


def _municipality_map_or_404(number: str) -> ServiceMap:
    try:
        return map_for_municipality(number=number)
    except Municipality.DoesNotExist:
        raise Http404 from None


def _partnership_map_or_404(code: str) -> ServiceMap:
    try:
        return map_for_partnership(code=code)
    except OrganisationUnit.DoesNotExist:
        raise Http404 from None


def _page(request: HttpRequest, service_map: ServiceMap, files: dict[str, str]) -> HttpResponse:
    context = {"service_map": service_map, "pdf_url": files["pdf"], "png_url": files["png"]}
    response = render(request, "directory/map.html", context)
    _last_modified(response, service_map)
    return response


def _file(service_map: ServiceMap, fmt: str) -> HttpResponse:
    if fmt == "pdf":
        content = map_render_pdf(service_map=service_map)
    else:
        content = map_render_png(service_map=service_map)
    response = HttpResponse(content, content_type=FILE_TYPES[fmt])
    # The stem is a slug: ASCII letters, digits and hyphens only, safe in the header.
    response["Content-Disposition"] = f'attachment; filename="{service_map.filename_stem}.{fmt}"'
    _last_modified(response, service_map)
    patch_cache_control(response, max_age=300)
    return response


def _last_modified(response: HttpResponse, service_map: ServiceMap) -> None:
    if service_map.last_modified is not None:
        response["Last-Modified"] = http_date(service_map.last_modified.timestamp())
    # The map is in the visitor's language, chosen by cookie or Accept-Language.
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
