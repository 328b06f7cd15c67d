"""A published pathway as an A4 PDF, for printing and for sharing outside the platform.

The same content as the public page: header with the version and the address of the page,
the five phases with their steps (local changes marked, the base text they replaced shown
under them), the referral checklist with the urgent signs set apart. Several pages.
Fonts are those of the service map (directory.services.maps), which draw æ, ø, å and Sami.
"""

import io
from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from samhandling.directory.models import LEVEL_COLOURS, Level
from samhandling.directory.services.maps import MapFont, map_font
from samhandling.pathways.models import PathwayVersion
from samhandling.pathways.services.public import origin_label
from samhandling.pathways.services.resolve import Resolved, Step, Text

_INK = colors.HexColor("#1b1f24")
_MUTED = colors.HexColor("#4a5560")
_BRAND = colors.HexColor("#0b5394")
_LOCAL = colors.HexColor("#6b3fa0")
_URGENT = colors.HexColor("#a4161a")
_URGENT_BG = colors.HexColor("#fbeaea")
_LINE = colors.HexColor("#d5dbe1")
_MARGIN = 16 * mm
_FOOTER = 10 * mm
_BAR = 2.2 * mm

CHECKLIST_TITLES: dict[str, Callable[[], str]] = {
    "required_information": lambda: _("Information the referral needs"),
    "measures_tried": lambda: _("Measures to try first"),
    "attachments": lambda: _("Attachments"),
    "urgent_signs": lambda: _("Urgent signs: act at once"),
}


