from django.http import HttpRequest, HttpResponse


def search(request: HttpRequest) -> HttpResponse:
    return HttpResponse("todo")


def map_index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("todo")


def mine(request: HttpRequest) -> HttpResponse:
    return HttpResponse("todo")
