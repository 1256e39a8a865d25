"""Test doubles and sample data that ship with streamsec, for its own tests and yours."""

from streamsec.testing.fake_detector import FakeDetector

__all__ = ["FakeDetector"]
