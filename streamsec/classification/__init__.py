"""Classification of detected entities into category and sensitivity."""

from streamsec.classification.model import FieldClassification, Finding, RecordClassification

__all__ = ["FieldClassification", "Finding", "RecordClassification"]
