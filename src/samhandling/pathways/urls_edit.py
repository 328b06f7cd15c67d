"""Editor pages for pathways (login), mounted at pathways/edit/ as namespace pathways_edit."""

from django.urls import path

from samhandling.pathways import views_edit

urlpatterns = [
    path("", views_edit.dashboard, name="dashboard"),
    path("versions/<int:pk>/", views_edit.version_edit, name="version"),
    path("versions/<int:pk>/diff/", views_edit.version_diff, name="version-diff"),
    path("versions/<int:pk>/preview/", views_edit.version_preview, name="version-preview"),
    path("versions/<int:pk>/return/", views_edit.version_return, name="version-return"),
    path("versions/<int:pk>/publish/", views_edit.version_publish, name="version-publish"),
    path("proposals/<uuid:code>/accept/", views_edit.proposal_accept, name="proposal-accept"),
    path("proposals/<uuid:code>/reject/", views_edit.proposal_reject, name="proposal-reject"),
    path("feedback/", views_edit.feedback_list, name="feedback-list"),
    path("feedback/new/", views_edit.feedback_new, name="feedback-new"),
    path("feedback/<int:pk>/", views_edit.feedback_round, name="feedback-round"),
    path("feedback/<int:pk>/answer/", views_edit.feedback_answer, name="feedback-answer"),
    path("feedback/<int:pk>/close/", views_edit.feedback_close, name="feedback-close"),
    path("<slug:slug>/drafts/", views_edit.draft_start, name="draft-start"),
    path("<slug:slug>/history/", views_edit.history, name="history"),
]
