"""Websocket routes; each app that speaks websockets adds its patterns here."""

websocket_urlpatterns: list = []
