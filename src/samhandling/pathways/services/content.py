"""The pathway document: its shape, checked before anything is stored, and the data import.

A base document holds the whole pathway; an adaptation document only what one scope changes
or adds. Every text is a {"nb": …, "nn": …} object. The checks name the place of each
problem (`phases[2].steps[0].level: …`) so an editor or a file author can fix it.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from samhandling.core.models import Municipality, OrganisationUnit, UnitKind
from samhandling.directory.models import Level, Need

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
LANGUAGES = ("nb", "nn")
PHASE_KINDS = ("first_concern", "targeted", "referral", "specialist", "transition")
CHECKLIST_SECTIONS = ("required_information", "measures_tried", "attachments", "urgent_signs")
STEP_TEXT_FIELDS = ("title", "body", "role")
TEXT_MAX = 5000
# Path segments under /pathways/ that are pages of their own, not pathways.
RESERVED_SLUGS = {"edit", "proposals"}
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ContentError(ValueError):
    """The document is malformed; `problems` lists every problem with its place."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def phase_labels() -> dict[str, str]:
    return {
        "first_concern": _("First concern and early help"),
        "targeted": _("Targeted help in the municipality"),
        "referral": _("Referral"),
        "specialist": _("Specialist assessment and treatment"),
        "transition": _("Transition, ending and follow-up"),
    }


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def text(self, value: Any, where: str, *, required: bool = True) -> None:
        if not isinstance(value, dict) or set(value) - set(LANGUAGES):
            self.add(where, _('must be an object with "nb" and "nn" texts'))
            return
        for language in LANGUAGES:
            text = value.get(language, "")
            if not isinstance(text, str):
                self.add(f"{where}.{language}", _("must be text"))
            elif len(text) > TEXT_MAX:
                self.add(
                    f"{where}.{language}",
                    _("is longer than %(max)d characters") % {"max": TEXT_MAX},
                )
        if required and not any(str(value.get(lang) or "").strip() for lang in LANGUAGES):
            self.add(where, _("needs a text in bokmål or nynorsk"))

    def slug(self, value: Any, where: str) -> bool:
        if not isinstance(value, str) or not _SLUG.match(value) or len(value) > 80:
            self.add(where, _("must be lowercase letters, digits and hyphens"))
            return False
        return True

    def services_spec(self, value: Any, where: str, needs: set[str]) -> None:
        if not isinstance(value, dict) or set(value) - {"level", "needs"}:
            self.add(where, _('must be an object with "level" and optionally "needs"'))
            return
        if value.get("level") not in Level.values:
            self.add(
                f"{where}.level",
                _("must be one of %(values)s") % {"values": ", ".join(Level.values)},
            )
        for index, code in enumerate(value.get("needs", [])):
            if code not in needs:
                self.add(f"{where}.needs[{index}]", _("unknown need “%(code)s”") % {"code": code})

    def step(self, step: Any, where: str, needs: set[str], keys: set[str]) -> None:
        if not isinstance(step, dict):
            self.add(where, _("must be an object"))
            return
        unknown = set(step) - {"key", "title", "body", "role", "level", "tools", "services"}
        if unknown:
            self.add(where, _("unknown fields %(names)s") % {"names": ", ".join(sorted(unknown))})
        if self.slug(step.get("key"), f"{where}.key"):
            if step["key"] in keys:
                self.add(
                    f"{where}.key", _("the step key “%(key)s” is used twice") % {"key": step["key"]}
                )
            keys.add(step["key"])
        for name in STEP_TEXT_FIELDS:
            self.text(step.get(name), f"{where}.{name}", required=name != "role")
        if step.get("level") not in Level.values:
            self.add(
                f"{where}.level",
                _("must be one of %(values)s") % {"values": ", ".join(Level.values)},
            )
        tools = step.get("tools", [])
        if not isinstance(tools, list):
            self.add(f"{where}.tools", _("must be a list"))
        else:
            for index, tool in enumerate(tools):
                self.text(tool, f"{where}.tools[{index}]")
        if "services" in step:
            self.services_spec(step["services"], f"{where}.services", needs)


def _known_needs() -> set[str]:
    return set(Need.objects.values_list("code", flat=True))


