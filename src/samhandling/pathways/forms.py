"""Editor forms for pathways: a draft form generated from the document, scopes, feedback.

The draft forms only collect what the editor typed and build the new document from it; the
rules of the document are checked once, by services.content when the draft is saved, and
the problems it names are shown next to the fields they are about.
"""

import copy
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from samhandling.core.models import Municipality, OrganisationUnit, UnitKind
from samhandling.core.services import slug_norwegian
from samhandling.directory.models import Level, Service
from samhandling.directory.services.demo import demo_service_code
from samhandling.pathways.models import FeedbackRound, Pathway, PathwayVersion, ScopeKind, Verdict
from samhandling.pathways.services.content import (
    CHECKLIST_SECTIONS,
    LANGUAGES,
    PHASE_KINDS,
    STEP_TEXT_FIELDS,
    TEXT_MAX,
    phase_labels,
)
from samhandling.pathways.services.feedback import editor_partnerships, pathway_titles
from samhandling.pathways.services.workflow import published_pathways

CHANGE_NOTE_MAX = 2000
CHECKBOX_LIMIT = 60
LANGUAGE_LABELS = {"nb": _("bokmål"), "nn": _("nynorsk")}
_PROBLEM = re.compile(r"^(?P<path>[^:]+): (?P<message>.*)$", re.DOTALL)
_SERVICE_SPLIT = re.compile(r"[\s,;]+")
_DEMO_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# The same source strings as the public page and the PDF (views_public, services.pdf).
CHECKLIST_LABELS = {
    "required_information": _("Information the referral needs"),
    "measures_tried": _("Measures to try first"),
    "attachments": _("Attachments"),
    "urgent_signs": _("Urgent signs: act at once"),
}


class PlainTextField(forms.CharField):
    """Text as typed, with the browser's CRLF line breaks made plain LF."""

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return text.replace("\r\n", "\n").replace("\r", "\n")


def _text_widget(kind: str, language: str) -> forms.Widget:
    # lang on the field: spell checkers and screen readers use the right language.
    attrs = {"maxlength": TEXT_MAX, "lang": language}
    if kind == "line":
        return forms.TextInput(attrs=attrs)
    return forms.Textarea(attrs={**attrs, "rows": 2 if kind == "short" else 4})


@dataclass
class Pair:
    """A text in bokmål and nynorsk, shown side by side; `base` is the text it replaces."""

    label: str
    nb: forms.BoundField
    nn: forms.BoundField
    base: dict[str, str] | None = None

    @property
    def errors(self) -> bool:
        return bool(self.nb.errors or self.nn.errors)


