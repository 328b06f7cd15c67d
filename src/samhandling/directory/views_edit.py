"""Stub: replaced by the real views."""

from django.http import HttpRequest, HttpResponse


def service_create(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)


def service_edit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)


def service_verify(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)


def service_versions(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)


def service_version(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)


def mine(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)
