"""The service map (Sammenkartet): every service covering a municipality or a helsefellesskap,
grouped by level of the intervention pyramid, as plain data, a one-page PDF and a PNG.

The PNG is rasterised from the PDF's first page, so the two never disagree.
"""

import datetime as dt
import importlib.util
import io
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from samhandling.core.models import Municipality, OrganisationUnit, UnitKind
from samhandling.directory.models import LEVEL_COLOURS, Coverage, Level, Service

# From the top of the pyramid down to its base: the order of the map.
LEVELS_TOP_DOWN: tuple[str, ...] = (
    Level.SPECIALIST,
    Level.TARGETED,
    Level.EARLY,
    Level.UNIVERSAL,
)

_COVERAGE_ORDER = {Coverage.MUNICIPAL: 0, Coverage.REGIONAL: 1, Coverage.NATIONAL: 2}
# Norwegian alphabetical order puts æ, ø, å after z (and ä, ö with æ, ø).
_COLLATION = str.maketrans({"æ": "{", "ä": "{", "ø": "|", "ö": "|", "å": "}"})


@dataclass(frozen=True)
class MapService:
    code: UUID
    name: str
    contact: str
    ages: str
    coverage: str
    coverage_label: str
    covers: str
    is_demo: bool


@dataclass(frozen=True)
class MapLevel:
    level: str
    label: str
    colour: str
    services: tuple[MapService, ...]


@dataclass(frozen=True)
class ServiceMap:
    scope: str  # "municipality" or "partnership"
    key: str  # kommunenummer or the helsefellesskap unit's code
    title: str
    subtitle: str
    generated: dt.date
    levels: tuple[MapLevel, ...]  # top (specialist) to base (universal)
    is_demo: bool
    last_modified: dt.datetime | None
    filename_stem: str

    @property
    def service_count(self) -> int:
        return sum(len(level.services) for level in self.levels)

    @property
    def is_empty(self) -> bool:
        return self.service_count == 0

    @property
    def service_names(self) -> list[str]:
        return [s.name for level in self.levels for s in level.services]


@dataclass(frozen=True)
class County:
    number: str
    name: str
    municipalities: tuple[Municipality, ...]


# --- the map as data --------------------------------------------------------------------


def map_for_municipality(*, number: str) -> ServiceMap:
    """The map of one municipality; raises Municipality.DoesNotExist."""
    municipality = Municipality.objects.get(number=number)
    services = list(_services_covering([municipality.number]))
    name = municipality.official_name or municipality.name
    return _service_map(
        scope="municipality",
        key=municipality.number,
        title=_("Service map for %(name)s") % {"name": municipality.name},
        subtitle=_(
            "Help with mental health and substance use in %(name)s (%(county)s), "
            "from help for everyone at the base to specialist care at the top."
        )
        % {"name": name, "county": municipality.county_name},
        services=services,
        covers=lambda service: "",
        filename_stem=f"tjenestekart-{municipality.number}-{_slug(municipality.name)}",
    )


def map_for_partnership(*, code: str) -> ServiceMap:
    """The map of one helsefellesskap; raises OrganisationUnit.DoesNotExist."""
    unit = OrganisationUnit.objects.get(code=code, kind=UnitKind.PARTNERSHIP)
    members = list(unit.municipalities.order_by("name"))
    numbers = [m.number for m in members]
    services = list(
        _services_covering(numbers).prefetch_related(
            Prefetch(
                "municipalities",
                queryset=Municipality.objects.filter(number__in=numbers).order_by("name"),
                to_attr="covered_here",
            )
        )
    )

    def covers(service: Service) -> str:
        if service.coverage == Coverage.NATIONAL:
            return _("The whole country")
        here = service.covered_here
        if len(members) > 1 and len(here) == len(members):
            return _("All municipalities in the partnership")
        return ", ".join(m.name for m in here)

    return _service_map(
        scope="partnership",
        key=unit.code,
        title=_("Service map for %(name)s") % {"name": unit.name},
        subtitle=ngettext(
            "The municipality: %(names)s.",
            "The %(count)d municipalities: %(names)s.",
            len(members),
        )
        % {"count": len(members), "names": ", ".join(m.name for m in members)},
        services=services,
        covers=covers,
        filename_stem=f"tjenestekart-{_slug(unit.code)}",
    )


