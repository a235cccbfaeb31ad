"""Model operations as jobs, and waiting for them: the one way every dialect does it.

A job's effects apply when it is submitted; it *finishes* when the cloud's clock reaches
its end (``None``: hung until released).  A dialect answers either at once and lets the
client poll (ZStack's 202), or waits for the end before answering (vSphere's synchronous
calls, InstaVM's ``wait=true``).  Waiting depends on the clock:

* a manual clock is moved to the end (then the cloud settles, as after ``cloud.tick``):
  the wait costs no real time and stays deterministic;
* a real clock is waited on in short steps with the cloud lock released, so that other
  clients (a poll, a DELETE, an admin clock move) are served meanwhile.  The wait has a
  budget of real seconds, counted as slept, not read from the clock: under freezegun the
  clock stands still and the wait still ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from fakestack.model.clock import ManualClock

# How often a real-clock wait looks again (the lock is free in between).
POLL_SECONDS = 0.02


def job_result(job) -> Any:
    """The finished job's result; its domain error raised."""
    if job.error is not None:
        raise job.error
    return job.result


def run_job(cloud, operation: str, fn: Callable, *args: Any, **kwargs: Any):
    """Run a model operation as a job (``cloud.submit``); raise its domain error, else
    return the job (``job.result``, ``job.end``)."""
    job = cloud.submit(operation, fn, *args, **kwargs)
    if job.error is not None:
        raise job.error
    return job


def pause(cloud, seconds: float) -> None:
    """Let ``seconds`` of real time pass with the cloud lock released (at whatever depth
    this thread holds it; taken back at the same depth).  A caller that does not hold the
    lock (a dialect called outside the app) just sleeps."""
    condition = threading.Condition(cloud.lock)
    try:
        condition.wait(seconds)
    except RuntimeError:  # the lock is not held by this thread
        time.sleep(seconds)


def wait_until(
    cloud,
    moment: float | None | Callable[[], float | None],
    *,
    budget: float | None = None,
    settled: Callable[[], bool] | None = None,
) -> bool:
    """Wait until the cloud's clock reads ``moment`` (a time, or a function giving it,
    read again at every step of a real-clock wait; ``None``: never).  True when reached.

    Manual clock: moved to ``moment`` at once (the budget does not apply), then the cloud
    settles.  Real clock: waited on, lock released, for at most ``budget`` real seconds
    (``None``: as long as ``moment`` was away when the wait began); False when the budget
    ran out or ``moment`` is ``None``.  ``settled()``, asked under the lock before every
    step, may end the wait early (True) or abandon it by raising."""
    clock = cloud.clock
    target = moment() if callable(moment) else moment
    if isinstance(clock, ManualClock):
        if target is None:
            return False
        if target > clock.now():
            clock.move_to(target)
            cloud.settle()
        return True
    waited = 0.0
    while True:
        if settled is not None and settled():
            return True
        if target is None:
            return False
        remaining = target - clock.now()
        if remaining <= 0:
            return True
        if budget is None:
            budget = remaining
        if waited >= budget:
            return False
        step = min(POLL_SECONDS, budget - waited, remaining)
        pause(cloud, step)
        waited += step
        if callable(moment):
            target = moment()


def wait_for_job(cloud, job, *, budget: float | None = None) -> Any:
    """The finished job's result or error, once the clock has reached its end (see
    ``wait_until``).  A hung job, or a real-clock wait whose budget runs out, returns
    what the job did without waiting further: the caller decides beforehand whether a
    job may outlast its call (``finishes_within``)."""
    if job.error is None:
        wait_until(cloud, job.end, budget=budget)
    return job_result(job)


def finishes_within(cloud, job, seconds: float) -> bool:
    """Does ``job`` end at most ``seconds`` of clock time from now?"""
    return job.end is not None and job.end - cloud.clock.now() <= seconds
