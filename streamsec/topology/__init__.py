"""Declarative topologies: the YAML files under ``topologies/``."""

from streamsec.topology.loader import load_topology, parse_topology
from streamsec.topology.model import (
    ActionName,
    Category,
    ClassificationOverride,
    DetectionConfig,
    FieldRule,
    Policy,
    RoleGrant,
    Sensitivity,
    Topology,
)

__all__ = [
    "ActionName",
    "Category",
    "ClassificationOverride",
    "DetectionConfig",
    "FieldRule",
    "Policy",
    "RoleGrant",
    "Sensitivity",
    "Topology",
    "load_topology",
    "parse_topology",
]
