"""Detection of sensitive values with Presidio, plus streamsec's own recognizers."""

from streamsec.detection.base import Detector, TextItem

__all__ = ["Detector", "TextItem"]
