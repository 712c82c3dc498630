"""An application's converter, for ``--converter``: its payloads are zlib-compressed."""

from __future__ import annotations

from aioswf import DataConverter
from aioswf.payloads import ZlibCodec

converter = DataConverter(codecs=[ZlibCodec(min_size=0)])


def make_converter() -> DataConverter:
    return DataConverter(codecs=[ZlibCodec(min_size=0)])


not_a_converter = 42
