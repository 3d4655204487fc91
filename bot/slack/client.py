"""Slack Web API and response_url clients that ride out rate limits, server errors and dropped
connections (backoff, honouring Retry-After), pointed at SLACK_API_URL."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import RandomJitter
from slack_sdk.webhook import WebhookClient

from bot.delivery.events import Failure

TIMEOUT_S = 15
_TRANSIENT = frozenset({500, 502, 503, 504})


class TransientServerErrorRetryHandler(ServerErrorRetryHandler):
    """slack_sdk's handler retries 500 and 503 only; a load balancer's 502 and 504 are just as
    transient."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in _TRANSIENT


def retry_handlers(max_retries: int) -> list[RetryHandler]:
    if max_retries <= 0:
        return []
    backoff = BackoffRetryIntervalCalculator(backoff_factor=0.25, jitter=RandomJitter())
    return [
        ConnectionErrorRetryHandler(max_retry_count=max_retries, interval_calculator=backoff),
        RateLimitErrorRetryHandler(max_retry_count=max_retries, interval_calculator=backoff),
        TransientServerErrorRetryHandler(max_retry_count=max_retries, interval_calculator=backoff),
    ]


def web_client(token: str | None, base_url: str, max_retries: int) -> WebClient:
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=TIMEOUT_S,
        retry_handlers=retry_handlers(max_retries),
    )


def post_response(url: str, body: dict[str, Any], max_retries: int) -> int:
    """POST to a slash command's or an action's response_url; returns the HTTP status."""
    client = WebhookClient(url, timeout=TIMEOUT_S, retry_handlers=retry_handlers(max_retries))
    return int(client.send_dict(body).status_code)


def delivery_failure(e: Exception) -> Failure | None:
    """What a failed call to Slack means for the work (bot/delivery/events.py): a rate limit, a
    server error or a dropped connection is tried again later; any other refusal is for good."""
    if isinstance(e, SlackApiError):
        status = e.response.status_code
        if status == 429 or status >= 500:
            return Failure(retry=True, why=f"HTTP {status}")
        return Failure(retry=False, why=str(e.response.get("error", "?")))
    if isinstance(e, OSError):  # connection refused, reset, timed out
        return Failure(retry=True, why=type(e).__name__)
    return None
