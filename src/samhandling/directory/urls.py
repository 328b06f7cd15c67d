from django.urls import path

from samhandling.directory import views_edit, views_map, views_search

app_name = "directory"

urlpatterns = [
    # Public search and service pages (views_search)
    path("services/", views_search.search, name="search"),
    path("services/<uuid:code>/", views_search.service_detail, name="service-detail"),
    # Editing, versions, verification (views_edit)
    path("services/new/", views_edit.service_create, name="service-create"),
    path("services/<uuid:code>/edit/", views_edit.service_edit, name="service-edit"),
    path("services/<uuid:code>/verify/", views_edit.service_verify, name="service-verify"),
    path("services/<uuid:code>/versions/", views_edit.service_versions, name="service-versions"),
    path(
        "services/<uuid:code>/versions/<int:number>/",
        views_edit.service_version,
        name="service-version",
    ),
    path("my-services/", views_edit.mine, name="mine"),
    # The service map (views_map)
    path("map/", views_map.map_index, name="map-index"),
    path("map/kommune/<str:number>/", views_map.municipality_map, name="map-municipality"),
    path(
        "map/kommune/<str:number>.<str:fmt>",
        views_map.municipality_map_file,
        name="map-municipality-file",
    ),
    path("map/helsefellesskap/<slug:code>/", views_map.partnership_map, name="map-partnership"),
    path(
        "map/helsefellesskap/<slug:code>.<str:fmt>",
        views_map.partnership_map_file,
        name="map-partnership-file",
    ),
]
