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

import pypdfium2 as pdfium
from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.fonts import addMapping
from reportlab.lib.pagesizes import A3, A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
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

_INK = colors.HexColor("#1b1f24")
_MUTED = colors.HexColor("#4a5560")
_DEMO = colors.HexColor("#8a1c1c")
_MARGIN = 10 * mm
_FOOTER = 8 * mm
_LEGEND_WIDTH = 86 * mm

# (page size, font size) from the largest type down: the first that fits on one page wins.
# A4 landscape first; a poster on A3 only when A4 would need type below 6 pt.
LAYOUTS: tuple[tuple[tuple[float, float], float], ...] = (
    *((landscape(A4), size) for size in (14, 13, 12, 11, 10, 9, 8.5, 8, 7.5, 7, 6.5, 6)),
    *((landscape(A3), size) for size in (8, 7.5, 7, 6.5, 6, 5.5, 5)),
)
# When nothing fits one page, the map continues on more pages of this layout.
OVERFLOW_LAYOUT = (landscape(A4), 7.0)
# Pyramid shape: each band's width as a share of the body, top (specialist) down.
_BAND_WIDTHS = (0.76, 0.84, 0.92, 1.0)


def map_render_pdf(*, service_map: ServiceMap) -> bytes:
    """The map as a PDF on one page, continued on more only if it truly cannot fit."""
    font = map_font()
    low, high = 0, len(LAYOUTS) - 1
    best: bytes | None = None
    probed_last = False
    # Binary search for the largest layout that fits: room grows down the list.
    while low <= high:
        middle = (low + high) // 2
        pdf, pages = _build_pdf(service_map, font, *LAYOUTS[middle])
        if pages == 1:
            best, high = pdf, middle - 1
            continue
        low = middle + 1
        if not probed_last and low <= len(LAYOUTS) - 1:
            # A map that overflows the middle layout may not fit at all: find out at once
            # rather than halving towards the end.
            probed_last = True
            pdf, pages = _build_pdf(service_map, font, *LAYOUTS[-1])
            if pages != 1:
                break
            best, high = pdf, len(LAYOUTS) - 2
    if best is None:
        best, _pages = _build_pdf(service_map, font, *OVERFLOW_LAYOUT)
    return best


def map_render_png(*, service_map: ServiceMap, dpi: int = 150) -> bytes:
    """The first page of the map's PDF as a PNG at `dpi`."""
    if not 30 <= dpi <= 600:
        raise ValueError("dpi must be between 30 and 600")
    document = pdfium.PdfDocument(map_render_pdf(service_map=service_map))
    try:
        page = document[0]
        image = page.render(scale=dpi / 72).to_pil()
        page.close()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=True)
    return out.getvalue()


def _style(name: str, font_name: str, size: float, **kw) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=font_name,
        fontSize=size,
        leading=kw.pop("leading", size * 1.22),
        textColor=kw.pop("textColor", _INK),
        **kw,
    )


def _build_pdf(
    service_map: ServiceMap, font: MapFont, pagesize: tuple[float, float], size: float
) -> tuple[bytes, int]:
    page_width, page_height = pagesize
    full_width = page_width - 2 * _MARGIN
    text = font.clean

    header = _header(service_map, font)
    header_width = full_width - _LEGEND_WIDTH - 6 * mm
    header_height = max(
        sum(f.wrap(header_width, page_height)[1] + f.getSpaceBefore() for f in header),
        _legend_height(service_map, font),
    )
    header_height += 4 * mm

    styles = {
        "heading": _style("heading", font.bold, max(size + 1.5, 7)),
        "name": _style("name", font.bold, size),
        "line": _style("line", font.regular, size * 0.88),
        "empty": _style("empty", font.regular, size * 0.88, textColor=_MUTED),
    }
    story: list = [*header, FrameBreak(), NextPageTemplate("later")]
    for index, level in enumerate(service_map.levels):
        width = full_width * _BAND_WIDTHS[index]
        story.append(_level_table(level, width=width, size=size, text=text, styles=styles))
        story.append(Spacer(1, _gutter(size) + max(size * 0.5, 3)))

    top = page_height - _MARGIN
    bottom = _MARGIN + _FOOTER
    body_height = top - header_height - bottom
    first_frames = [
        Frame(_MARGIN, top - header_height, header_width, header_height, 0, 0, 0, 0, id="head"),
        Frame(_MARGIN, bottom, full_width, body_height, 0, 0, 0, 0, id="body"),
    ]
    later_frames = [Frame(_MARGIN, bottom, full_width, top - bottom, 0, 0, 0, 0, id="body")]
    pages = {"count": 0}

    def decorate(canvas, doc) -> None:
        pages["count"] = doc.page
        if doc.page == 1:
            _draw_legend(canvas, service_map, font, x=page_width - _MARGIN - _LEGEND_WIDTH, top=top)
        _draw_footer(canvas, service_map, font, doc.page, page_width)

    out = io.BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=pagesize,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=service_map.title,
        author="Samhandling",
        subject=service_map.subtitle,
        creator="Samhandling",
        lang=_pdf_language(),
        initialFontName=font.regular,
    )
    doc.addPageTemplates(
        [
            PageTemplate("first", frames=first_frames, onPage=decorate),
            PageTemplate("later", frames=later_frames, onPage=decorate),
        ]
    )
    doc.build(story)
    return out.getvalue(), pages["count"]


