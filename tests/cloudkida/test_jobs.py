"""The job runner: inline to the end, on a thread, or as an asynchronous Lambda invocation that Zappa's
handler turns back into the job (one slice per invocation)."""

from __future__ import annotations

import threading

import pytest

from cloudkida import jobs


@pytest.fixture
def counting_job():
    """A job of three units of work, one unit per slice, that records what ran."""
    state = {"done": 0, "slices": 0, "threads": set()}

    def handler(params, budget):
        state["slices"] += 1
        state["threads"].add(threading.current_thread().name)
        state["done"] += 1
        return state["done"] >= params["units"]

    jobs.register("test-counting", handler)
    return state


def test_inline_runs_every_slice_to_the_end(counting_job, settings):
    settings.CLOUDKIDA_JOB_RUNNER = "inline"
    jobs.start("test-counting", units=3)
    assert counting_job["done"] == 3 and counting_job["slices"] == 3


def test_thread_runs_in_the_background(settings):
    settings.CLOUDKIDA_JOB_RUNNER = "thread"
    release, ran = threading.Event(), []

    def handler(params, budget):
        assert release.wait(timeout=30)
        ran.append(threading.current_thread())
        return True

    jobs.register("test-waiting", handler)
    jobs.start("test-waiting")
    assert ran == []  # start returned while the job waits
    worker = next(t for t in threading.enumerate() if t.name == "job-test-waiting")
    release.set()
    worker.join(timeout=30)
    assert ran == [worker] and worker is not threading.current_thread()


def test_an_unknown_job_or_runner_is_refused(counting_job, settings):
    with pytest.raises(KeyError):
        jobs.start("no-such-job")
    settings.CLOUDKIDA_JOB_RUNNER = "cron"
    with pytest.raises(ValueError):
        jobs.start("test-counting", units=1)


def test_the_lambda_entry_runs_one_slice_and_hands_over(counting_job, settings):
    settings.CLOUDKIDA_JOB_RUNNER = "inline"  # the hand-over, here, runs the rest at once
    event = jobs.lambda_event("test-counting", {"units": 3})
    assert event["command"] == "cloudkida.jobs.run_job"

    class Context:
        def get_remaining_time_in_millis(self):
            return 120_000

    assert jobs.run_job(event, Context()) == {"job": "test-counting", "finished": False}
    assert counting_job["done"] == 3


def test_a_budget_knows_when_it_is_spent():
    assert jobs.Budget(0).exhausted() and not jobs.Budget(60).exhausted()
