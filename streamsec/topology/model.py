"""The topology schema: what to read, where to write, and how to protect each field.

Every model forbids unknown keys, so a typo stops start-up instead of silently
weakening protection. See ``topologies/`` for annotated examples.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from streamsec.classification.model import Category, Sensitivity
from streamsec.records.paths import Segment, parse_path

__all__ = [
    "ActionName",
    "ClassificationOverride",
    "DetectionConfig",
    "EncryptionConfig",
    "FieldRule",
    "Policy",
    "RoleGrant",
    "Topology",
]

ROLE_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,26}$"
"""A role under ``key_separation: role``: ``role-<name>`` names its KEK (at most 32
characters, the KEK name pattern of :mod:`streamsec.crypto.providers.base`)."""
TOPIC = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")]


def _known_action(name: str) -> str:
    from streamsec.actions import registered_actions  # importing it registers them

    if name not in registered_actions():
        raise ValueError(f"unknown action {name!r}; known: {', '.join(registered_actions())}")
    return name


def _default_action(name: str) -> str:
    from streamsec.actions import action_spec

    if not action_spec(_known_action(name)).default:
        raise ValueError(f"{name!r} cannot be a default action")
    return name


ActionName = Annotated[str, AfterValidator(_known_action)]
"""A registered action (:mod:`streamsec.actions`)."""
DefaultActionName = Annotated[str, AfterValidator(_default_action)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldRule(_Strict):
    """What to do with the value at one path (or with every entity found in it)."""

    action: ActionName
    deterministic: bool = Field(
        default=False, description="encrypt only: AES-SIV, equal inputs give equal outputs."
    )
    keep_first: int = Field(default=0, ge=0, description="mask only")
    keep_last: int = Field(default=0, ge=0, description="mask only")
    mask_char: str = Field(default="*", min_length=1, max_length=1, description="mask only")
    placeholder: str | None = Field(
        default=None, description="redact only; '{entity}' is replaced by the entity type"
    )
    inline: bool = Field(
        default=False,
        description="apply the action to each entity detected inside the text, not the whole value",
    )
    entity: str | None = Field(default=None, description="entity type to record for this field")

    @model_validator(mode="after")
    def _params_fit_action(self) -> FieldRule:
        from streamsec.actions import action_spec

        given = self.model_fields_set
        spec = action_spec(self.action)
        allowed = spec.params
        common = {"action", "inline", "entity"}
        extra = sorted(given - allowed - common)
        if extra:
            raise ValueError(f"{', '.join(extra)} does not apply to action {self.action!r}")
        if self.inline and not spec.inline:
            raise ValueError(f"inline does not apply to action {self.action!r}")
        return self

    @property
    def params(self) -> dict[str, Any]:
        """The parameters set on the rule (a fresh dict; dumped once, the rule is frozen)."""
        return dict(self._params)

    @functools.cached_property
    def _params(self) -> dict[str, Any]:
        return self.model_dump(exclude={"action", "inline", "entity"}, exclude_unset=True)


def _rule_from_shorthand(value: Any) -> Any:
    return {"action": value} if isinstance(value, str) else value


class Policy(_Strict):
    """Defaults for values found by detection that no field rule covers."""

    default_action: DefaultActionName = "encrypt"
    categories: dict[Category, FieldRule] = Field(default_factory=dict)
    entities: dict[str, FieldRule] = Field(default_factory=dict)
    min_sensitivity: Sensitivity = Field(
        default=Sensitivity.INTERNAL,
        description="detections classified below this level are left as they are",
    )

    @field_validator("categories", "entities", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _rule_from_shorthand(v) for k, v in value.items()}
        return value

    @field_validator("categories", "entities")
    @classmethod
    def _no_keep_for_defaults(cls, value: dict[Any, FieldRule]) -> dict[Any, FieldRule]:
        for key, rule in value.items():
            if rule.inline:
                raise ValueError(f"{key}: 'inline' is decided by detection in policy rules")
        return value


class ClassificationOverride(_Strict):
    category: Category
    sensitivity: Sensitivity


class DetectionConfig(_Strict):
    score_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    entities: list[str] | None = Field(
        default=None, description="only these entity types (default: all)"
    )
    ignore_entities: list[str] = Field(default_factory=list)
    ignore_paths: list[str] = Field(
        default_factory=list, description="paths never scanned and left as they are"
    )
    free_text: list[str] = Field(
        default_factory=list, description="paths known to hold free text (always fully analysed)"
    )
    recheck_every: int = Field(
        default=64, ge=1, le=1_000_000,
        description="one record in N of a learnt shape has every value detected in full, "
        "to check what the learnt paths skip (1: every record, no value ever skipped)",
    )

    @field_validator("ignore_paths", "free_text")
    @classmethod
    def _paths_parse(cls, value: list[str]) -> list[str]:
        for path in value:
            parse_path(path)
        return value


class EncryptionConfig(_Strict):
    """How ciphertexts are bound to their record and padded (``docs/envelope.md``)."""

    missing_subject: Literal["dead_letter", "shared"] | None = Field(
        default=None,
        description="a record without a subject value: dead-letter it, or encrypt it under "
        "the topology's shared keys (then it cannot be erased per subject). Required when "
        "'subject' is set.",
    )
    record_id: str | None = Field(
        default=None,
        description="path of a field identifying the record (kept, hashed or encrypted): "
        "every ciphertext is bound to it, so none can be moved to another record",
    )
    lists: Literal["position", "record"] = Field(
        default="position",
        description="position: list items are bound to their index (order matters); "
        "record: only to their record and subject (items may be reordered)",
    )
    pad_to: int = Field(
        default=32, ge=1, le=4096,
        description="plaintexts are padded to a multiple of this many bytes before "
        "encryption, so short values cannot be told apart by length",
    )

    @field_validator("record_id")
    @classmethod
    def _record_id_parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_path(value)
        return value


class RoleGrant(_Strict):
    """Which fields a consumer role may decrypt (by path, category or entity type)."""

    paths: list[str] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)


class Topology(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$")
    version: int = Field(default=1, ge=1)
    description: str = ""
    input: TOPIC
    output: TOPIC
    dead_letter: TOPIC | None = Field(default=None, description="default: '<input>.dead-letter'")
    audit: TOPIC = "streamsec.audit"
    lineage: TOPIC = "streamsec.lineage"
    subject: str | None = Field(
        default=None, description="path of the data-subject id, for per-subject keys"
    )
    fields: dict[str, FieldRule] = Field(default_factory=dict)
    policy: Policy = Field(default_factory=Policy)
    classification: dict[str, ClassificationOverride] = Field(default_factory=dict)
    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    roles: dict[str, RoleGrant] = Field(default_factory=dict)
    key_separation: Literal["none", "category", "role"] = Field(
        default="none",
        description="category: each category's fields are encrypted under data keys wrapped "
        "by a KEK of that category's own (pii, phi, pci, financial, credentials; "
        "'unclassified' for a field with no category), so a holder of one KEK cannot "
        "decrypt another category's fields. role: each field's data key is wrapped by the "
        "KEK of every role the 'roles:' grant it (role-<name>) and by the 'all' KEK of the "
        "workers, so a role's KEK releases exactly the keys of its fields (docs/keys.md)",
    )
    encryption: EncryptionConfig = Field(default_factory=EncryptionConfig, validate_default=True)

    @field_validator("fields", mode="before")
    @classmethod
    def _field_shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: _rule_from_shorthand(v) for k, v in value.items()}
        return value

    @field_validator("fields")
    @classmethod
    def _field_paths_parse(cls, value: dict[str, FieldRule]) -> dict[str, FieldRule]:
        for path in value:
            parse_path(path)
        return value

    @field_validator("subject")
    @classmethod
    def _subject_parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_path(value)
        return value

    @field_validator("encryption")
    @classmethod
    def _subject_choices(cls, value: EncryptionConfig, info: ValidationInfo) -> EncryptionConfig:
        subject = info.data.get("subject")
        if subject is not None and value.missing_subject is None:
            raise ValueError(
                "missing_subject is required when 'subject' is set: 'dead_letter' (records "
                "without a subject value go to the dead-letter topic) or 'shared' (they are "
                "encrypted under the topology's shared keys)"
            )
        if subject is None and value.missing_subject is not None:
            raise ValueError("missing_subject needs 'subject'")
        if value.record_id is not None and value.record_id == subject:
            raise ValueError("record_id must differ from 'subject'")
        return value

    @field_validator("roles")
    @classmethod
    def _roles_named(cls, value: dict[str, RoleGrant]) -> dict[str, RoleGrant]:
        if "all" in value:
            raise ValueError("'all' is reserved (decrypt --as all): name the role otherwise")
        return value

    @model_validator(mode="after")
    def _role_keks_named(self) -> Topology:
        if self.key_separation != "role":
            return self
        bad = [r for r in self.roles if not re.fullmatch(ROLE_NAME_PATTERN, r)]
        if bad:
            raise ValueError(
                f"roles: {bad[0]!r} cannot name a KEK (key_separation: role): use 1-27 "
                "lowercase letters, digits, '-' or '_', starting with a letter"
            )
        return self

    @model_validator(mode="after")
    def _topics_distinct(self) -> Topology:
        if self.output == self.input:
            raise ValueError("output must differ from input")
        if self.dead_letter_topic in (self.output, self.audit, self.lineage):
            raise ValueError("dead_letter must not be the output, audit or lineage topic")
        return self

    @property
    def dead_letter_topic(self) -> str:
        return self.dead_letter or f"{self.input}.dead-letter"

    def field_patterns(self) -> list[tuple[tuple[Segment, ...], str, FieldRule]]:
        """Field rules as parsed patterns, most specific (longest) first."""
        parsed = [(parse_path(p), p, r) for p, r in self.fields.items()]
        return sorted(parsed, key=lambda item: -len(item[0]))