def _header(service_map: ServiceMap, font: MapFont) -> list[Paragraph]:
    text = font.clean
    made = _("Made %(date)s. %(count)s.") % {
        "date": date_format(service_map.generated, "DATE_FORMAT"),
        "count": ngettext("%(n)d service", "%(n)d services", service_map.service_count)
        % {"n": service_map.service_count},
    }
    header = [
        Paragraph(_esc(text(service_map.title)), _style("title", font.bold, 20, leading=24)),
        Paragraph(
            _esc(text(service_map.subtitle)),
            _style("subtitle", font.regular, 10, textColor=_MUTED, spaceBefore=2),
        ),
        Paragraph(_esc(text(made)), _style("meta", font.regular, 9, spaceBefore=2)),
        Paragraph(_esc(text(_emergency_note())), _style("emergency", font.bold, 9, spaceBefore=2)),
    ]
    if service_map.is_demo:
        header.append(
            Paragraph(
                _esc(text(_demo_note())),
                _style("demo", font.bold, 9, textColor=_DEMO, spaceBefore=2),
            )
        )
    return header


def _level_table(level: MapLevel, *, width: float, size: float, text, styles) -> Table:
    colour = colors.HexColor(level.colour)
    count = ngettext("%(n)d service", "%(n)d services", len(level.services)) % {
        "n": len(level.services)
    }
    heading = Paragraph(
        _esc(text(_("%(level)s (%(count)s)") % {"level": level.label, "count": count})),
        styles["heading"],
    )
    # Columns at least about 17 characters of text wide.
    columns = max(1, int(width // (size * 17)))
    cells = []
    for service in level.services:
        details = [service.ages, service.covers or service.coverage_label]
        cells.append(
            [
                Paragraph(_esc(text(service.name)), styles["name"]),
                Paragraph(_esc(text(service.contact)), styles["line"]),
                Paragraph(_esc(text(" · ".join(filter(None, details)))), styles["line"]),
            ]
        )
    if not cells:
        cells.append([Paragraph(_esc(text(_("No services at this level."))), styles["empty"])])
        columns = 1
    rows: list[list] = [[heading] + [""] * (columns - 1)]
    for start in range(0, len(cells), columns):
        row = cells[start : start + columns]
        rows.append(row + [""] * (columns - len(row)))
    gutter = _gutter(size)
    # Lines are centred on the cell edges: the outer half of the box lies outside the
    # columns, which are narrowed by one gutter to make up for it.
    table = Table(rows, colWidths=[(width - gutter) / columns] * columns, repeatRows=1)
    commands: list[tuple] = [
        ("SPAN", (0, 0), (-1, 0)),
        # Empty filler cells are plain strings; keep even those in the map's font.
        ("FONTNAME", (0, 0), (-1, -1), styles["line"].fontName),
        ("BACKGROUND", (0, 0), (-1, -1), colour),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), gutter * 1.6),
        ("RIGHTPADDING", (0, 0), (-1, -1), gutter * 1.6),
        ("TOPPADDING", (0, 0), (-1, -1), gutter * 1.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), gutter * 1.2),
        ("TOPPADDING", (0, 0), (-1, 0), gutter * 1.4),
        ("BOTTOMPADDING", (0, 0), (-1, 0), gutter * 0.6),
        ("BOX", (0, 0), (-1, -1), gutter, colour, 2),
    ]
    if level.services:
        # White cards on the level's colour; the coloured lines between them are the gutters.
        for index in range(len(level.services)):
            col, row = index % columns, 1 + index // columns
            commands.append(("BACKGROUND", (col, row), (col, row), colors.white))
        commands.append(("INNERGRID", (0, 1), (-1, -1), gutter, colour, 2))
        commands.append(("LINEABOVE", (0, 1), (-1, 1), gutter, colour, 2))
    table.setStyle(TableStyle(commands))
    return table


