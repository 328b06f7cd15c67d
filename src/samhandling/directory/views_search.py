"""Stub: replaced by the real views."""

from django.http import HttpRequest, HttpResponse


def search(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)


def service_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)