class DraftForm(forms.Form):
    """The parts every draft form has: the revision it is based on and the change note."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    change_note = PlainTextField(
        label=_("What changed and why"),
        help_text=_("Shown in the version history and to the editor who publishes."),
        required=False,
        max_length=CHANGE_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": CHANGE_NOTE_MAX}),
    )

    def __init__(self, data: Any = None, *, version: PathwayVersion) -> None:
        initial = {"revision": version.revision, "change_note": version.change_note}
        super().__init__(data, initial=initial, label_suffix="")
        self.version = version
        self.document: dict[str, Any] = copy.deepcopy(version.content)
        self.submitted: dict[str, Any] | None = None

    # --- building -----------------------------------------------------------------------

    def _add_pair(
        self,
        prefix: str,
        label: str,
        value: Any,
        *,
        kind: str = "area",
        help_text: str = "",
        strip: bool = True,
    ) -> None:
        value = value if isinstance(value, dict) else {}
        for language in LANGUAGES:
            name = f"{prefix}__{language}"
            self.fields[name] = PlainTextField(
                label=f"{label} ({LANGUAGE_LABELS[language]})",
                required=False,
                strip=strip,
                max_length=TEXT_MAX,
                widget=_text_widget(kind, language),
                help_text=help_text,
            )
            self.initial[name] = str(value.get(language) or "")

    def pair(self, prefix: str, label: str = "", base: Any = None) -> Pair:
        base_texts = None
        if isinstance(base, dict):
            base_texts = {lang: str(base.get(lang) or "") for lang in LANGUAGES}
        return Pair(label, self[f"{prefix}__nb"], self[f"{prefix}__nn"], base_texts)

    def _step_group(self, step: dict[str, Any], prefix: str) -> dict[str, Any]:
        """The fields of one step for the template: its texts side by side and its level."""
        return {
            "key": step["key"],
            "title": _first(step.get("title")) or step["key"],
            "pairs": [
                self.pair(f"{prefix}__title", str(_("Title"))),
                self.pair(f"{prefix}__body", str(_("What is done"))),
                self.pair(f"{prefix}__role", str(_("Who does it"))),
            ],
            "level": self[f"{prefix}__level"],
        }

    def _level_field(self, name: str, value: Any, *, blank: bool = False) -> None:
        choices = list(Level.choices)
        if blank:
            choices = [("", _("Choose a level")), *choices]
        self.fields[name] = forms.ChoiceField(
            label=_("Level in the intervention pyramid"), choices=choices, required=not blank
        )
        self.initial[name] = value or ""

    # --- reading ------------------------------------------------------------------------

    def text_value(self, prefix: str) -> dict[str, str]:
        return {lang: self.cleaned_data.get(f"{prefix}__{lang}", "") for lang in LANGUAGES}

    def has_text(self, prefix: str) -> bool:
        return any(self.text_value(prefix).values())

    def content(self) -> dict[str, Any]:
        raise NotImplementedError

    def change_note_value(self) -> str:
        return self.cleaned_data.get("change_note", "")

    # --- problems, for the list above the form -------------------------------------------

    def step_titles(self) -> dict[str, str]:
        """Step key → title, to say which step a field with a problem belongs to."""
        return {}

    def error_items(self) -> list[dict[str, str]]:
        """Every field problem with the step it is in: "Step › Field: problem"."""
        titles = self.step_titles()
        items = []
        for name, errors in self.errors.items():
            if name == "__all__" or name not in self.fields:
                continue
            where = self.error_place(name.split("__"), titles)
            label = str(self.fields[name].label)
            for error in errors:
                text = f"{where} › {label}: {error}" if where else f"{label}: {error}"
                items.append({"id": self[name].id_for_label, "text": text})
        return items

    def error_place(self, parts: list[str], titles: dict[str, str]) -> str:
        """The part of the form a field (its name split at "__") is in, or ""."""
        if parts[0] == "new":
            return str(_("New local step"))
        if parts[0] in ("step", "ovr", "add") and len(parts) > 1:
            return titles.get(parts[1], parts[1])
        return ""

    # --- problems from the services -----------------------------------------------------

    def field_for(self, path: str) -> str | None:
        """The form field a problem's place (`phases[1].steps[0].body.nn`) is about."""
        return None

    def attach_problems(self, problems: list[str]) -> None:
        """Show each ContentError problem next to its field, or above the form."""
        for problem in problems:
            match = _PROBLEM.match(problem)
            name = self.field_for(match["path"]) if match else None
            if name is not None and name in self.fields:
                self.add_error(name, match["message"])
            else:
                self.add_error(None, problem)


# --- the base text ----------------------------------------------------------------------

_BASE_TOP = re.compile(r"^(?P<name>title|target_group|summary)(?:\.(?P<lang>nb|nn))?$")
_BASE_STEP = re.compile(
    r"^phases\[(?P<p>\d+)\]\.steps\[(?P<s>\d+)\]\.(?P<name>title|body|role|level|tools)"
    r"(?:\[\d+\])?(?:\.(?P<lang>nb|nn))?$"
)
_BASE_CHECKLIST = re.compile(
    r"^checklist\.(?P<section>[a-z_]+)\[(?P<i>\d+)\](?:\.(?:text|key))?(?:\.(?P<lang>nb|nn))?$"
)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n")]


def _unique_key(text: str, taken: set[str], fallback: str) -> str:
    """A slug of `text` (æ, ø, å spelt out) that is not in `taken`."""
    stem = slug_norwegian(text).replace("_", "-")
    stem = re.sub(r"-{2,}", "-", stem)[:60].strip("-") or fallback
    key, n = stem, 2
    while key in taken:
        key, n = f"{stem}-{n}", n + 1
    return key


