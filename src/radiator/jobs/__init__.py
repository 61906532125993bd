"""Background jobs: scheduling only; the work they run lives in the domains."""

from __future__ import annotations

from radiator.jobs.builtin import schedule_builtin_jobs
from radiator.jobs.scheduler import Job, JobStats, Scheduler

__all__ = ["Job", "JobStats", "Scheduler", "schedule_builtin_jobs"]
