"""Stream keys are kept as a SHA-256 hash (and their last four characters), never in clear."""

import hashlib

from django.db import migrations, models

import shows.models


def hash_keys(apps, schema_editor):
    Show = apps.get_model("shows", "Show")
    for show in Show.objects.only("pk", "stream_key").iterator():
        Show.objects.filter(pk=show.pk).update(
            stream_key_hash=hashlib.sha256(show.stream_key.encode()).hexdigest(),
            stream_key_hint=show.stream_key[-4:],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("shows", "0005_show_cover_validated"),
    ]

    operations = [
        migrations.AddField(
            model_name="show",
            name="stream_key_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="show",
            name="stream_key_hint",
            field=models.CharField(blank=True, editable=False, max_length=4),
        ),
        migrations.RunPython(hash_keys, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="show", name="stream_key"),
        migrations.AlterField(
            model_name="show",
            name="stream_key_hash",
            field=models.CharField(
                default=shows.models.unknown_stream_key_digest, editable=False, max_length=64, unique=True
            ),
        ),
    ]
