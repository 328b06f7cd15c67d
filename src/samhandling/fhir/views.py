from django.http import HttpRequest, JsonResponse


def metadata(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"resourceType": "CapabilityStatement"})
