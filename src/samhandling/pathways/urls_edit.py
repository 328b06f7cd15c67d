"""Editor pages for pathways (login). Filled in by views_edit."""

urlpatterns: list = []
