"""An application's converter, for ``--converter``: its payloads go to S3 (moto's server).

The endpoint and bucket come from the environment (the test sets them); every payload over
16 characters is stored, so that small payloads are references too.
"""

from __future__ import annotations

import os

from aiobotocore.session import get_session

from aioswf import DataConverter
from aioswf.contrib.s3 import S3PayloadStore


def make_converter() -> DataConverter:
    session = get_session()
    session.set_credentials("testing", "testing")
    store = S3PayloadStore(
        os.environ["AIOSWF_TEST_BUCKET"],
        endpoint_url=os.environ["AIOSWF_TEST_S3"],
        region_name="us-east-1",
        session=session,
        threshold=16,
    )
    return DataConverter(payload_store=store)
