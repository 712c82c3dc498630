"""The one place that talks to SWF: aiobotocore client lifecycle, retries, fault mapping."""

from aioswf._transport.connection import ConnectionOptions, Transport
from aioswf._transport.faults import map_error

__all__ = ("ConnectionOptions", "Transport", "map_error")
