from __future__ import annotations

from aioswf import ApplicationError
from aioswf._failure import Failure
from aioswf.converter import MAX_DATA_LENGTH, MAX_REASON_LENGTH, DataConverter


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_an_exception_round_trips_type_message_and_traceback() -> None:
    reason, details = Failure.from_exception(_raised(KeyError("missing"))).encode(DataConverter())
    failure = Failure.decode(reason, details)
    assert failure.type_name == "KeyError"
    assert failure.message == "'missing'"
    assert "Traceback" in failure.traceback


def test_application_error_keeps_its_type_details_and_retry_flag() -> None:
    error = ApplicationError("card declined", {"code": 51}, type="CardDeclined", non_retryable=True)
    failure = Failure.decode(*Failure.from_exception(_raised(error)).encode(DataConverter()))
    assert (failure.type_name, failure.message) == ("CardDeclined", "card declined")
    assert failure.details == ({"code": 51},)
    assert failure.non_retryable is True


def test_oversized_failures_are_cut_to_swf_limits() -> None:
    error = ApplicationError("m" * 40_000, "d" * 40_000, type="T" * 300)
    reason, details = Failure.from_exception(_raised(error)).encode(DataConverter())
    assert len(reason) <= MAX_REASON_LENGTH
    assert len(details) <= MAX_DATA_LENGTH
    assert Failure.decode(reason, details).message.startswith("mmm")


def test_failures_written_by_other_tools_read_as_messages() -> None:
    assert Failure.decode("Boom", "plain text") == Failure("Boom", "plain text")
    assert Failure.decode(None, None) == Failure("UnknownFailure", "")
    assert Failure.decode("X", '{"a": 1}').message == '{"a": 1}'
