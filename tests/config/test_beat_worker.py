"""A real Celery beat and worker on Redis release an expired hold with nobody calling anything (slow: ~15 s).

The schedule is the one `migrate` seeds (config/beat.py), read by django-celery-beat's DatabaseScheduler;
the test shortens the release job to every second and disables the others, the way ops would in the
admin. Beat and worker run as separate processes on their own queue, against the test database.
"""

import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from catalog.models import Stock
from config.beat import beat_schedule_ensure
from orders.models import Reservation
from orders.services import reservation_create
from tests.servers import start_celery, start_worker, stop, wait_for


def _celery(*args: str, queue: str, log: Path) -> subprocess.Popen:
    return start_celery(
        *args, log=log, redis_url=settings.REDIS_URL, extra_env={"CELERY_TASK_DEFAULT_QUEUE": queue}
    )


@pytest.mark.django_db(transaction=True)
def test_beat_and_a_worker_release_an_expired_hold_without_anyone_calling_it(shopper, variant, tmp_path):
    assert "release-expired-reservations" in beat_schedule_ensure() or PeriodicTask.objects.exists()
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.exclude(name="release-expired-reservations").update(enabled=False)
    PeriodicTask.objects.filter(name="release-expired-reservations").update(interval=every_second)

    hold = reservation_create(user=shopper, variant_id=variant.pk, quantity=2)
    Reservation.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Stock.objects.get(variant=variant).allocated == 2

    queue = f"lmtest-beat-{uuid.uuid4().hex[:10]}"
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    processes = []
    try:
        processes.append(
            start_worker(
                name=queue,
                queue=queue,
                log=worker_log,
                redis_url=settings.REDIS_URL,
                extra_env={"CELERY_TASK_DEFAULT_QUEUE": queue},
            )
        )
        processes.append(
            _celery(
                "beat",
                "-S",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--max-interval",
                "1",
                "-l",
                "info",
                queue=queue,
                log=beat_log,
            )
        )
        wait_for(
            lambda: Reservation.objects.get(pk=hold.pk).status == Reservation.Status.EXPIRED,
            timeout=90,
            what="beat to send the release job and the worker to run it",
            logs=[beat_log, worker_log],
        )
    finally:
        for process in processes:
            stop(process)
        broker = redis.Redis.from_url(settings.REDIS_URL)
        broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        broker.close()

    assert Stock.objects.get(variant=variant).allocated == 0
    assert "Scheduler: Sending due task release-expired-reservations" in beat_log.read_text()
    worker = worker_log.read_text()
    assert "orders.tasks.release_expired_reservations_task" in worker and "succeeded" in worker
