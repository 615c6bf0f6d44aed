"""The experiment log in one DuckDB file: the experiment repository and the usage ledger.

Rooms: state (the process-wide state and its fork hook), attach and logfile (opening the file
for one transaction, retried while it is held), migrations (the schema), frames and rows
(records <-> typed DataFrames), sql and writes (the statements), experiments
(DuckDBExperimentRepository) and ledger (DuckDBUsageLedger, given the repository's LogFile).
"""

from nbplayground.adapters.duckdb.experiments import DuckDBExperimentRepository
from nbplayground.adapters.duckdb.ledger import DuckDBUsageLedger
from nbplayground.adapters.duckdb.logfile import LogFile

__all__ = ["DuckDBExperimentRepository", "DuckDBUsageLedger", "LogFile"]
