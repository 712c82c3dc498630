"""Optional integrations, each behind an extra: ``aioswf.contrib.opentelemetry`` (tracing and
metrics, ``pip install aioswf[opentelemetry]``) and ``aioswf.contrib.s3`` (large payloads in
S3, through aiobotocore)."""
