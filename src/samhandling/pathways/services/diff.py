"""What changed between two versions of a pathway document, field by field, word by word.

A document is flattened into labelled fields ("Phase: Referral › Step: Talk with the GP ›
body (nynorsk)"); fields are matched by their place in the document (step key, field name,
language), not by position, so moving text between steps or adding a step does not mark
every later field as changed. The word-level diff escapes the text first and only then adds
<ins>/<del>, so text an editor typed is never read as HTML.
"""

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from samhandling.directory.models import Level
from samhandling.pathways.services.content import (
    CHECKLIST_SECTIONS,
    LANGUAGES,
    STEP_TEXT_FIELDS,
    phase_labels,
)

_TOKENS = re.compile(r"\w+|\s+|[^\w\s]+")
_WORDS = re.compile(r"\w+")
SEPARATOR = " › "


@dataclass(frozen=True)
class Field:
    """One comparable value of a document: where it is, its label, its text."""

    key: tuple[str, ...]
    label: str
    text: str
    step: str | None = None  # the key of the step it belongs to, if any


@dataclass(frozen=True)
class StepRef:
    key: str
    label: str


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str

    @property
    def html(self) -> SafeString:
        return word_diff(self.before, self.after)


@dataclass
class Diff:
    changes: list[FieldChange] = field(default_factory=list)
    added_steps: list[StepRef] = field(default_factory=list)
    removed_steps: list[StepRef] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes or self.added_steps or self.removed_steps)

    @property
    def changed_labels(self) -> list[str]:
        return [change.label for change in self.changes]


# --- labels -----------------------------------------------------------------------------


def _language_label(language: str) -> str:
    return _("bokmål") if language == "nb" else _("nynorsk")


def _field_names() -> dict[str, str]:
    return {
        "title": _("title"),
        "target_group": _("target group"),
        "summary": _("summary"),
        "body": _("body"),
        "role": _("who does it"),
        "level": _("level"),
        "tools": _("tools"),
        "services": _("linked services"),
        "pinned": _("pinned services"),
        "note": _("local note"),
        "after": _("placed after"),
        "phase": _("phase"),
    }


def _with_language(name: str, language: str) -> str:
    return _("%(field)s (%(language)s)") % {"field": name, "language": _language_label(language)}


def _join(*parts: str) -> str:
    return SEPARATOR.join(p for p in parts if p)


def _first_text(value: Any) -> str:
    """The bokmål text of a {"nb", "nn"} object, else the nynorsk one."""
    if not isinstance(value, dict):
        return ""
    return str(value.get("nb") or value.get("nn") or "")


def _phase_part(kind: str) -> str:
    return _("Phase: %(phase)s") % {"phase": phase_labels().get(kind, kind)}


def _step_part(step: dict[str, Any], *, local: bool = False) -> str:
    title = _first_text(step.get("title")) or str(step.get("key", ""))
    if local:
        return _("Local step: %(title)s") % {"title": title}
    return _("Step: %(title)s") % {"title": title}


def _level_label(value: Any) -> str:
    return str(dict(Level.choices).get(value, value or ""))


def _services_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        parts = [_level_label(value.get("level"))]
        if value.get("needs"):
            parts.append(", ".join(value["needs"]))
        return "; ".join(p for p in parts if p)
    return ""


# --- flattening -------------------------------------------------------------------------


def _texts(
    key: tuple[str, ...], prefix: str, name: str, value: Any, step: str | None = None
) -> list[Field]:
    value = value if isinstance(value, dict) else {}
    return [
        Field(
            (*key, language),
            _join(prefix, _with_language(name, language)),
            str(value.get(language) or ""),
            step,
        )
        for language in LANGUAGES
    ]


def _tools(key: tuple[str, ...], prefix: str, tools: Any, step: str | None) -> list[Field]:
    tools = tools if isinstance(tools, list) else []
    names = _field_names()
    return [
        Field(
            (*key, language),
            _join(prefix, _with_language(names["tools"], language)),
            "; ".join(str(t.get(language) or "") for t in tools if isinstance(t, dict)),
            step,
        )
        for language in LANGUAGES
    ]


