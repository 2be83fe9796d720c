"""The HTTP toolkit tells a lost answer from an answered error: a lost one is resent as it was (the remote's
replay of its idempotency key answers it), an answered one is resent only as the caller says (a new key), and
a request that never left (refused connection) says so, so even a write that is not idempotent can go again."""

from __future__ import annotations

import httpx
import pytest

from ledgerlink import HttpClient, RetryPolicy, TransientError

FAST = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.002, jitter=False)


def _client(answers: list, seen: list[str]) -> HttpClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params.get("requestid", ""))
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)
    return HttpClient("http://remote.test", retry=FAST, transport=httpx.MockTransport(handle), sleep=lambda s: None)


def _renew(error, attempt: int) -> dict | None:
    return {"params": {"requestid": f"r{attempt + 1}"}} if error.kind == "throttled" else None


def test_a_lost_answer_is_resent_under_the_same_id():
    seen: list[str] = []
    client = _client([httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("reset"), 200], seen)
    assert client.request("POST", "/w", operation="write", params={"requestid": "r1"},
                          after_answer=_renew).status_code == 200
    assert seen == ["r1", "r1", "r1"]


def test_a_429_is_resent_under_the_id_the_caller_gives():
    seen: list[str] = []
    client = _client([429, 429, 200], seen)
    assert client.request("POST", "/w", operation="write", params={"requestid": "r1"},
                          after_answer=_renew).status_code == 200
    assert seen == ["r1", "r2", "r3"]


def test_an_answered_5xx_is_raised_at_once_when_the_caller_must_look_first():
    seen: list[str] = []
    client = _client([500, 200], seen)
    with pytest.raises(TransientError) as caught:
        client.request("POST", "/w", operation="write", params={"requestid": "r1"}, after_answer=_renew)
    assert seen == ["r1"] and caught.value.status == 500


def test_without_the_hook_every_retry_is_sent_as_is():
    seen: list[str] = []
    client = _client([500, 503, 200], seen)
    assert client.request("POST", "/w", operation="write", params={"requestid": "r1"}).status_code == 200
    assert seen == ["r1", "r1", "r1"]


@pytest.mark.parametrize("failure, sent", [(httpx.ConnectError("refused"), False),
                                           (httpx.ConnectTimeout("no answer to SYN"), False),
                                           (httpx.ReadTimeout("sent, no answer"), True),
                                           (httpx.RemoteProtocolError("reset after sending"), True)])
def test_an_error_says_whether_the_request_left(failure, sent):
    client = _client([failure], [])
    client.retry = RetryPolicy(max_attempts=1)
    with pytest.raises(TransientError) as caught:
        client.request("POST", "/w", operation="write")
    assert caught.value.sent is sent
