"""The web view of workflow executions, read through the public SWF API only.

Server-rendered HTML (Jinja templates shipped in the package, a few lines of script for
auto-refresh), so there is no build step and a page fetches nothing from elsewhere. It is
served at ``GET /`` by ``aioswf dev`` beside the local service, and by ``aioswf ui`` for any
SWF endpoint, AWS included; it never changes anything.
"""

from aioswf.ui.app import add_web_view, web_view_app

__all__ = ("add_web_view", "web_view_app")