def _esc(value: str) -> str:
    """Escape text for reportlab's paragraph markup (it reads <b>, <a>, &amp; …)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return _esc(value).replace('"', "&quot;")


def published_line(version: PathwayVersion) -> str:
    """ "Version 3, published 12 March 2026." """
    if version.published_at is None:
        return _("Version %(number)d.") % {"number": version.number}
    return _("Version %(number)d, published %(date)s.") % {
        "number": version.number,
        "date": date_format(timezone.localtime(version.published_at).date(), "DATE_FORMAT"),
    }


class _Styles:
    def __init__(self, font: MapFont) -> None:
        def style(name: str, size: float, *, bold: bool = False, **kw) -> ParagraphStyle:
            return ParagraphStyle(
                name,
                fontName=font.bold if bold else font.regular,
                fontSize=size,
                leading=kw.pop("leading", size * 1.3),
                textColor=kw.pop("textColor", _INK),
                **kw,
            )

        self.title = style("title", 20, bold=True, leading=24, spaceAfter=4)
        self.lead = style("lead", 10.5, spaceAfter=4)
        self.meta = style("meta", 9, textColor=_MUTED, spaceAfter=1)
        self.demo = style("demo", 9, bold=True, textColor=_URGENT, spaceBefore=3)
        self.local = style("local", 10, bold=True, textColor=_LOCAL, spaceBefore=6)
        self.note = style("note", 9.5, spaceBefore=2)
        self.eyebrow = style("eyebrow", 8.5, textColor=_MUTED, spaceBefore=12)
        self.phase = style("phase", 14, bold=True, leading=17, spaceAfter=4, textColor=_BRAND)
        self.step = style("step", 11, bold=True, leading=14)
        self.body = style("body", 9.5, spaceBefore=2)
        self.small = style("small", 8.5, textColor=_MUTED, spaceBefore=2)
        self.base = style("base", 8.5, textColor=_MUTED, spaceBefore=3, leftIndent=6)
        self.heading = style("heading", 14, bold=True, leading=17, spaceBefore=14, spaceAfter=4)
        self.subheading = style("subheading", 10.5, bold=True, spaceBefore=8, spaceAfter=2)
        self.item = style("item", 9.5, leftIndent=10, bulletIndent=0)
        self.urgent_title = style("urgent_title", 10.5, bold=True, textColor=_URGENT)
        self.urgent = style("urgent", 9.5, leftIndent=10, bulletIndent=0)


def _text(font: MapFont, value: Text | str) -> str:
    return _esc(font.clean(str(value)))


def _with_note(font: MapFont, value: Text) -> str:
    out = _text(font, value)
    if value.fallback_note:
        out += f' <font color="#4a5560" size="8">({_text(font, value.fallback_note)})</font>'
    return out


def _header(resolved: Resolved, url: str, font: MapFont, s: _Styles) -> list:
    for_whom = _("For whom:")
    flow = [
        Paragraph(_with_note(font, resolved.title), s.title),
        Paragraph(_with_note(font, resolved.summary), s.lead),
        Paragraph(
            f"<b>{_text(font, for_whom)}</b> {_with_note(font, resolved.target_group)}",
            s.note,
        ),
        Spacer(1, 4),
        Paragraph(
            _text(
                font,
                _("National base text: %(line)s") % {"line": published_line(resolved.base)},
            ),
            s.meta,
        ),
    ]
    for adaptation in resolved.adaptations:
        line = _("Local adaptation for %(place)s: %(line)s") % {
            "place": adaptation.scope_label,
            "line": published_line(adaptation),
        }
        flow.append(Paragraph(_text(font, line), s.meta))
    online = _("Online:")
    flow.append(
        Paragraph(
            f'{_text(font, online)} <a href="{_attr(url)}" color="#0b5394">{_text(font, url)}</a>',
            s.meta,
        )
    )
    if resolved.pathway.is_demo:
        flow.append(
            Paragraph(
                _text(font, _("Demo content: skeleton text, to be replaced by the editors.")),
                s.demo,
            )
        )
    if resolved.municipality is not None:
        flow.append(Paragraph(_text(font, local_sentence(resolved)), s.local))
        for adaptation, note in resolved.notes:
            flow.append(
                Paragraph(
                    f"<b>{_text(font, adaptation.scope_label)}:</b> {_with_note(font, note)}",
                    s.note,
                )
            )
    return flow


def local_sentence(resolved: Resolved) -> str:
    """ "This is the local version for Horten: 4 steps differ from the national base." """
    place = resolved.municipality.name if resolved.municipality else ""
    if not resolved.adaptations:
        return _(
            "%(place)s has no local adaptation of this pathway: the national text applies, "
            "with services in %(place)s."
        ) % {"place": place}
    return ngettext(
        "This is the local version for %(place)s: %(count)d step differs from the national base.",
        "This is the local version for %(place)s: %(count)d steps differ from the national base.",
        resolved.differences,
    ) % {"place": place, "count": resolved.differences}


def _step(
    step: Step, resolved: Resolved, font: MapFont, s: _Styles, service_url: Callable
) -> Table:
    level = step.level
    title = _with_note(font, step.title)
    if step.differs:
        where = origin_label(resolved, step)
        mark = (
            _("Added locally: %(place)s") % {"place": where}
            if step.added
            else _("Local: %(place)s") % {"place": where}
        )
        title += f'  <font color="#6b3fa0" size="9">[{_text(font, mark)}]</font>'
    cell: list = [Paragraph(title, s.step)]
    facts = []
    if step.role.text:
        who = _("Who:")
        facts.append(f"<b>{_text(font, who)}</b> {_with_note(font, step.role)}")
    if level in Level.values:
        level_label = _("Level:")
        facts.append(f"<b>{_text(font, level_label)}</b> {_text(font, Level(level).label)}")
    if facts:
        cell.append(Paragraph(" · ".join(facts), s.small))
    if step.body.text:
        cell.append(Paragraph(_with_note(font, step.body), s.body))
    tools = [t for t in step.tools if t.text]
    if tools:
        names = ", ".join(_text(font, t) for t in tools)
        tools_label = _("Tools and methods:")
        cell.append(Paragraph(f"<b>{_text(font, tools_label)}</b> {names}", s.small))
    if step.services:
        links = ", ".join(
            f'<a href="{_attr(service_url(service))}" color="#0b5394">'
            f"{_text(font, service.name)}</a>"
            for service in step.services
        )
        services_label = _("Services:")
        cell.append(Paragraph(f"<b>{_text(font, services_label)}</b> {links}", s.small))
    for name in ("title", "body", "role"):
        if name in step.changed:
            base = step.base_text(name)
            label = {
                "title": _("National title:"),
                "body": _("National text:"),
                "role": _("National text for who does it:"),
            }[name]
            cell.append(
                Paragraph(
                    f"<b>{_text(font, label)}</b> {_text(font, base.text or '—')}",
                    s.base,
                )
            )
    colour = colors.HexColor(LEVEL_COLOURS.get(level, "#d5dbe1"))
    # One row per paragraph, and rows that may split: a step longer than a page (texts
    # may be 5000 characters each) flows on to the next page instead of failing.
    table = Table([["", p] for p in cell], colWidths=[_BAR, None], splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (0, -1), colour),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, -1), 0),
                ("LEFTPADDING", (1, 0), (1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 0), (-1, 0), 3),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 4),
                ("LINEBELOW", (1, -1), (1, -1), 0.4, _LINE),
            ]
        )
    )
    return table


def _checklist(resolved: Resolved, font: MapFont, s: _Styles) -> list:
    """The referral checklist; the urgent signs first, boxed, as on the page."""
    flow: list = [CondPageBreak(40 * mm), Paragraph(_text(font, _("Before you refer")), s.heading)]
    checklist = resolved.checklist
    urgent = checklist.get("urgent_signs", [])
    if urgent:
        rows = [[Paragraph(_text(font, CHECKLIST_TITLES["urgent_signs"]()), s.urgent_title)]]
        rows += [
            [Paragraph(_with_note(font, item.text), s.urgent, bulletText="•")] for item in urgent
        ]
        box = Table(rows, colWidths=[None])
        box.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), _URGENT_BG),
                    ("BOX", (0, 0), (-1, -1), 1.2, _URGENT),
                    ("LEFTPADDING", (0, 0), (-1, -1), 8),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                    ("TOPPADDING", (0, 0), (-1, 0), 6),
                    ("BOTTOMPADDING", (0, 0), (-1, 0), 3),
                    ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
                ]
            )
        )
        flow += [Spacer(1, 4), KeepTogether([box]), Spacer(1, 2)]
    for section, title in CHECKLIST_TITLES.items():
        items = checklist.get(section, [])
        if section == "urgent_signs" or not items:
            continue
        block = [Paragraph(_text(font, title()), s.subheading)]
        block += [Paragraph(_with_note(font, item.text), s.item, bulletText="•") for item in items]
        flow.append(KeepTogether(block))
    return flow


def pathway_render_pdf(*, resolved: Resolved, url: str, base_url: str = "") -> bytes:
    """The resolved pathway as an A4 PDF. `url` is the page's address, printed in the header
    and footer; `base_url` (scheme and host) makes the links to services absolute."""
    font = map_font()
    s = _Styles(font)

    def service_url(service) -> str:
        return base_url + reverse("directory:service-detail", args=[service.code])

    story = _header(resolved, url, font, s)
    for number, phase in enumerate(resolved.phases, start=1):
        eyebrow = _("Phase %(number)d of %(count)d: %(label)s") % {
            "number": number,
            "count": len(resolved.phases),
            "label": phase.label,
        }
        heading = [
            Paragraph(_text(font, eyebrow), s.eyebrow),
            Paragraph(_with_note(font, phase.title), s.phase),
        ]
        steps = [_step(step, resolved, font, s, service_url) for step in phase.steps]
        if not steps:
            steps = [Paragraph(_text(font, _("No steps in this phase.")), s.small)]
        # The phase heading never stands alone at the foot of a page.
        story.append(KeepTogether([*heading, steps[0]]))
        story += steps[1:]
    story += _checklist(resolved, font, s)

    title = font.clean(resolved.title.text)
    footer_left = font.clean(f"Samhandling · {title}")
    version_line = font.clean(published_line(resolved.base))

    def decorate(canvas, doc) -> None:
        width, _height = A4
        canvas.saveState()
        canvas.setStrokeColor(_LINE)
        canvas.line(_MARGIN, _MARGIN + 9, width - _MARGIN, _MARGIN + 9)
        canvas.setFillColor(_MUTED)
        canvas.setFont(font.regular, 7.5)
        canvas.drawString(_MARGIN, _MARGIN, f"{footer_left} · {version_line}"[:110])
        canvas.drawRightString(
            width - _MARGIN,
            _MARGIN,
            font.clean(_("Page %(number)d") % {"number": doc.page}),
        )
        canvas.drawString(_MARGIN, _MARGIN - 9, font.clean(url)[:120])
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + _FOOTER,
        title=title,
        author="Samhandling",
        subject=font.clean(resolved.summary.text)[:300],
        creator="Samhandling",
        lang=_pdf_language(),
        initialFontName=font.regular,
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()


def _pdf_language() -> str:
    return {"nb": "nb-NO", "nn": "nn-NO", "en": "en"}.get((get_language() or "nb")[:2], "nb-NO")


def pdf_filename(resolved: Resolved) -> str:
    """An ASCII file name: the slug, and the municipality number of a local version."""
    if resolved.municipality is not None:
        return f"forlop-{resolved.pathway.slug}-{resolved.municipality.number}.pdf"
    return f"forlop-{resolved.pathway.slug}.pdf"
