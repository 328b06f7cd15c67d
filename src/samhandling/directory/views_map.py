"""Stub: replaced by the real views."""

from django.http import HttpRequest, HttpResponse


def map_index(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)


def municipality_map(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)


def municipality_map_file(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)


def partnership_map(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)


def partnership_map_file(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("not yet built", status=501)