def map_municipality_choices(*, query: str = "") -> list[County]:
    """Municipalities grouped by county, for choosing a map; `query` narrows the list."""
    municipalities = Municipality.objects.order_by("county_number", "name")
    query = query.strip()
    if query:
        municipalities = municipalities.filter(
            Q(name__icontains=query)
            | Q(official_name__icontains=query)
            | Q(number__startswith=query)
            | Q(county_name__icontains=query)
        )
    counties: list[County] = []
    for municipality in municipalities:
        if not counties or counties[-1].number != municipality.county_number:
            counties.append(County(municipality.county_number, municipality.county_name, ()))
        last = counties[-1]
        counties[-1] = County(last.number, last.name, (*last.municipalities, municipality))
    return counties


def map_partnership_choices() -> list[OrganisationUnit]:
    """Every helsefellesskap, for choosing a map."""
    return list(OrganisationUnit.objects.filter(kind=UnitKind.PARTNERSHIP).order_by("name"))


def _services_covering(numbers: list[str]):
    covering = Service.municipalities.through.objects.filter(municipality_id__in=numbers).values(
        "service_id"
    )
    return Service.objects.filter(is_active=True).filter(
        Q(coverage=Coverage.NATIONAL) | Q(pk__in=covering)
    )


def _service_map(*, scope, key, title, subtitle, services, covers, filename_stem) -> ServiceMap:
    by_level: dict[str, list[Service]] = {level: [] for level in LEVELS_TOP_DOWN}
    for service in services:
        by_level[service.level].append(service)
    levels = tuple(
        MapLevel(
            level=str(level),
            label=str(Level(level).label),
            colour=LEVEL_COLOURS[level],
            services=tuple(
                _map_service(service, covers(service))
                for service in sorted(by_level[level], key=_sort_key)
            ),
        )
        for level in LEVELS_TOP_DOWN
    )
    return ServiceMap(
        scope=scope,
        key=key,
        title=title,
        subtitle=subtitle,
        generated=timezone.localdate(),
        levels=levels,
        is_demo=settings.SAMHANDLING_DEMO or any(s.is_demo for s in services),
        last_modified=max((s.updated_at for s in services), default=None),
        filename_stem=filename_stem,
    )


def _sort_key(service: Service) -> tuple[int, str]:
    return _COVERAGE_ORDER.get(service.coverage, 9), service.name.casefold().translate(_COLLATION)


def _map_service(service: Service, covers: str) -> MapService:
    coverage_label = {
        Coverage.REGIONAL: _("Regional"),
        Coverage.NATIONAL: _("National"),
    }.get(service.coverage, "")
    return MapService(
        code=service.code,
        name=service.name,
        contact=service_contact_line(service=service),
        ages=ages_label(age_min=service.age_min, age_max=service.age_max),
        coverage=service.coverage,
        coverage_label=coverage_label,
        covers=covers,
        is_demo=service.is_demo,
    )


def service_contact_line(*, service: Service) -> str:
    """How to get in touch, in one short line: channels, then whether a referral is needed."""
    parts = []
    if service.offers_phone:
        parts.append(
            _("Phone %(number)s") % {"number": service.phone} if service.phone else _("Phone")
        )
    if service.offers_sms:
        parts.append(
            _("SMS %(number)s") % {"number": service.sms_number} if service.sms_number else _("SMS")
        )
    if service.offers_chat:
        parts.append(_("Chat"))
    if service.offers_drop_in:
        parts.append(_("Drop-in"))
    if service.offers_web_form:
        parts.append(_("Web form"))
    if service.always_open:
        parts.append(_("Open around the clock"))
    parts.append(_("Referral needed") if service.referral_required else _("No referral needed"))
    return " · ".join(parts)


