from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from samhandling.directory.models import Need


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"needs": Need.objects.all()})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for the proxy and monitoring."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
