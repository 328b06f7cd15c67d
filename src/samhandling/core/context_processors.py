from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, object]:
    return {"is_demo": settings.SAMHANDLING_DEMO}