def ages_label(*, age_min: int, age_max: int) -> str:
    """The target ages in words."""
    if age_min <= 0 and age_max >= 120:
        return _("All ages")
    if age_max >= 120:
        return _("Ages %(min)d and up") % {"min": age_min}
    if age_min <= 0:
        return _("Ages up to %(max)d") % {"max": age_max}
    return _("Ages %(min)d–%(max)d") % {"min": age_min, "max": age_max}


def _slug(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})
    return slugify(text.translate(table)) or "kart"


# --- fonts ------------------------------------------------------------------------------

_REPORTLAB_FONTS = Path(importlib.util.find_spec("reportlab").origin).parent / "fonts"


def _matplotlib_fonts() -> Path | None:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"


def _font_candidates() -> list[tuple[Path, Path]]:
    # DejaVu covers Norwegian and every Sami letter; Vera, shipped inside reportlab and so
    # present on any machine, lacks ŋ and ŧ, which are then drawn as their base letters.
    candidates = [
        (
            Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
            Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
        )
    ]
    mpl = _matplotlib_fonts()
    if mpl is not None:
        candidates.append((mpl / "DejaVuSans.ttf", mpl / "DejaVuSans-Bold.ttf"))
    candidates.append((_REPORTLAB_FONTS / "Vera.ttf", _REPORTLAB_FONTS / "VeraBd.ttf"))
    return candidates


FONT_CANDIDATES: list[tuple[Path, Path]] = _font_candidates()


@dataclass(frozen=True)
class MapFont:
    regular: str
    bold: str
    glyphs: frozenset[int]

    def clean(self, text: str) -> str:
        """Replace characters the font cannot draw by their nearest drawable letter."""
        if all(ord(c) in self.glyphs for c in text):
            return text
        return "".join(self._nearest(c) for c in text)

    def _nearest(self, char: str) -> str:
        if ord(char) in self.glyphs or char in "\n\t":
            return char
        base = _FALLBACK_LETTERS.get(char) or unicodedata.normalize("NFKD", char)[:1]
        return base if base and ord(base) in self.glyphs else "?"


_FALLBACK_LETTERS = {"ŋ": "n", "Ŋ": "N", "ŧ": "t", "Ŧ": "T", "ǯ": "z", "Ʒ": "Z", "ʒ": "z"}


def map_font() -> MapFont:
    """The first usable font of FONT_CANDIDATES, registered with reportlab."""
    for regular, bold in FONT_CANDIDATES:
        if regular.is_file() and bold.is_file():
            return _register_font(regular, bold)
    raise FileNotFoundError("No TrueType font for the service map was found.")


@cache
def _register_font(regular: Path, bold: Path) -> MapFont:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = f"Map-{regular.stem}"
    regular_font = TTFont(name, str(regular))
    pdfmetrics.registerFont(regular_font)
    pdfmetrics.registerFont(TTFont(f"{name}-Bold", str(bold)))
    # Paragraph markup <b> looks up the bold face through this mapping.
    for is_bold, is_italic, face in [
        (0, 0, name),
        (1, 0, f"{name}-Bold"),
        (0, 1, name),
        (1, 1, f"{name}-Bold"),
    ]:
        addMapping(name, is_bold, is_italic, face)
    glyphs = frozenset(regular_font.face.charToGlyph)
    return MapFont(regular=name, bold=f"{name}-Bold", glyphs=glyphs)


# --- PDF --------------------------------------------------------------------------------

# Font sizes tried, largest first; the largest that fits one page wins.
FONT_SIZES: tuple[float, ...] = (12, 11, 10, 9, 8.5, 8, 7.5, 7, 6.5, 6, 5.5, 5)
# Pyramid shape: each band's width as a share of the page, top (specialist) down.
_BAND_WIDTHS = (0.76, 0.84, 0.92, 1.0)


