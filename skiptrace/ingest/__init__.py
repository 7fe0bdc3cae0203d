"""Reading, validating and normalising input files, and loading them into a store."""
from skiptrace.ingest.loader import LoadReport, load
from skiptrace.ingest.normalise import PhoneNormaliser, fold_key, parse_time

__all__ = ["LoadReport", "PhoneNormaliser", "fold_key", "load", "parse_time"]
