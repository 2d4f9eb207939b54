"""Helpers for driving the live room with `WebsocketCommunicator` (shared by the room test files)."""

from django.conf import settings

from tests.shows.test_consumer_room import _connect

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "1 Analytical Way",
    "city": "London",
    "postal_code": "N1 1AA",
    "country": "GB",
}


def checkout_one(user, variant_id: int):
    """Check out one unit of `variant_id` with the test card, through the real services; returns the order."""
    import uuid

    from orders.services import cart_add, cart_get_or_create, checkout_complete

    cart = cart_get_or_create(user=user)
    cart_add(cart=cart, variant_id=variant_id, quantity=1)
    (order,) = checkout_complete(
        user=user,
        cart=cart,
        checkout_key=uuid.uuid4(),
        email=user.email,
        address=ADDRESS,
        card_number="4242424242424242",
    )
    return order


def frames(message: dict) -> list[dict]:
    """The events inside one frame (a coalesced `batch` holds several)."""
    return message["events"] if message.get("type") == "batch" else [message]


async def next_of(communicator, types, *, limit=80, timeout=10) -> dict:
    """The first event whose type is in `types`, skipping everything else (viewer counts, history...)."""
    types = {types} if isinstance(types, str) else set(types)
    for _ in range(limit):
        message = await communicator.receive_json_from(timeout=timeout)
        for event in frames(message):
            if event["type"] in types:
                return event
    raise AssertionError(f"none of {sorted(types)} arrived")


async def join(show, user=None, *, giveaway: bool = False):
    """Connect and read the on-connect state up to its last frame (the deal, then the giveaway if any).

    Returns the communicator and the on-connect events, so the next read is a live event."""
    communicator = await _connect(show, user)
    seen = []
    last = "giveaway" if giveaway else "deal"
    for _ in range(200):
        message = await communicator.receive_json_from(timeout=10)
        seen.extend(frames(message))
        if seen[-1]["type"] == last:
            return communicator, seen
    raise AssertionError("the on-connect state never finished")


def clear_rate_limits() -> None:
    """Rate-limit windows live in Redis under this worker's prefix; ids restart with each test database."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    try:
        keys = list(client.scan_iter(f"{prefix}:*:rl:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


class TimerStub:
    """Stands in for a Celery timer task (eager Celery would run an `eta` task at once)."""

    def __init__(self):
        self.calls = []

    def apply_async(self, args=(), eta=None, **kwargs):
        self.calls.append((args, eta))

    def delay(self, *args):
        self.calls.append((args, None))

    def delay_on_commit(self, *args):
        self.calls.append((args, None))

    def apply_async_on_commit(self, args=(), eta=None, **kwargs):
        self.calls.append((args, eta))
