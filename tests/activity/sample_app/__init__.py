"""A small application for discovery tests: activities and workflows spread over modules."""

from tests.activity.sample_app.billing import charge as charge  # a re-export, found once