def map_render_pdf(*, service_map: ServiceMap) -> bytes:
    """The map as a PDF: one A4 landscape page, a second only if it truly cannot fit."""
    font = map_font()
    low, high = 0, len(FONT_SIZES) - 1
    best: bytes | None = None
    # Binary search for the largest size that fits on one page.
    while low <= high:
        middle = (low + high) // 2
        pdf, pages = _build_pdf(service_map, font, FONT_SIZES[middle])
        if pages == 1:
            best, high = pdf, middle - 1
        else:
            low = middle + 1
    if best is None:
        best, _pages = _build_pdf(service_map, font, FONT_SIZES[-1])
    return best


def map_render_png(*, service_map: ServiceMap, dpi: int = 150) -> bytes:
    """The first page of the map's PDF as a PNG at `dpi`."""
    import pypdfium2 as pdfium

    if not 30 <= dpi <= 600:
        raise ValueError("dpi must be between 30 and 600")
    document = pdfium.PdfDocument(map_render_pdf(service_map=service_map))
    try:
        page = document[0]
        bitmap = page.render(scale=dpi / 72)
        image = bitmap.to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", dpi=(dpi, dpi), optimize=True)
        page.close()
        return out.getvalue()
    finally:
        document.close()


def _build_pdf(service_map: ServiceMap, font: MapFont, size: float) -> tuple[bytes, int]:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_LEFT
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        BaseDocTemplate,
        Frame,
        FrameBreak,
        NextPageTemplate,
        PageTemplate,
        Paragraph,
        Spacer,
        Table,
        TableStyle,
    )

    page_width, page_height = landscape(A4)
    margin = 10 * mm
    legend_width = 46 * mm
    gap = 6 * mm
    footer_height = 8 * mm
    main_width = page_width - 2 * margin - legend_width - gap
    text = font.clean
    ink = colors.HexColor("#1b1f24")
    muted = colors.HexColor("#4a5560")

    def style(name: str, font_name: str, font_size: float, **kw) -> ParagraphStyle:
        return ParagraphStyle(
            name,
            fontName=font_name,
            fontSize=font_size,
            leading=kw.pop("leading", font_size * 1.22),
            textColor=kw.pop("textColor", ink),
            alignment=TA_LEFT,
            **kw,
        )

    title_style = style("title", font.bold, 20, leading=24)
    subtitle_style = style("subtitle", font.regular, 10, textColor=muted, spaceBefore=2)
    meta_style = style("meta", font.regular, 9, textColor=muted, spaceBefore=2)
    demo_style = style("demo", font.bold, 9, textColor=colors.HexColor("#8a1c1c"), spaceBefore=2)
    heading_style = style("heading", font.bold, size + 1.5)
    name_style = style("name", font.bold, size)
    line_style = style("line", font.regular, size * 0.88, textColor=ink)
    empty_style = style("empty", font.regular, size * 0.88, textColor=muted)

    # Header, across the whole width of the first page.
    header = [Paragraph(_esc(text(service_map.title)), title_style)]
    header.append(Paragraph(_esc(text(service_map.subtitle)), subtitle_style))
    header.append(
        Paragraph(
            _esc(
                _("Made %(date)s. %(count)s.")
                % {
                    "date": date_format(service_map.generated, "DATE_FORMAT"),
                    "count": ngettext("%(n)d service", "%(n)d services", service_map.service_count)
                    % {"n": service_map.service_count},
                }
            ),
            meta_style,
        )
    )
    if service_map.is_demo:
        header.append(Paragraph(_esc(_demo_note()), demo_style))
    full_width = page_width - 2 * margin
    header_height = sum(f.wrap(full_width, page_height)[1] + f.getSpaceBefore() for f in header)
    header_height += 4 * mm

    story: list = [*header, FrameBreak(), NextPageTemplate("later")]
    for index, level in enumerate(service_map.levels):
        width = main_width * _BAND_WIDTHS[index]
        story.append(
            _level_table(
                level,
                width=width,
                size=size,
                text=text,
                styles=(heading_style, name_style, line_style, empty_style),
                Table=Table,
                TableStyle=TableStyle,
                Paragraph=Paragraph,
                colors=colors,
            )
        )
        story.append(Spacer(1, max(size * 0.5, 3)))

    top = page_height - margin
    body_bottom = margin + footer_height
    first_frames = [
        Frame(margin, top - header_height, full_width, header_height, 0, 0, 0, 0, id="header"),
        Frame(
            margin,
            body_bottom,
            main_width,
            top - header_height - body_bottom,
            0,
            0,
            0,
            0,
            id="body",
        ),
    ]
    later_frames = [
        Frame(margin, body_bottom, main_width, top - body_bottom, 0, 0, 0, 0, id="body")
    ]
    pages = {"count": 0}

    def decorate(canvas, doc) -> None:
        pages["count"] = doc.page
        legend_top = top - (header_height if doc.page == 1 else 0)
        _draw_legend(
            canvas,
            service_map,
            font,
            x=page_width - margin - legend_width,
            top=legend_top,
            width=legend_width,
            bottom=body_bottom,
            colors=colors,
        )
        _draw_footer(canvas, service_map, font, doc.page, margin, page_width, colors)

    out = io.BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=(page_width, page_height),
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=service_map.title,
        author="Samhandling",
        subject=service_map.subtitle,
        creator="Samhandling",
        lang=_pdf_language(),
    )
    doc.addPageTemplates(
        [
            PageTemplate("first", frames=first_frames, onPage=decorate),
            PageTemplate("later", frames=later_frames, onPage=decorate),
        ]
    )
    doc.build(story)
    return out.getvalue(), pages["count"]


