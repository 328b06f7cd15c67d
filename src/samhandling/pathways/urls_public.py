"""Public pathway pages (no login). Filled in by views_public."""

urlpatterns: list = []
