"""The Celery app for the chaos suite's beat processes: the project's own app (same tasks,
queue, broker and settings) with the schedule of config/beat.toml run faster: the
reconciler every CHAOS_BEAT_SECONDS and the schedule tick every CHAOS_TICK_SECONDS
(default 2 s each) instead of every minute. `celery -A tests.chaos.beat beat`."""

import os
from datetime import timedelta

from digest.celery_app import make_celery
from digest.settings import get_settings

app = make_celery(get_settings())
_every = {"digest.reconcile": float(os.environ.get("CHAOS_BEAT_SECONDS", "2")),
          "digest.schedule_tick": float(os.environ.get("CHAOS_TICK_SECONDS", "2"))}
app.conf.beat_schedule = {name: {**entry, "schedule": timedelta(seconds=_every[entry["task"]])}
                          for name, entry in app.conf.beat_schedule.items()
                          if entry["task"] in _every}  # no feeds to fetch here
