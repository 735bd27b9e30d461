"""python -m dpbench_report COMMAND ...: the same command line as the dpbench-report console script."""

import sys

from .cli import main

sys.exit(main())