class BaseDraftForm(DraftForm):
    """The national text: title, target group, summary, ages, every step, the checklist."""

    age_min = forms.IntegerField(label=_("Youngest age"), min_value=0, max_value=120)
    age_max = forms.IntegerField(label=_("Oldest age"), min_value=0, max_value=120)

    def __init__(self, data: Any = None, *, version: PathwayVersion) -> None:
        super().__init__(data, version=version)
        doc = self.document
        self._add_pair("title", str(_("Title")), doc.get("title"), kind="line")
        self._add_pair("target_group", str(_("Target group")), doc.get("target_group"))
        self._add_pair("summary", str(_("Summary")), doc.get("summary"))
        self.initial["age_min"] = doc.get("age_min")
        self.initial["age_max"] = doc.get("age_max")
        for phase in doc.get("phases", []):
            for step in phase.get("steps", []):
                prefix = f"step__{step['key']}"
                self._add_pair(f"{prefix}__title", str(_("Title")), step.get("title"), kind="line")
                self._add_pair(f"{prefix}__body", str(_("What is done")), step.get("body"))
                self._add_pair(
                    f"{prefix}__role", str(_("Who does it")), step.get("role"), kind="line"
                )
                self._level_field(f"{prefix}__level", step.get("level"))
                # Leading blank lines hold a place too (a tool only in the other language).
                self._add_pair(
                    f"{prefix}__tools",
                    str(_("Tools and methods")),
                    _tool_lines(step.get("tools")),
                    help_text=str(
                        _(
                            "One per line. The same line in bokmål and nynorsk is the same "
                            "tool; leave a line empty where a tool has no text in that language."
                        )
                    ),
                    strip=False,
                )
        for section in CHECKLIST_SECTIONS:
            for number, item in enumerate(self.checklist_items(section), start=1):
                prefix = f"cl__{section}__item__{item['key']}"
                label = str(_("Item %(number)d") % {"number": number})
                self._add_pair(prefix, label, item.get("text"), kind="short")
                self.fields[f"{prefix}__remove"] = forms.BooleanField(
                    label=_("Remove item %(number)d") % {"number": number}, required=False
                )
            self._add_pair(f"cl__{section}__new", str(_("New item")), None, kind="short")

    def checklist_items(self, section: str) -> list[dict[str, Any]]:
        """The items of a section of the stored checklist that can be edited, by key."""
        checklist = self.document.get("checklist")
        items = checklist.get(section) if isinstance(checklist, dict) else None
        result: dict[str, dict[str, Any]] = {}
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                result.setdefault(item["key"], item)
        return list(result.values())

    def step_titles(self) -> dict[str, str]:
        return {
            step["key"]: _first(step.get("title")) or step["key"]
            for phase in self.document.get("phases", [])
            for step in phase.get("steps", [])
        }

    def error_place(self, parts: list[str], titles: dict[str, str]) -> str:
        if parts[0] == "cl" and len(parts) > 1:
            return str(CHECKLIST_LABELS.get(parts[1], parts[1]))
        return super().error_place(parts, titles)

    def general(self) -> list[Pair]:
        return [
            self.pair("title", str(_("Title"))),
            self.pair("target_group", str(_("Target group"))),
            self.pair("summary", str(_("Summary"))),
        ]

    def phases(self) -> list[dict[str, Any]]:
        labels = phase_labels()
        result = []
        for phase in self.document.get("phases", []):
            steps = []
            for step in phase.get("steps", []):
                prefix = f"step__{step['key']}"
                group = self._step_group(step, prefix)
                group["pairs"].append(self.pair(f"{prefix}__tools", str(_("Tools and methods"))))
                steps.append(group)
            result.append({"kind": phase["kind"], "label": labels[phase["kind"]], "steps": steps})
        return result

    def checklist(self) -> list[dict[str, Any]]:
        """Per section: its title, a text pair and a remove box per item, and a new pair."""
        result = []
        for section in CHECKLIST_SECTIONS:
            items = []
            for number, item in enumerate(self.checklist_items(section), start=1):
                prefix = f"cl__{section}__item__{item['key']}"
                items.append(
                    {
                        "key": item["key"],
                        "pair": self.pair(prefix, str(_("Item %(number)d") % {"number": number})),
                        "remove": self[f"{prefix}__remove"],
                    }
                )
            result.append(
                {
                    "section": section,
                    "label": CHECKLIST_LABELS[section],
                    "items": items,
                    "new": self.pair(f"cl__{section}__new", str(_("New item"))),
                }
            )
        return result

    def _tools_value(self, prefix: str) -> list[dict[str, str]]:
        """Line n of the bokmål and line n of the nynorsk field are one tool."""
        lines = {lang: _lines(self.cleaned_data.get(f"{prefix}__{lang}", "")) for lang in LANGUAGES}
        count = max(len(found) for found in lines.values())
        tools = []
        for index in range(count):
            tool = {
                lang: found[index] if index < len(found) else "" for lang, found in lines.items()
            }
            if any(tool.values()):
                tools.append(tool)
        return tools

    def _checklist_value(self, checklist: dict[str, Any]) -> None:
        """Edited texts, removed items and new items, in place; keys of items never change."""
        for section in CHECKLIST_SECTIONS:
            items = checklist.get(section, [])
            if not isinstance(items, list):
                continue  # the check names it
            editable = {item["key"] for item in self.checklist_items(section)}
            taken = set(editable)
            kept = []
            for item in items:
                key = item.get("key") if isinstance(item, dict) else None
                if key not in editable:
                    kept.append(item)  # not editable here: kept for the check to name
                    continue
                editable.discard(key)  # a second item with the same key is kept as it is
                prefix = f"cl__{section}__item__{key}"
                if not self.cleaned_data.get(f"{prefix}__remove"):
                    kept.append({**item, "text": self.text_value(prefix)})
            prefix = f"cl__{section}__new"
            if self.has_text(prefix):
                text = self.text_value(prefix)
                taken |= {i["key"] for i in kept if isinstance(i, dict) and "key" in i}
                key = _unique_key(text["nb"] or text["nn"], taken, "item")
                kept.append({"key": key, "text": text})
            checklist[section] = kept

    def content(self) -> dict[str, Any]:
        doc = copy.deepcopy(self.document)
        for name in ("title", "target_group", "summary"):
            doc[name] = self.text_value(name)
        doc["age_min"] = self.cleaned_data["age_min"]
        doc["age_max"] = self.cleaned_data["age_max"]
        for phase in doc.get("phases", []):
            for step in phase.get("steps", []):
                prefix = f"step__{step['key']}"
                for name in STEP_TEXT_FIELDS:
                    step[name] = self.text_value(f"{prefix}__{name}")
                step["level"] = self.cleaned_data[f"{prefix}__level"]
                step["tools"] = self._tools_value(f"{prefix}__tools")
        if isinstance(doc.get("checklist"), dict):
            self._checklist_value(doc["checklist"])
        self.submitted = doc
        return doc

    def field_for(self, path: str) -> str | None:
        if path == "age_min/age_max":
            return "age_max"
        if match := _BASE_TOP.match(path):
            return f"{match['name']}__{match['lang'] or 'nb'}"
        if match := _BASE_STEP.match(path):
            try:
                phase = (self.submitted or self.document)["phases"][int(match["p"])]
                key = phase["steps"][int(match["s"])]["key"]
            except (KeyError, IndexError, TypeError):
                return None
            if match["name"] == "level":
                return f"step__{key}__level"
            return f"step__{key}__{match['name']}__{match['lang'] or 'nb'}"
        if match := _BASE_CHECKLIST.match(path):
            section = match["section"]
            try:
                item = (self.submitted or self.document)["checklist"][section][int(match["i"])]
                key = item["key"]
            except (KeyError, IndexError, TypeError):
                return None
            editable = {i["key"] for i in self.checklist_items(section)}
            prefix = f"cl__{section}__item__{key}" if key in editable else f"cl__{section}__new"
            return f"{prefix}__{match['lang'] or 'nb'}"
        return None


