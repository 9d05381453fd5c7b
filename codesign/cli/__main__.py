"""``python -m codesign.cli``: the ``codesign`` command."""

import sys

from codesign.cli.main import main

sys.exit(main())
