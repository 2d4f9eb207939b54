"""ASGI entry point: HTTP through Django, websockets through the show rooms.

Websockets are wrapped in SiteOriginValidator (config/ws_origin.py: only the site's own scheme, host
and port may open a socket),
RoomSendMiddleware (the server's own `send` on the scope, which the room hub writes frames to) and
AuthMiddlewareStack (the session user is on the scope). With production settings it refuses to load
while a secret is empty or its development default (config/checks.py).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from config.checks import refuse_default_secrets  # noqa: E402

refuse_default_secrets()  # production never serves on a default secret

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.ws_origin import SiteOriginValidator  # noqa: E402
from shows.hub import RoomSendMiddleware  # noqa: E402
from shows.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SiteOriginValidator(
            RoomSendMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)