def base_check(document: Any) -> dict[str, Any]:
    """Check a base pathway document; returns it, or raises ContentError with every problem."""
    check = _Checker()
    if not isinstance(document, dict):
        raise ContentError([_("The pathway must be a JSON object.")])
    needs = _known_needs()
    allowed = {
        "slug",
        "is_demo",
        "title",
        "target_group",
        "summary",
        "age_min",
        "age_max",
        "needs",
        "phases",
        "checklist",
        "revision_months",
    }
    unknown = set(document) - allowed
    if unknown:
        check.add("", _("unknown fields %(names)s") % {"names": ", ".join(sorted(unknown))})
    if check.slug(document.get("slug"), "slug") and document["slug"] in RESERVED_SLUGS:
        check.add("slug", _("is reserved for the platform's own pages"))
    for name in ("title", "target_group", "summary"):
        check.text(document.get(name), name)
    age_min, age_max = document.get("age_min"), document.get("age_max")
    if not all(isinstance(a, int) and 0 <= a <= 120 for a in (age_min, age_max)):
        check.add("age_min/age_max", _("must be whole numbers from 0 to 120"))
    elif age_min > age_max:
        check.add("age_min/age_max", _("the youngest age is above the oldest"))
    for index, code in enumerate(document.get("needs", [])):
        if code not in needs:
            check.add(f"needs[{index}]", _("unknown need “%(code)s”") % {"code": code})
    revision = document.get("revision_months", 12)
    if not isinstance(revision, int) or not 1 <= revision <= 60:
        check.add("revision_months", _("must be a whole number of months from 1 to 60"))
    phases = document.get("phases")
    if not isinstance(phases, list) or [p.get("kind") for p in phases if isinstance(p, dict)] != (
        list(PHASE_KINDS)
    ):
        check.add(
            "phases",
            _("must be the five phases %(kinds)s, in that order")
            % {"kinds": ", ".join(PHASE_KINDS)},
        )
    else:
        keys: set[str] = set()
        for p_index, phase in enumerate(phases):
            where = f"phases[{p_index}]"
            if set(phase) - {"kind", "title", "steps"}:
                check.add(where, _("unknown fields"))
            check.text(phase.get("title"), f"{where}.title")
            steps = phase.get("steps")
            if not isinstance(steps, list):
                check.add(f"{where}.steps", _("must be a list"))
                continue
            for s_index, step in enumerate(steps):
                check.step(step, f"{where}.steps[{s_index}]", needs, keys)
    checklist = document.get("checklist")
    if not isinstance(checklist, dict) or set(checklist) != set(CHECKLIST_SECTIONS):
        check.add(
            "checklist",
            _("must have the sections %(names)s") % {"names": ", ".join(CHECKLIST_SECTIONS)},
        )
    else:
        for section in CHECKLIST_SECTIONS:
            items = checklist[section]
            if not isinstance(items, list):
                check.add(f"checklist.{section}", _("must be a list"))
                continue
            seen: set[str] = set()
            for index, item in enumerate(items):
                where = f"checklist.{section}[{index}]"
                if not isinstance(item, dict) or set(item) != {"key", "text"}:
                    check.add(where, _('must be an object with "key" and "text"'))
                    continue
                if check.slug(item["key"], f"{where}.key"):
                    if item["key"] in seen:
                        check.add(
                            f"{where}.key",
                            _("the key “%(key)s” is used twice") % {"key": item["key"]},
                        )
                    seen.add(item["key"])
                check.text(item["text"], f"{where}.text")
    if check.problems:
        raise ContentError(check.problems)
    return document


def base_step_keys(document: dict[str, Any]) -> dict[str, str]:
    """Step key → the kind of the phase it is in."""
    return {step["key"]: phase["kind"] for phase in document["phases"] for step in phase["steps"]}


def adaptation_check(document: Any, base: dict[str, Any]) -> dict[str, Any]:
    """Check an adaptation against the base it adapts; returns it or raises ContentError."""
    check = _Checker()
    if not isinstance(document, dict):
        raise ContentError([_("The adaptation must be a JSON object.")])
    unknown = set(document) - {"pathway", "scope", "is_demo", "note", "steps", "added_steps"}
    if unknown:
        check.add("", _("unknown fields %(names)s") % {"names": ", ".join(sorted(unknown))})
    if "note" in document:
        check.text(document["note"], "note", required=False)
    needs = _known_needs()
    keys = base_step_keys(base)
    overrides = document.get("steps", {})
    if not isinstance(overrides, dict):
        check.add("steps", _("must be an object keyed by step key"))
        overrides = {}
    for key, override in overrides.items():
        where = f"steps.{key}"
        if key not in keys:
            check.add(where, _("no step with this key in the base pathway"))
            continue
        if not isinstance(override, dict):
            check.add(where, _("must be an object"))
            continue
        unknown = set(override) - {"title", "body", "role", "tools", "services", "level"}
        if unknown:
            check.add(where, _("unknown fields %(names)s") % {"names": ", ".join(sorted(unknown))})
        for name in STEP_TEXT_FIELDS:
            if name in override:
                check.text(override[name], f"{where}.{name}")
        if "level" in override and override["level"] not in Level.values:
            check.add(
                f"{where}.level",
                _("must be one of %(values)s") % {"values": ", ".join(Level.values)},
            )
        if "tools" in override:
            for index, tool in enumerate(override["tools"] or []):
                check.text(tool, f"{where}.tools[{index}]")
        if "services" in override:
            _check_pinned(check, override["services"], f"{where}.services")
    added = document.get("added_steps", [])
    if not isinstance(added, list):
        check.add("added_steps", _("must be a list"))
        added = []
    all_keys = set(keys)
    for index, entry in enumerate(added):
        where = f"added_steps[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("step"), dict):
            check.add(where, _('must be an object with "phase", "after" and "step"'))
            continue
        if entry.get("phase") not in PHASE_KINDS:
            check.add(
                f"{where}.phase",
                _("must be one of %(values)s") % {"values": ", ".join(PHASE_KINDS)},
            )
        after = entry.get("after")
        if after is not None and keys.get(after) != entry.get("phase"):
            check.add(f"{where}.after", _("must be the key of a base step in the same phase"))
        step = dict(entry["step"])
        pinned = step.pop("services", None) if isinstance(step.get("services"), list) else None
        check.step(step, f"{where}.step", needs, all_keys)
        if pinned is not None:
            _check_pinned(check, pinned, f"{where}.step.services")
    if check.problems:
        raise ContentError(check.problems)
    return document


