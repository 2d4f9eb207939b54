"""The Celery setup ops rely on: JSON only, late acks, a visibility timeout past every ETA, and a beat
schedule in the database that migrate seeds once and never overwrites."""

import pytest
from django.conf import settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.beat import BEAT_JOBS, beat_schedule_ensure
from config.celery import app
from shows.auctions import LOT_SECONDS
from shows.services import DEAL_SECONDS, GIVEAWAY_SECONDS


def test_tasks_are_json_only_and_acknowledged_after_they_ran():
    conf = app.conf
    assert (conf.task_serializer, conf.accept_content, conf.result_serializer) == ("json", ["json"], "json")
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit


def test_visibility_timeout_is_longer_than_any_eta_the_project_sets():
    furthest_eta = max(
        DEAL_SECONDS[1], GIVEAWAY_SECONDS[1], LOT_SECONDS[1], settings.LIVEMARKET_MAX_TASK_ETA_SECONDS
    )
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] >= 2 * furthest_eta


def test_every_beat_job_names_a_registered_task():
    app.loader.import_default_modules()
    assert {job.task for job in BEAT_JOBS} <= set(app.tasks)
    assert app.conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"


@pytest.mark.django_db
def test_migrate_seeds_the_schedule_and_a_second_seed_keeps_ops_edits():
    # The test database was migrated, so the jobs are there already.
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= {job.name for job in BEAT_JOBS}
    minute, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name="release-expired-reservations").update(interval=minute, enabled=False)
    PeriodicTask.objects.filter(name="redis-keys-clean").delete()

    assert beat_schedule_ensure() == ["redis-keys-clean"]
    assert beat_schedule_ensure() == []
    edited = PeriodicTask.objects.get(name="release-expired-reservations")
    assert (edited.interval.every, edited.enabled) == (60, False)