def _step_fields(
    key: tuple[str, ...], prefix: str, step: dict[str, Any], step_key: str | None
) -> list[Field]:
    names = _field_names()
    fields: list[Field] = []
    for name in STEP_TEXT_FIELDS:
        if name in step:
            fields += _texts((*key, name), prefix, names[name], step[name], step_key)
    if "level" in step:
        fields.append(
            Field(
                (*key, "level"),
                _join(prefix, names["level"]),
                _level_label(step["level"]),
                step_key,
            )
        )
    if "tools" in step:
        fields += _tools((*key, "tools"), prefix, step["tools"], step_key)
    if "services" in step:
        label = names["pinned"] if isinstance(step["services"], list) else names["services"]
        fields.append(
            Field(
                (*key, "services"),
                _join(prefix, label),
                _services_text(step["services"]),
                step_key,
            )
        )
    return fields


def is_adaptation(document: Any) -> bool:
    return isinstance(document, dict) and "phases" not in document


def _flatten_base(document: dict[str, Any]) -> tuple[list[Field], dict[str, StepRef]]:
    names = _field_names()
    fields: list[Field] = []
    for name in ("title", "target_group", "summary"):
        fields += _texts((name,), "", names[name].capitalize(), document.get(name))
    fields.append(
        Field(
            ("ages",),
            _("Age range"),
            f"{document.get('age_min', '')}–{document.get('age_max', '')}",
        )
    )
    fields.append(Field(("needs",), _("Needs"), ", ".join(document.get("needs", []))))
    fields.append(
        Field(
            ("revision_months",),
            _("Months between revisions"),
            str(document.get("revision_months", 12)),
        )
    )
    steps: dict[str, StepRef] = {}
    for phase in document.get("phases", []):
        kind = str(phase.get("kind", ""))
        phase_part = _phase_part(kind)
        fields += _texts(("phase", kind, "title"), phase_part, names["title"], phase.get("title"))
        for step in phase.get("steps", []):
            step_key = str(step.get("key", ""))
            prefix = _join(phase_part, _step_part(step))
            steps[step_key] = StepRef(step_key, prefix)
            fields += _step_fields(("step", step_key), prefix, step, step_key)
    checklist = document.get("checklist", {})
    section_names = checklist_section_labels()
    for section in CHECKLIST_SECTIONS:
        for item in checklist.get(section, []) if isinstance(checklist, dict) else []:
            item_key = str(item.get("key", ""))
            prefix = _join(_("Referral checklist"), section_names[section])
            fields += _texts(("checklist", section, item_key), prefix, item_key, item.get("text"))
    return fields, steps


def _flatten_adaptation(
    document: dict[str, Any], base: dict[str, Any] | None
) -> tuple[list[Field], dict[str, StepRef]]:
    names = _field_names()
    base_steps: dict[str, tuple[str, dict[str, Any]]] = {}
    for phase in (base or {}).get("phases", []):
        for step in phase.get("steps", []):
            base_steps[step["key"]] = (phase["kind"], step)
    fields = _texts(("note",), "", names["note"].capitalize(), document.get("note"))
    for step_key, override in (document.get("steps") or {}).items():
        kind, base_step = base_steps.get(step_key, ("", {"key": step_key}))
        prefix = _join(_phase_part(kind) if kind else "", _step_part(base_step))
        prefix = _join(prefix, _("local text"))
        if isinstance(override, dict):
            fields += _step_fields(("override", step_key), prefix, override, None)
    steps: dict[str, StepRef] = {}
    for entry in document.get("added_steps") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("step"), dict):
            continue
        step = entry["step"]
        step_key = str(step.get("key", ""))
        prefix = _join(_phase_part(str(entry.get("phase", ""))), _step_part(step, local=True))
        steps[step_key] = StepRef(step_key, prefix)
        after = entry.get("after")
        after_title = _first_text(base_steps.get(after, ("", {}))[1].get("title")) or after or ""
        where = _join(prefix, names["after"])
        fields.append(Field(("added", step_key, "after"), where, after_title, step_key))
        fields += _step_fields(("added", step_key), prefix, step, step_key)
    return fields, steps


