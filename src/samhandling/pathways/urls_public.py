"""Public pathway pages (no login): list, pathway, PDF, change proposals."""

from django.urls import path

from samhandling.pathways import views_public

urlpatterns = [
    path("", views_public.pathway_list, name="list"),
    path("proposals/<str:token>/", views_public.proposal_outcome, name="proposal"),
    path("<slug:slug>.pdf", views_public.pathway_pdf, name="pdf"),
    path("<slug:slug>/", views_public.pathway_detail, name="detail"),
    path("<slug:slug>/propose/", views_public.proposal_new, name="propose"),
]
