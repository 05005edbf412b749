from django.urls import path

from roster.views._placeholder import placeholder

urlpatterns = [
    path("", placeholder("Imports"), name="imports"),
]
