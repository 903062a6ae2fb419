"""``python -m ringline`` is the ``ringline`` command."""

import sys

from ringline.cli import main

sys.exit(main())
