"""Declarative topologies: the YAML files under ``topologies/``."""

from streamsec.topology.loader import load_topology, parse_topology
from streamsec.topology.model import (
    ActionName,
    ClassificationOverride,
    DetectionConfig,
    FieldRule,
    Policy,
    RoleGrant,
    Topology,
)

__all__ = [
    "ActionName",
    "ClassificationOverride",
    "DetectionConfig",
    "FieldRule",
    "Policy",
    "RoleGrant",
    "Topology",
    "load_topology",
    "parse_topology",
]
