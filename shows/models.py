"""Live shows and what happens in their rooms."""

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse

from catalog.models import Product
from shops.models import Shop


def new_stream_key() -> str:
    return secrets.token_urlsafe(24)


class Show(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"
        CANCELLED = "cancelled", "Cancelled"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="shows")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    cover = models.ImageField(upload_to="shows/covers/", blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    scheduled_start = models.DateTimeField(db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    playback_url = models.URLField(blank=True, help_text="HLS playback URL (.m3u8) from your media server.")
    stream_key = models.CharField(max_length=64, default=new_stream_key, editable=False)
    pinned_product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="pinned_in_shows"
    )
    products = models.ManyToManyField(Product, blank=True, related_name="shows", help_text="The lineup.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scheduled_start", "id"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("show_detail", kwargs={"show_id": self.pk})

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.LIVE


class ChatMessage(models.Model):
    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=500)
    is_deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["show", "-created_at"])]

    def __str__(self):
        return self.text[:50]
