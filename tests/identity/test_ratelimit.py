"""The failed-login limiter on its own: per user and address, a looser limit per address."""

from __future__ import annotations

from radiator.identity import LoginLimiter

from .support import FAILURE_WINDOW, FakeClock


def _limiter(clock: FakeClock, max_failures: int = 2) -> LoginLimiter:
    return LoginLimiter(max_failures, FAILURE_WINDOW, clock=clock)


def test_attempts_are_allowed_below_the_limit() -> None:
    limiter = _limiter(FakeClock())

    limiter.fail("ada", "10.0.0.1")

    assert limiter.retry_after("ada", "10.0.0.1") == 0


def test_key_is_blocked_for_the_rest_of_the_window() -> None:
    clock = FakeClock()
    limiter = _limiter(clock)
    limiter.fail("ada", "10.0.0.1")
    clock.advance(seconds=60)
    limiter.fail("ada", "10.0.0.1")

    # The oldest failure leaves the window first.
    assert limiter.retry_after("ada", "10.0.0.1") == FAILURE_WINDOW.total_seconds() - 60
    clock.advance(seconds=FAILURE_WINDOW.total_seconds() - 60)
    assert limiter.retry_after("ada", "10.0.0.1") == 0


def test_usernames_are_counted_case_insensitively() -> None:
    limiter = _limiter(FakeClock())

    limiter.fail("Ada", "10.0.0.1")
    limiter.fail("ADA", "10.0.0.1")

    assert limiter.retry_after("ada", "10.0.0.1") > 0


def test_success_clears_the_users_failures() -> None:
    limiter = _limiter(FakeClock())
    limiter.fail("ada", "10.0.0.1")

    limiter.succeed("ada", "10.0.0.1")
    limiter.fail("ada", "10.0.0.1")

    assert limiter.retry_after("ada", "10.0.0.1") == 0


def test_guessing_many_usernames_from_one_address_is_throttled() -> None:
    limiter = _limiter(FakeClock(), max_failures=2)

    for index in range(8):  # four times the per-user limit, each user below it
        limiter.fail(f"user{index}", "10.0.0.1")

    assert limiter.retry_after("someone-new", "10.0.0.1") > 0
    assert limiter.retry_after("someone-new", "10.0.0.2") == 0


def test_aged_out_failures_are_forgotten_so_memory_stays_bounded() -> None:
    clock = FakeClock()
    limiter = _limiter(clock, max_failures=5)
    for round_ in range(3):
        for i in range(6_000):
            limiter.fail(f"user{round_}-{i}", "10.0.0.1")
        clock.advance(seconds=2 * FAILURE_WINDOW.total_seconds())

    # 18,000 usernames were sprayed; the rounds whose failures aged out were swept away.
    assert len(limiter) <= 12_002
