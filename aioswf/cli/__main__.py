"""``python -m aioswf.cli``: the same as the ``aioswf`` command."""

import sys

from aioswf.cli import main

sys.exit(main())
