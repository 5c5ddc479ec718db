"""What changed in desired launch settings between two versions of a plan, one line per field.

Part of ``domain.plan.diff``: the plan's settings are described as "launch settings defaults
instance_type: 'm5.large' -> 'r5.large'", a group's inside its group's lines. An override is compared
whole, by its position and selector, since the operator reads it as one rule; the defaults' CIDR table
and tags to add row by row.
"""

from __future__ import annotations

from drs_desktop.domain.launch.model import LaunchSettings, Override
from drs_desktop.domain.plan.document_launch import fields_to_document


def launch_lines(old: LaunchSettings, new: LaunchSettings) -> list[str]:
    """One line per field or override that differs; none when the settings are equal."""
    before, after = _flatten(old), _flatten(new)
    lines: list[str] = []
    for key, text in before.items():
        if key not in after:
            lines.append(f"launch settings {key} removed (was {text})")
        elif after[key] != text:
            lines.append(f"launch settings {key}: {text} -> {after[key]}")
    lines += [f"launch settings {key} added: {text}" for key, text in after.items() if key not in before]
    if not lines and old != new:  # the same text for different values: never say "no change"
        lines.append("launch settings changed")
    return lines


def _flatten(settings: LaunchSettings) -> dict[str, str]:
    """Label -> text; a CIDR table and tags to add one entry per row or key, so a long table's change is
    named where it is."""
    flat: dict[str, str] = {}
    for name, value in fields_to_document(settings.defaults).items():
        if name == "subnet" and isinstance(value, dict):
            flat.update(
                {f"defaults subnet by_ip {cidr}": repr(subnet) for cidr, subnet in value["by_ip"].items()}
            )
        elif name == "add_tags":
            flat.update({f"defaults add_tags {key!r}": repr(text) for key, text in value.items()})
        else:
            flat[f"defaults {name}"] = _shown(value)
    for index, override in enumerate(settings.overrides):
        flat[f"override {index + 1} ({_selector(override)})"] = ", ".join(
            f"{name}={_shown(value)}" for name, value in fields_to_document(override.settings).items()
        )
    return flat


def _selector(override: Override) -> str:
    if override.tags is not None:
        return "tags " + ", ".join(f"{k}={v}" for k, v in override.tags.items())
    return "servers " + ", ".join(override.servers)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = "[" + ", ".join(str(item) for item in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    else:
        text = repr(value) if isinstance(value, str) else str(value)
    return text