def _level_table(level, *, width, size, text, styles, Table, TableStyle, Paragraph, colors):
    heading_style, name_style, line_style, empty_style = styles
    colour = colors.HexColor(level.colour)
    heading = Paragraph(
        _esc(
            _("%(level)s (%(count)s)")
            % {
                "level": text(level.label),
                "count": ngettext("%(n)d service", "%(n)d services", len(level.services))
                % {"n": len(level.services)},
            }
        ),
        heading_style,
    )
    # Columns at least about 17 characters of text wide.
    columns = max(1, int(width // (size * 17)))
    cells = []
    for service in level.services:
        lines = [f"<b>{_esc(text(service.name))}</b>"]
        card = [Paragraph(lines[0], name_style), Paragraph(_esc(text(service.contact)), line_style)]
        details = [service.ages]
        if service.covers:
            details.append(service.covers)
        elif service.coverage_label:
            details.append(service.coverage_label)
        card.append(Paragraph(_esc(text(" · ".join(details))), line_style))
        cells.append(card)
    if not cells:
        cells.append([Paragraph(_esc(_("No services at this level.")), empty_style)])
        columns = 1
    rows = [[heading] + [""] * (columns - 1)]
    for start in range(0, len(cells), columns):
        row = cells[start : start + columns]
        rows.append(row + [""] * (columns - len(row)))
    gutter = max(size * 0.45, 2.5)
    table = Table(
        rows,
        colWidths=[width / columns] * columns,
        repeatRows=1,
        hAlign="CENTER",
    )
    commands = [
        ("SPAN", (0, 0), (-1, 0)),
        ("BACKGROUND", (0, 0), (-1, -1), colour),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), gutter * 1.6),
        ("RIGHTPADDING", (0, 0), (-1, -1), gutter * 1.6),
        ("TOPPADDING", (0, 0), (-1, -1), gutter * 1.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), gutter * 1.2),
        ("TOPPADDING", (0, 0), (-1, 0), gutter * 1.4),
        ("BOTTOMPADDING", (0, 0), (-1, 0), gutter * 0.6),
    ]
    # White cards on the level's colour; the colour between them acts as the gutter.
    for index in range(len(level.services)):
        col, row = index % columns, 1 + index // columns
        commands.append(("BACKGROUND", (col, row), (col, row), colors.white))
    if level.services:
        commands.append(("GRID", (0, 1), (-1, -1), gutter, colour))
    commands.append(("BOX", (0, 0), (-1, -1), 0.8, colors.HexColor("#1b1f24")))
    table.setStyle(TableStyle(commands))
    return table