def flatten(
    document: dict[str, Any], *, base: dict[str, Any] | None = None
) -> tuple[list[Field], dict[str, StepRef]]:
    """The labelled fields of a document and its steps by key (added steps for adaptations).

    `base` is the base document an adaptation adapts, for the labels of overridden steps.
    """
    if is_adaptation(document):
        return _flatten_adaptation(document, base)
    return _flatten_base(document)


def checklist_section_labels() -> dict[str, str]:
    return {
        "required_information": _("Required information"),
        "measures_tried": _("Measures tried"),
        "attachments": _("Attachments"),
        "urgent_signs": _("Signs of urgency"),
    }


# --- comparing --------------------------------------------------------------------------


def _trivial(text: str) -> bool:
    """Whitespace, punctuation or one short word: too little to show as unchanged on its own."""
    words = _WORDS.findall(text)
    return len(words) <= 1 and len(text.strip()) <= 4


def _segments(before: str, after: str) -> list[tuple[bool, str, str]]:
    """(changed?, old text, new text) runs; a trivial unchanged run between two changes is
    folded into them, so a rewritten sentence reads as one change, not word-by-word confetti.
    """
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    runs: list[list[Any]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        changed, old_text, new_text = op != "equal", "".join(old[i1:i2]), "".join(new[j1:j2])
        if changed and len(runs) >= 2 and not runs[-1][0] and runs[-2][0] and _trivial(runs[-1][1]):
            _same, kept, _kept = runs.pop()
            runs[-1][1] += kept + old_text
            runs[-1][2] += kept + new_text
        elif changed and runs and runs[-1][0]:
            runs[-1][1] += old_text
            runs[-1][2] += new_text
        else:
            runs.append([changed, old_text, new_text])
    return [(changed, old_text, new_text) for changed, old_text, new_text in runs]


def word_diff(before: str, after: str) -> SafeString:
    """The text after the change, with removed words in <del> and added words in <ins>.

    Each piece is escaped before any markup is added. A hidden word before each change tells
    screen-reader users what the strike-through and underline show.
    """
    removed = escape(_("removed:"))
    added = escape(_("added:"))
    out: list[str] = []
    for changed, old_text, new_text in _segments(before, after):
        if not changed:
            out.append(escape(new_text))
            continue
        if old_text:
            out.append(
                f'<del><span class="visually-hidden">{removed} </span>{escape(old_text)}</del>'
            )
        if new_text:
            out.append(
                f'<ins><span class="visually-hidden">{added} </span>{escape(new_text)}</ins>'
            )
    return mark_safe("".join(out))  # noqa: S308 — every piece above is escaped


def document_diff(
    before: dict[str, Any] | None,
    after: dict[str, Any],
    *,
    base: dict[str, Any] | None = None,
) -> Diff:
    """Field changes, added and removed steps from `before` (None: an empty document) to `after`.

    Fields of added or removed steps are not listed as changes: the step is listed instead.
    """
    new_fields, new_steps = flatten(after, base=base)
    if before is None:
        old_fields: list[Field] = []
        old_steps: dict[str, StepRef] = {}
    else:
        old_fields, old_steps = flatten(before, base=base)
    added = [ref for key, ref in new_steps.items() if key not in old_steps]
    removed = [ref for key, ref in old_steps.items() if key not in new_steps]
    gone = {ref.key for ref in added} | {ref.key for ref in removed}
    old_by_key = {f.key: f for f in old_fields}
    new_keys = {f.key for f in new_fields}
    changes: list[FieldChange] = []
    for new in new_fields:
        if new.step in gone:
            continue
        old = old_by_key.get(new.key)
        before_text = old.text if old else ""
        if before_text != new.text:
            changes.append(FieldChange(new.label, before_text, new.text))
    for old in old_fields:
        if old.key not in new_keys and old.step not in gone and old.text:
            changes.append(FieldChange(old.label, old.text, ""))
    return Diff(changes=changes, added_steps=added, removed_steps=removed)
