"""The API used to declare activities and, inside them, to talk to SWF."""

from __future__ import annotations

from aioswf._definitions import ActivityDefinition
from aioswf._definitions import activity_defaults as defaults
from aioswf._definitions import activity_defn as defn

__all__ = ("ActivityDefinition", "defaults", "defn")
