from django.urls import path

from samhandling.directory import views

app_name = "directory"

urlpatterns = [
    path("services/", views.search, name="search"),
    path("map/", views.map_index, name="map-index"),
    path("my-services/", views.mine, name="mine"),
]
