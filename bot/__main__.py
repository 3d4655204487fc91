"""`python -m bot` is `itaku`."""

import sys

from bot.cli import main

sys.exit(main())