def _draw_legend(canvas, service_map, font, *, x, top, width, bottom, colors) -> None:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    ink = colors.HexColor("#1b1f24")
    canvas.saveState()
    canvas.setFillColor(ink)
    canvas.setFont(font.bold, 10)
    canvas.drawString(x, top - 10, font.clean(_("The intervention pyramid")))
    # The pyramid: four bands, specialist at the apex, universal at the base.
    pyramid_top = top - 18
    pyramid_height = width * 0.78
    band = pyramid_height / len(service_map.levels)
    centre = x + width / 2
    for index, level in enumerate(service_map.levels):
        y_top = pyramid_top - index * band
        y_bottom = y_top - band
        half_top = (width / 2) * (index / len(service_map.levels))
        half_bottom = (width / 2) * ((index + 1) / len(service_map.levels))
        path = canvas.beginPath()
        path.moveTo(centre - half_top, y_top)
        path.lineTo(centre + half_top, y_top)
        path.lineTo(centre + half_bottom, y_bottom)
        path.lineTo(centre - half_bottom, y_bottom)
        path.close()
        canvas.setFillColor(colors.HexColor(level.colour))
        canvas.setStrokeColor(ink)
        canvas.setLineWidth(0.6)
        canvas.drawPath(path, fill=1, stroke=1)
    # The key: a swatch and the level's name, top down as on the map.
    label_style = ParagraphStyle("legend", fontName=font.regular, fontSize=8, leading=9.6)
    y = pyramid_top - pyramid_height - 10
    for level in service_map.levels:
        label = Paragraph(_esc(font.clean(level.label)), label_style)
        _w, h = label.wrap(width - 16, 200)
        canvas.setFillColor(colors.HexColor(level.colour))
        canvas.rect(x, y - 9, 10, 10, fill=1, stroke=1)
        label.drawOn(canvas, x + 15, y - h + 0.5)
        y -= max(h, 10) + 5
    note_style = ParagraphStyle(
        "note", fontName=font.regular, fontSize=7.5, leading=9, textColor=colors.HexColor("#4a5560")
    )
    notes = [
        _("Help for everyone at the base; more specialised help higher up."),
        _("In an emergency call 113. Legevakt: 116 117. Alarmtelefonen for barn og unge: 116 111."),
    ]
    y -= 4
    for note in notes:
        paragraph = Paragraph(_esc(font.clean(note)), note_style)
        _w, h = paragraph.wrap(width, 200)
        if y - h < bottom:
            break
        paragraph.drawOn(canvas, x, y - h)
        y -= h + 6
    canvas.restoreState()


def _draw_footer(canvas, service_map, font, page, margin, page_width, colors) -> None:
    canvas.saveState()
    canvas.setFont(font.regular, 7.5)
    canvas.setFillColor(colors.HexColor("#4a5560"))
    canvas.setStrokeColor(colors.HexColor("#d5dbe1"))
    canvas.line(margin, margin + 11, page_width - margin, margin + 11)
    canvas.setFont(font.bold, 8)
    canvas.drawString(margin, margin + 2, "Samhandling")
    canvas.setFont(font.regular, 7.5)
    middle = _("Made %(date)s.") % {"date": date_format(service_map.generated, "DATE_FORMAT")}
    if service_map.is_demo:
        middle = f"{middle} {_demo_note()}"
    canvas.drawCentredString(page_width / 2, margin + 2, font.clean(middle))
    canvas.drawRightString(page_width - margin, margin + 2, _("Page %(number)d") % {"number": page})
    canvas.restoreState()


def _demo_note() -> str:
    return _("Demo: all services and contact details on this map are fictional.")


def _pdf_language() -> str:
    from django.utils.translation import get_language

    return {"nb": "nb-NO", "nn": "nn-NO", "en": "en"}.get((get_language() or "nb")[:2], "nb-NO")


def _esc(value: str) -> str:
    """Escape text for reportlab's paragraph markup."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