def _check_pinned(check: _Checker, value: Any, where: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        check.add(where, _("must be a list of service codes or demo service keys"))


# --- import -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSummary:
    pathways_created: int
    pathways_existing: int
    adaptations_created: int
    adaptations_existing: int


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ContentError([f"{path.name}: not readable JSON ({error})"]) from error


def _in_file(path: Path, error: ContentError) -> ContentError:
    return ContentError([f"{path.name}: {problem}" for problem in error.problems])


def _scope_of(document: dict[str, Any], path: Path) -> tuple[str, Any, Any]:
    scope = document.get("scope")
    if isinstance(scope, dict) and set(scope) == {"municipality"}:
        municipality = Municipality.objects.filter(pk=scope["municipality"]).first()
        if municipality is None:
            raise ContentError([f"{path.name}: scope: unknown municipality"])
        return "municipality", None, municipality
    if isinstance(scope, dict) and set(scope) == {"partnership"}:
        unit = OrganisationUnit.objects.filter(
            code=scope["partnership"], kind=UnitKind.PARTNERSHIP
        ).first()
        if unit is None:
            raise ContentError([f"{path.name}: scope: unknown helsefellesskap"])
        return "partnership", unit, None
    raise ContentError(
        [f'{path.name}: scope must be {{"municipality": …}} or {{"partnership": …}}']
    )


@transaction.atomic
def pathways_import(*, directory: Path = DATA_DIR) -> ImportSummary:
    """Load the packaged pathways and adaptations as published versions.

    Safe to run again: a pathway or adaptation that already has a version is left as it is,
    so editors' work is never overwritten. Every file is checked before anything is stored;
    one bad file stops the whole import.
    """
    from samhandling.pathways.models import Pathway, PathwayVersion, ScopeKind
    from samhandling.pathways.services.workflow import publish_now

    bases: dict[str, dict[str, Any]] = {}
    for path in sorted((directory / "pathways").glob("*.json")):
        try:
            document = base_check(_read(path))
        except ContentError as error:
            raise _in_file(path, error) from error
        if document["slug"] in bases:
            raise ContentError([f"{path.name}: the slug {document['slug']!r} is used twice"])
        bases[document["slug"]] = document
    adaptations = []
    for path in sorted((directory / "adaptations").glob("*.json")):
        document = _read(path)
        slug = document.get("pathway") if isinstance(document, dict) else None
        if slug not in bases:
            raise ContentError([f"{path.name}: pathway: no packaged pathway {slug!r}"])
        try:
            adaptation_check(document, bases[slug])
        except ContentError as error:
            raise _in_file(path, error) from error
        adaptations.append((path, document, _scope_of(document, path)))

    created = existing = a_created = a_existing = 0
    now = timezone.now()
    for slug, document in bases.items():
        pathway, _ = Pathway.objects.get_or_create(
            slug=slug, defaults={"is_demo": bool(document.get("is_demo"))}
        )
        if pathway.versions.filter(scope=ScopeKind.BASE).exists():
            existing += 1
            continue
        created += 1
        version = PathwayVersion(
            pathway=pathway, scope=ScopeKind.BASE, number=1, content=document, status="draft"
        )
        version.change_note = "Imported from the packaged skeleton content."
        version.save()
        publish_now(version=version, by=None, at=now)
    for _path, document, (scope, partnership, municipality) in adaptations:
        pathway = Pathway.objects.get(slug=document["pathway"])
        same_scope = pathway.versions.filter(
            scope=scope, partnership=partnership, municipality=municipality
        )
        if same_scope.exists():
            a_existing += 1
            continue
        version = PathwayVersion(
            pathway=pathway,
            scope=scope,
            partnership=partnership,
            municipality=municipality,
            number=1,
            content=document,
            status="draft",
            change_note="Imported from the packaged skeleton content.",
        )
        version.save()
        publish_now(version=version, by=None, at=now)
        a_created += 1
    return ImportSummary(created, existing, a_created, a_existing)
