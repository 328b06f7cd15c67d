"""The JSON API (/api/v1/), with its OpenAPI schema at /api/v1/openapi.json."""

from ninja import NinjaAPI

from samhandling.directory.api import router as directory_router
from samhandling.pathways.api import router as pathways_router

api = NinjaAPI(
    title="Samhandling API",
    version="1",
    description="Open JSON API of the Samhandling platform.",
    urls_namespace="api",
)
api.add_router("/services", directory_router)
api.add_router("/pathways", pathways_router)
