"""python -m dpbench_report {report,plot,compare,validate} ..."""

import sys

from .cli import main

sys.exit(main())