def _gutter(size: float) -> float:
    return max(size * 0.45, 2.5)


_PYRAMID_WIDTH = 30 * mm
_PYRAMID_HEIGHT = 24 * mm


def _legend_height(service_map: ServiceMap, font: MapFont) -> float:
    return 14 + max(_PYRAMID_HEIGHT, sum(h + 3 for h in _legend_label_heights(service_map, font)))


def _legend_labels(service_map: ServiceMap, font: MapFont) -> list[Paragraph]:
    style = _style("legend", font.regular, 8, leading=9.6)
    return [Paragraph(_esc(font.clean(level.label)), style) for level in service_map.levels]


def _legend_label_heights(service_map: ServiceMap, font: MapFont) -> list[float]:
    width = _LEGEND_WIDTH - _PYRAMID_WIDTH - 6 * mm - 14
    return [max(p.wrap(width, 200)[1], 10) for p in _legend_labels(service_map, font)]


def _draw_legend(canvas, service_map: ServiceMap, font: MapFont, *, x: float, top: float) -> None:
    canvas.saveState()
    canvas.setFillColor(_INK)
    canvas.setFont(font.bold, 9.5)
    canvas.drawString(x, top - 9, font.clean(_("The intervention pyramid")))
    # The pyramid: four bands, specialist at the apex, universal at the base.
    levels = service_map.levels
    pyramid_top = top - 15
    band = _PYRAMID_HEIGHT / len(levels)
    centre = x + _PYRAMID_WIDTH / 2
    canvas.setStrokeColor(_INK)
    canvas.setLineWidth(0.6)
    for index, level in enumerate(levels):
        y_top = pyramid_top - index * band
        half_top = (_PYRAMID_WIDTH / 2) * (index / len(levels))
        half_bottom = (_PYRAMID_WIDTH / 2) * ((index + 1) / len(levels))
        path = canvas.beginPath()
        path.moveTo(centre - half_top, y_top)
        path.lineTo(centre + half_top, y_top)
        path.lineTo(centre + half_bottom, y_top - band)
        path.lineTo(centre - half_bottom, y_top - band)
        path.close()
        canvas.setFillColor(colors.HexColor(level.colour))
        canvas.drawPath(path, fill=1, stroke=1)
    # The key beside it: a swatch and the level's name, top down as on the map.
    key_x = x + _PYRAMID_WIDTH + 6 * mm
    labels = _legend_labels(service_map, font)
    y = pyramid_top
    for level, label, height in zip(
        levels, labels, _legend_label_heights(service_map, font), strict=True
    ):
        canvas.setFillColor(colors.HexColor(level.colour))
        canvas.rect(key_x, y - 9, 9, 9, fill=1, stroke=1)
        label.wrap(_LEGEND_WIDTH - _PYRAMID_WIDTH - 6 * mm - 14, 200)
        label.drawOn(canvas, key_x + 14, y - label.height + 0.5)
        y -= height + 3
    canvas.restoreState()


def _draw_footer(canvas, service_map: ServiceMap, font: MapFont, page: int, page_width) -> None:
    canvas.saveState()
    canvas.setStrokeColor(colors.HexColor("#d5dbe1"))
    canvas.line(_MARGIN, _MARGIN + 11, page_width - _MARGIN, _MARGIN + 11)
    canvas.setFillColor(_MUTED)
    canvas.setFont(font.bold, 8)
    canvas.drawString(_MARGIN, _MARGIN + 2, "Samhandling")
    canvas.setFont(font.regular, 7.5)
    middle = _("Made %(date)s.") % {"date": date_format(service_map.generated, "DATE_FORMAT")}
    if service_map.is_demo:
        middle = f"{middle} {_demo_note()}"
    canvas.drawCentredString(page_width / 2, _MARGIN + 2, font.clean(middle))
    canvas.drawRightString(
        page_width - _MARGIN, _MARGIN + 2, _("Page %(number)d") % {"number": page}
    )
    canvas.restoreState()


def _demo_note() -> str:
    return _("Demo: all services and contact details on this map are fictional.")


def _emergency_note() -> str:
    # The same sentence as the site's footer, so it shares its translation.
    return _(
        "In an emergency call 113. Legevakt: 116 117. Alarmtelefonen for barn og unge: 116 111."
    )


def _pdf_language() -> str:
    return {"nb": "nb-NO", "nn": "nn-NO", "en": "en"}.get((get_language() or "nb")[:2], "nb-NO")


def _esc(value: str) -> str:
    """Escape text for reportlab's paragraph markup."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