def _tool_lines(tools: Any) -> dict[str, str]:
    """A step's tools as one text per language, a tool per line."""
    tools = [t for t in tools if isinstance(t, dict)] if isinstance(tools, list) else []
    return {lang: "\n".join(str(t.get(lang) or "") for t in tools) for lang in LANGUAGES}


# --- a local adaptation -----------------------------------------------------------------

_ADAPT_NOTE = re.compile(r"^note(?:\.(?P<lang>nb|nn))?$")
_ADAPT_OVERRIDE = re.compile(
    r"^steps\.(?P<key>[^.]+)\.(?P<name>title|body|role|services)(?:\.(?P<lang>nb|nn))?$"
)
_ADAPT_ADDED = re.compile(
    r"^added_steps\[(?P<i>\d+)\](?:\.step)?\.(?P<name>title|body|role|level|key|after|phase)"
    r"(?:\.(?P<lang>nb|nn))?$"
)


def _first(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    return str(value.get("nb") or value.get("nn") or "")


def parse_service_references(text: str) -> tuple[list[str], list[str]]:
    """Service codes (UUIDs) or demo keys typed in a field → (known ones, unknown ones)."""
    references = [r for r in _SERVICE_SPLIT.split(text.strip()) if r]
    codes: dict[str, uuid.UUID] = {}
    unknown: list[str] = []
    for reference in references:
        try:
            codes[reference] = uuid.UUID(reference)
        except ValueError:
            if _DEMO_KEY.match(reference):
                codes[reference] = demo_service_code(reference)
            else:
                unknown.append(reference)
    existing = set(Service.objects.filter(code__in=codes.values()).values_list("code", flat=True))
    known = []
    for reference, code in codes.items():
        (known if code in existing else unknown).append(reference)
    order = {r: i for i, r in enumerate(references)}
    return sorted(dict.fromkeys(known), key=order.get), unknown


class AdaptationDraftForm(DraftForm):
    """A local adaptation: a note, local texts for base steps, and local steps."""

    def __init__(
        self, data: Any = None, *, version: PathwayVersion, base: dict[str, Any] | None
    ) -> None:
        super().__init__(data, version=version)
        self.base = base or {"phases": []}
        doc = self.document
        overrides = doc.get("steps") or {}
        self._add_pair(
            "note",
            str(_("Local note")),
            doc.get("note"),
            help_text=str(_("Shown at the top of the local version: what is different here.")),
        )
        for _kind, step in self.base_steps():
            prefix = f"ovr__{step['key']}"
            override = overrides.get(step["key"]) or {}
            self._add_pair(
                f"{prefix}__title", str(_("Local title")), override.get("title"), kind="line"
            )
            self._add_pair(f"{prefix}__body", str(_("Local text")), override.get("body"))
            self._add_pair(
                f"{prefix}__role", str(_("Local: who does it")), override.get("role"), kind="line"
            )
            services = override.get("services") if isinstance(override, dict) else None
            self.fields[f"{prefix}__services"] = forms.CharField(
                label=_("Pinned services"),
                help_text=_(
                    "Service codes, separated by spaces. Empty: services are found in the "
                    "directory for the municipality."
                ),
                required=False,
                max_length=2000,
            )
            self.initial[f"{prefix}__services"] = " ".join(services or [])
        for entry in self.added_entries():
            step = entry["step"]
            prefix = f"add__{step['key']}"
            self._add_pair(f"{prefix}__title", str(_("Title")), step.get("title"), kind="line")
            self._add_pair(f"{prefix}__body", str(_("What is done")), step.get("body"))
            self._add_pair(f"{prefix}__role", str(_("Who does it")), step.get("role"), kind="line")
            self._level_field(f"{prefix}__level", step.get("level"))
            self.fields[f"{prefix}__remove"] = forms.BooleanField(
                label=_("Remove this local step from the draft"), required=False
            )
        self.fields["new__phase"] = forms.ChoiceField(
            label=_("Phase"),
            choices=[("", _("Choose a phase")), *phase_labels().items()],
            required=False,
        )
        self.fields["new__after"] = forms.ChoiceField(
            label=_("Place it after"),
            choices=self._after_choices(),
            required=False,
        )
        self._add_pair("new__title", str(_("Title")), None, kind="line")
        self._add_pair("new__body", str(_("What is done")), None)
        self._add_pair("new__role", str(_("Who does it")), None, kind="line")
        self._level_field("new__level", "", blank=True)

    def step_titles(self) -> dict[str, str]:
        titles = {step["key"]: _first(step.get("title")) for _kind, step in self.base_steps()}
        for entry in self.added_entries():
            titles[entry["step"]["key"]] = _first(entry["step"].get("title"))
        return {key: title or key for key, title in titles.items()}

    def base_steps(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (phase["kind"], step)
            for phase in self.base.get("phases", [])
            for step in phase.get("steps", [])
        ]

    def added_entries(self) -> list[dict[str, Any]]:
        return [
            entry
            for entry in self.document.get("added_steps") or []
            if isinstance(entry, dict)
            and isinstance(entry.get("step"), dict)
            and isinstance(entry["step"].get("key"), str)
        ]

    def _after_choices(self) -> list[Any]:
        labels = phase_labels()
        grouped: dict[str, list[tuple[str, str]]] = {}
        for kind, step in self.base_steps():
            grouped.setdefault(kind, []).append((step["key"], _first(step["title"])))
        return [
            ("", _("At the end of the phase")),
            *[(labels[kind], grouped[kind]) for kind in PHASE_KINDS if kind in grouped],
        ]

    # --- layout for the template --------------------------------------------------------

    def note(self) -> Pair:
        return self.pair("note", str(_("Local note")))

    def phases(self) -> list[dict[str, Any]]:
        labels = phase_labels()
        by_phase: dict[str, dict[str, Any]] = {
            kind: {"kind": kind, "label": labels[kind], "steps": [], "added": []}
            for kind in PHASE_KINDS
        }
        for kind, step in self.base_steps():
            prefix = f"ovr__{step['key']}"
            by_phase[kind]["steps"].append(
                {
                    "key": step["key"],
                    "title": _first(step.get("title")) or step["key"],
                    "pairs": [
                        self.pair(f"{prefix}__title", str(_("Title")), step.get("title")),
                        self.pair(f"{prefix}__body", str(_("What is done")), step.get("body")),
                        self.pair(f"{prefix}__role", str(_("Who does it")), step.get("role")),
                    ],
                    "services": self[f"{prefix}__services"],
                    "overridden": bool((self.document.get("steps") or {}).get(step["key"])),
                    "has_errors": self.is_bound
                    and any(n.startswith(f"{prefix}__") for n in self.errors),
                }
            )
        for entry in self.added_entries():
            step = entry["step"]
            prefix = f"add__{step['key']}"
            target = by_phase.get(entry.get("phase"))
            if target is None:
                continue
            target["added"].append(
                {**self._step_group(step, prefix), "remove": self[f"{prefix}__remove"]}
            )
        return [by_phase[kind] for kind in PHASE_KINDS]

    def new_step(self) -> dict[str, Any]:
        return {
            "phase": self["new__phase"],
            "after": self["new__after"],
            "pairs": [
                self.pair("new__title", str(_("Title"))),
                self.pair("new__body", str(_("What is done"))),
                self.pair("new__role", str(_("Who does it"))),
            ],
            "level": self["new__level"],
        }

    # --- validation and the document ----------------------------------------------------

    def _wants_new_step(self) -> bool:
        return any(self.has_text(f"new__{name}") for name in STEP_TEXT_FIELDS)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.services: dict[str, list[str]] = {}
        for _kind, step in self.base_steps():
            name = f"ovr__{step['key']}__services"
            known, unknown = parse_service_references(data.get(name, "") or "")
            if unknown:
                self.add_error(
                    name,
                    _("No service with the code %(codes)s.") % {"codes": ", ".join(unknown)},
                )
            self.services[step["key"]] = known
        if self._wants_new_step():
            phase, after = data.get("new__phase"), data.get("new__after")
            if not phase:
                self.add_error("new__phase", _("Choose the phase the local step belongs to."))
            if not data.get("new__level"):
                self.add_error("new__level", _("Choose the level of the local step."))
            if not self.has_text("new__title"):
                self.add_error("new__title__nb", _("Give the local step a title."))
            phases_of = {step["key"]: kind for kind, step in self.base_steps()}
            if phase and after and phases_of.get(after) != phase:
                self.add_error("new__after", _("Choose a step in the same phase, or none."))
        return data

    def _new_key(self, doc: dict[str, Any]) -> str:
        taken = {step["key"] for _kind, step in self.base_steps()}
        taken |= {e["step"]["key"] for e in doc.get("added_steps", []) if "step" in e}
        title = self.text_value("new__title")
        return _unique_key(f"local {title['nb'] or title['nn']}", taken, "local-step")

    def content(self) -> dict[str, Any]:
        doc = copy.deepcopy(self.document)
        doc.setdefault("pathway", self.version.pathway.slug)
        if self.has_text("note"):
            doc["note"] = self.text_value("note")
        else:
            doc.pop("note", None)
        # Local texts of steps the base no longer has cannot be shown or edited here: they go
        # (the diff before publishing lists them), as does an "after" that points nowhere.
        phases_of = {step["key"]: kind for kind, step in self.base_steps()}
        overrides = {k: v for k, v in (doc.get("steps") or {}).items() if k in phases_of}
        for _kind, step in self.base_steps():
            key, prefix = step["key"], f"ovr__{step['key']}"
            override = dict(overrides.get(key) or {})
            for name in STEP_TEXT_FIELDS:
                if self.has_text(f"{prefix}__{name}"):
                    override[name] = self.text_value(f"{prefix}__{name}")
                else:
                    override.pop(name, None)
            if self.services.get(key):
                override["services"] = self.services[key]
            else:
                override.pop("services", None)
            if override:
                overrides[key] = override
            else:
                overrides.pop(key, None)
        doc["steps"] = overrides
        added = []
        for entry in self.added_entries():
            prefix = f"add__{entry['step']['key']}"
            if self.cleaned_data.get(f"{prefix}__remove"):
                continue
            step = dict(entry["step"])
            for name in STEP_TEXT_FIELDS:
                step[name] = self.text_value(f"{prefix}__{name}")
            step["level"] = self.cleaned_data[f"{prefix}__level"]
            kept = {**entry, "step": step}
            if kept.get("after") is not None and phases_of.get(kept["after"]) != kept["phase"]:
                del kept["after"]
            added.append(kept)
        doc["added_steps"] = added
        if self._wants_new_step():
            entry: dict[str, Any] = {"phase": self.cleaned_data["new__phase"]}
            if self.cleaned_data.get("new__after"):
                entry["after"] = self.cleaned_data["new__after"]
            entry["step"] = {
                "key": self._new_key(doc),
                **{name: self.text_value(f"new__{name}") for name in STEP_TEXT_FIELDS},
                "level": self.cleaned_data["new__level"],
                "tools": [],
            }
            added.append(entry)
        self.submitted = doc
        return doc

    def field_for(self, path: str) -> str | None:
        if match := _ADAPT_NOTE.match(path):
            return f"note__{match['lang'] or 'nb'}"
        if match := _ADAPT_OVERRIDE.match(path):
            if match["name"] == "services":
                return f"ovr__{match['key']}__services"
            return f"ovr__{match['key']}__{match['name']}__{match['lang'] or 'nb'}"
        if match := _ADAPT_ADDED.match(path):
            try:
                entry = (self.submitted or self.document)["added_steps"][int(match["i"])]
                key = entry["step"]["key"]
            except (KeyError, IndexError, TypeError):
                return None
            existing = {e["step"]["key"] for e in self.added_entries()}
            prefix = f"add__{key}" if key in existing else "new"
            name = match["name"]
            if name in ("after", "phase"):
                return f"new__{name}" if prefix == "new" else None
            if name == "key":
                return f"{prefix}__title__nb"
            if name == "level":
                return f"{prefix}__level"
            return f"{prefix}__{name}__{match['lang'] or 'nb'}"
        return None


def draft_form(
    version: PathwayVersion, data: Any = None, *, base: dict[str, Any] | None = None
) -> DraftForm:
    """The edit form for a draft of the base text or of an adaptation."""
    if version.scope == ScopeKind.BASE:
        return BaseDraftForm(data, version=version)
    return AdaptationDraftForm(data, version=version, base=base)


# --- scopes -----------------------------------------------------------------------------


def adaptable_scopes(user: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """The local scopes `user` may adapt, grouped by helsefellesskap, as select choices.

    Values are scope keys: "partnership:<unit code>" or "municipality:<number>".
    """
    groups = []
    for partnership in editor_partnerships(user).prefetch_related("municipalities"):
        whole = _("%(name)s (the whole helsefellesskap)") % {"name": partnership.name}
        options = [(f"partnership:{partnership.code}", str(whole))]
        options += [
            (f"municipality:{m.number}", m.name)
            for m in sorted(partnership.municipalities.all(), key=lambda m: m.name)
        ]
        groups.append((partnership.name, options))
    return groups


def parse_scope(key: str) -> tuple[str, OrganisationUnit | None, Municipality | None] | None:
    """A scope key → (scope, partnership, municipality), or None if it names nothing."""
    key = str(key or "")
    if key in ("", "base"):
        return ScopeKind.BASE, None, None
    kind, _sep, value = key.partition(":")
    if kind == "partnership":
        unit = OrganisationUnit.objects.filter(code=value, kind=UnitKind.PARTNERSHIP).first()
        return (ScopeKind.PARTNERSHIP, unit, None) if unit else None
    if kind == "municipality":
        municipality = Municipality.objects.filter(pk=value).first()
        return (ScopeKind.MUNICIPALITY, None, municipality) if municipality else None
    return None


class ScopeForm(forms.Form):
    """Which scope to start a draft in: the base text, or a place the editor may adapt."""

    scope = forms.ChoiceField(label=_("Adapt for"))

    def __init__(
        self, data: Any = None, *, choices: list[Any], include_base: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(data, label_suffix="", **kwargs)
        first = [("base", _("National base version"))] if include_base else []
        if not include_base:
            first = [("", _("Choose where"))]
        self.fields["scope"].choices = [*first, *choices]

    def scope_args(self) -> dict[str, Any]:
        scope, partnership, municipality = parse_scope(self.cleaned_data["scope"])
        return {"scope": scope, "partnership": partnership, "municipality": municipality}


# --- proposals and feedback -------------------------------------------------------------


class RejectForm(forms.Form):
    reason = PlainTextField(
        label=_("Why is the proposal not taken up?"),
        help_text=_("The person who sent it can read this."),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 4000}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class PublishForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    confirm = forms.BooleanField(
        label=_("I have read the changes, and I want readers to see this version now."),
        error_messages={"required": _("Tick the box to confirm that you have read the changes.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class PathwayChoiceField(forms.ModelMultipleChoiceField):
    titles: dict[int, str] = {}  # set per form, see RoundForm

    def label_from_instance(self, obj: Pathway) -> str:
        return self.titles.get(obj.pk) or obj.slug


class RoundForm(forms.Form):
    title = forms.CharField(label=_("Title of the round"), max_length=200)
    partnership = forms.ModelChoiceField(
        label=_("Helsefellesskap"),
        queryset=OrganisationUnit.objects.none(),
        required=False,
        empty_label=_("None (choose the municipalities below)"),
    )
    pathways = PathwayChoiceField(
        label=_("Pathways to ask about"),
        queryset=Pathway.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    municipalities = forms.ModelMultipleChoiceField(
        label=_("Municipalities to ask"),
        queryset=Municipality.objects.none(),
        required=False,
        help_text=_("Leave empty to ask every municipality in the helsefellesskap."),
    )
    closes_on = forms.DateField(
        label=_("Answers wanted by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, data: Any = None, *, user: Any) -> None:
        super().__init__(data, label_suffix="")
        partnerships = editor_partnerships(user)
        self.fields["partnership"].queryset = partnerships
        if partnerships.count() == 1:
            self.initial["partnership"] = partnerships.first().pk
        self.fields["pathways"].queryset = published_pathways().order_by("slug")
        self.fields["pathways"].titles = pathway_titles()
        municipalities = Municipality.objects.order_by("county_name", "name")
        if partnerships.exists():
            municipalities = municipalities.filter(units__in=partnerships).distinct()
        field = self.fields["municipalities"]
        if municipalities.count() > CHECKBOX_LIMIT:
            field.widget = forms.SelectMultiple(attrs={"size": 12})
        else:
            field.widget = forms.CheckboxSelectMultiple()
        field.label_from_instance = lambda m: m.name
        field.queryset = municipalities  # after the widget: this gives the widget its choices

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("partnership") and not data.get("municipalities"):
            self.add_error(
                "municipalities",
                _("Choose a helsefellesskap, or the municipalities to ask."),
            )
        return data


class AnswerForm(forms.Form):
    """One municipality's answers in a round: a verdict and a comment per pathway."""

    def __init__(
        self,
        data: Any = None,
        *,
        round: FeedbackRound,
        answers: dict[int, Any],
        titles: dict[int, str],
    ) -> None:
        super().__init__(data, label_suffix="")
        self.rows_: list[dict[str, Any]] = []
        for pathway in round.pathways.order_by("slug"):
            answer = answers.get(pathway.pk)
            verdict_name, comment_name = f"verdict__{pathway.pk}", f"comment__{pathway.pk}"
            self.fields[verdict_name] = forms.ChoiceField(
                label=titles.get(pathway.pk) or pathway.slug,
                choices=Verdict.choices,
                widget=forms.RadioSelect,
                required=False,
            )
            self.fields[comment_name] = PlainTextField(
                label=_("Comment"),
                help_text=_("Required for yellow and red: what must change, or why not."),
                required=False,
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 2, "maxlength": 4000}),
            )
            if answer is not None:
                self.initial[verdict_name] = answer.verdict
                self.initial[comment_name] = answer.comment
            self.rows_.append(
                {"pathway": pathway, "verdict": verdict_name, "comment": comment_name}
            )

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"pathway": r["pathway"], "verdict": self[r["verdict"]], "comment": self[r["comment"]]}
            for r in self.rows_
        ]

    def answers(self) -> list[tuple[Pathway, str, str, str]]:
        """(pathway, verdict, comment, comment field name) for every pathway answered."""
        return [
            (
                r["pathway"],
                self.cleaned_data[r["verdict"]],
                self.cleaned_data.get(r["comment"], ""),
                r["comment"],
            )
            for r in self.rows_
            if self.cleaned_data.get(r["verdict"])
        ]
