"""OpenTelemetry for aioswf: traces through an interceptor, metrics through the metrics API.

Needs ``opentelemetry-api`` (``pip install aioswf[opentelemetry]``); configure the SDK (or any
other implementation) in your application as usual.
"""

from aioswf.contrib.opentelemetry._tracing import HEADER_PREFIX, TracingInterceptor

__all__ = ("HEADER_PREFIX", "TracingInterceptor")
