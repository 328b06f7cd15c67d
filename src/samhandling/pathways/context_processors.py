from django.http import HttpRequest

from samhandling.pathways.services.workflow import is_editor


def editor(request: HttpRequest) -> dict[str, object]:
    """Whether to show the pathway editors' link in the menu."""
    user = getattr(request, "user", None)
    return {"is_pathway_editor": bool(user and user.is_authenticated and is_editor(user))}
