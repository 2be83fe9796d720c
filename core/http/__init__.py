"""The HTTP toolkit every connector uses."""

from .client import HttpClient, describe_error
from .oauth import OAuth2RefreshAuth
from .ratelimit import Limit, RateLimiter, TokenBucket
from .shared import AccountLimiter, account_limiter, install_account_limiter
from .retry import RetryPolicy, default_classify, parse_retry_after

__all__ = ["HttpClient", "describe_error", "OAuth2RefreshAuth", "Limit", "RateLimiter", "TokenBucket",
           "RetryPolicy", "default_classify", "parse_retry_after",
           # fleet: limits per remote account shared across workers
           "AccountLimiter", "account_limiter", "install_account_limiter"]
