"""dpbench_report: plots, HTML reports, exports and regression verdicts from dpbench results files.

The package only reads results files (their schema ships here: schema/dpbench-results.schema.json);
it never measures.
"""

from .load import ResultsFile, ResultsFileError, load_many, load_results
from .records import PointRecord, to_records

__all__ = ["PointRecord", "ResultsFile", "ResultsFileError", "load_many", "load_results", "to_records"]
__version__ = "0.1.0"
