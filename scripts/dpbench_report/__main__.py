"""python -m dpbench_report {report,plot,compare,ab,history,validate} ..."""

import sys

from .cli import main

sys.exit(main())
