"""The service map as PDF and PNG: every service on the page, one page when it fits, print size."""

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from django.utils import translation
from PIL import Image
from pypdf import PdfReader

from samhandling.directory.models import LEVEL_COLOURS, Coverage, Level
from samhandling.directory.services import maps
from samhandling.directory.services.maps import (
    map_for_municipality,
    map_for_partnership,
    map_render_pdf,
    map_render_png,
)
from tests.directory.factories import ServiceFactory

pytestmark = pytest.mark.django_db

VESTFOLD = {
    "3901": "Horten",
    "3903": "Holmestrand",
    "3905": "Tønsberg",
    "3907": "Sandefjord",
    "3909": "Larvik",
    "3911": "Færder",
}
LOCAL_SERVICES = {
    Level.UNIVERSAL: ["Helsestasjon for ungdom – {name}", "Skolehelsetjenesten i {name}"],
    Level.EARLY: ["Ung Arena {name} – lavterskeltilbud", "Psykisk helse- og rustjeneste {name}"],
    Level.TARGETED: ["Oppfølgingstjenesten i {name}", "Barneverntjenesten – {name} kommune"],
    Level.SPECIALIST: ["Ambulant ungdomsteam, {name}", "Spesialsykepleier for rus – {name}"],
}
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def squash(text: str) -> str:
    """Text without whitespace: line breaks in the PDF fall between any two words."""
    return "".join(text.split())


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def missing_names(content: bytes, names: list[str]) -> list[str]:
    text = squash(" ".join(pdf_pages(content)))
    return [name for name in names if squash(name) not in text]


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


@pytest.fixture
def vestfold() -> None:
    """Two services at each level in each municipality, regional and national ones."""
    for number, name in VESTFOLD.items():
        for level, patterns in LOCAL_SERVICES.items():
            for pattern in patterns:
                ServiceFactory(
                    name_nb=pattern.format(name=name),
                    name_nn="",
                    level=level,
                    municipalities=[number],
                    phone="33 00 00 00",
                    offers_sms=level != Level.SPECIALIST,
                    sms_number="2222",
                    referral_required=level == Level.SPECIALIST,
                )
    everyone = list(VESTFOLD)
    for name, level, numbers in [
        ("BUP Vestfold – barne- og ungdomspsykiatrisk poliklinikk", Level.SPECIALIST, everyone),
        ("DPS Vestfold, team for unge voksne", Level.SPECIALIST, everyone),
        ("Rask psykisk helsehjelp Nord-Vestfold", Level.TARGETED, ["3901", "3903", "3905"]),
    ]:
        ServiceFactory(
            name_nb=name,
            name_nn="",
            level=level,
            coverage=Coverage.REGIONAL,
            municipalities=numbers,
        )
    for name, level in [
        ("Alarmtelefonen for barn og unge", Level.EARLY),
        ("Mental Helse Hjelpetelefonen – døgnåpen", Level.EARLY),
        ("Det finnes hjelp – nasjonal tjeneste", Level.SPECIALIST),
        ("Ung.no – spør anonymt om kropp, følelser og rus", Level.UNIVERSAL),
    ]:
        ServiceFactory(
            name_nb=name,
            name_nn="",
            level=level,
            coverage=Coverage.NATIONAL,
            municipalities=[],
            offers_chat=True,
        )


# --- acceptance: every Vestfold municipality -------------------------------------------


@pytest.mark.parametrize("number", list(VESTFOLD))
def test_map_pdf_of_each_vestfold_municipality_is_one_page_with_every_service(vestfold, number):
    service_map = map_for_municipality(number=number)

    pdf = map_render_pdf(service_map=service_map)

    assert service_map.service_count == 8 + 2 + (1 if number in {"3901", "3903", "3905"} else 0) + 4
    assert len(pdf_pages(pdf)) == 1
    assert missing_names(pdf, service_map.service_names) == []
    assert VESTFOLD[number] in pdf_pages(pdf)[0]


@pytest.mark.parametrize("number", list(VESTFOLD))
def test_map_png_of_each_vestfold_municipality_is_a_print_sized_picture(vestfold, number):
    service_map = map_for_municipality(number=number)

    png = map_render_png(service_map=service_map, dpi=150)

    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    # A4 landscape, 297 × 210 mm, at 150 dots per inch.
    assert abs(image.width - 297 / 25.4 * 150) <= 2
    assert abs(image.height - 210 / 25.4 * 150) <= 2
    assert image.width >= 1700
    assert image.width > image.height
    assert round(image.info["dpi"][0]) == 150
    colours = {colour for _count, colour in image.convert("RGB").getcolors(1 << 24)}
    assert {rgb(c) for c in LEVEL_COLOURS.values()} <= colours


def test_map_pdf_of_the_vestfold_partnership_holds_every_service_on_one_page(vestfold):
    service_map = map_for_partnership(code="helsefellesskap-vestfold")

    pdf = map_render_pdf(service_map=service_map)

    assert service_map.service_count == 6 * 8 + 3 + 4
    assert len(pdf_pages(pdf)) == 1
    assert missing_names(pdf, service_map.service_names) == []


def test_map_png_of_the_vestfold_partnership_renders(vestfold):
    png = map_render_png(service_map=map_for_partnership(code="helsefellesskap-vestfold"))

    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.width >= 1700


# --- many services ----------------------------------------------------------------------


def test_sixty_services_all_fit_on_one_page(vestfold):
    for index in range(60):
        ServiceFactory(
            name_nb=f"Lavterskeltilbud nr. {index:02d} for små og store – Sandefjord",
            level=Level.values[index % 4],
            municipalities=["3907"],
            offers_chat=True,
            offers_sms=True,
            sms_number="41 23 45 67",
        )
    service_map = map_for_municipality(number="3907")

    pdf = map_render_pdf(service_map=service_map)

    assert service_map.service_count == 60 + 14
    assert len(pdf_pages(pdf)) == 1
    assert missing_names(pdf, service_map.service_names) == []


def test_a_map_too_big_for_one_page_continues_on_the_next_and_loses_nothing():
    for index in range(200):
        ServiceFactory(
            weekly_hours=[],
            name_nb=f"Tjenesten «Ærlig og åpen» nummer {index:03d} for barn, unge og familier",
            level=Level.values[index % 4],
            offers_chat=True,
            offers_sms=True,
            sms_number="41 23 45 67",
            referral_required=index % 3 == 0,
        )
    service_map = map_for_municipality(number="3901")

    pdf = map_render_pdf(service_map=service_map)

    pages = pdf_pages(pdf)
    assert len(pages) >= 2
    assert missing_names(pdf, service_map.service_names) == []
    assert "Page 2" in pages[1] or "Side 2" in pages[1]


# --- page content -----------------------------------------------------------------------


def test_pdf_has_title_metadata_legend_and_footer(vestfold):
    with translation.override("en"):
        service_map = map_for_municipality(number="3905")
        pdf = map_render_pdf(service_map=service_map)

    reader = PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    assert reader.metadata.title == "Service map for Tønsberg"
    assert reader.metadata.author == "Samhandling"
    assert "Samhandling" in text
    assert "The intervention pyramid" in text
    for label in ["Specialist health service", "Early help", "Targeted municipal help"]:
        assert label in text
    assert "Demo" not in text


def test_pdf_of_demo_data_says_so(vestfold):
    ServiceFactory(name_nb="Fiktivt tilbud", is_demo=True)
    with translation.override("en"):
        pdf = map_render_pdf(service_map=map_for_municipality(number="3901"))

    assert "all services and contact details on this map are fictional" in pdf_pages(pdf)[0]


def test_pdf_of_a_municipality_without_services_still_shows_the_pyramid():
    with translation.override("en"):
        pdf = map_render_pdf(service_map=map_for_municipality(number="5622"))

    text = pdf_pages(pdf)[0]
    assert len(pdf_pages(pdf)) == 1
    assert text.count("No services at this level.") == 4


def test_png_follows_the_dpi_asked_for(vestfold):
    service_map = map_for_municipality(number="3909")

    small = Image.open(io.BytesIO(map_render_png(service_map=service_map, dpi=75)))
    large = Image.open(io.BytesIO(map_render_png(service_map=service_map, dpi=300)))

    assert abs(large.width - 4 * small.width) <= 4


def test_png_refuses_an_absurd_dpi(vestfold):
    with pytest.raises(ValueError, match="dpi"):
        map_render_png(service_map=map_for_municipality(number="3909"), dpi=5000)


# --- fonts ------------------------------------------------------------------------------


def test_font_draws_norwegian_and_common_sami_letters():
    font = maps.map_font()

    for char in "æøåÆØÅáčđšžÁČĐŠŽ–·":
        assert ord(char) in font.glyphs, char


@pytest.mark.skipif(not DEJAVU.exists(), reason="DejaVu is not installed on this machine")
def test_sami_names_survive_in_the_pdf_with_dejavu():
    pdf = map_render_pdf(service_map=map_for_municipality(number="5622"))

    assert "Porsáŋgu" in pdf_pages(pdf)[0]


def test_without_system_fonts_the_font_shipped_with_reportlab_is_used(monkeypatch, vestfold):
    vera = [path for path in maps.FONT_CANDIDATES if path[0].name == "Vera.ttf"]
    monkeypatch.setattr(
        maps, "FONT_CANDIDATES", [(Path("/nonexistent/font.ttf"), vera[0][1]), *vera]
    )
    service_map = map_for_municipality(number="3911")

    pdf = map_render_pdf(service_map=service_map)

    fonts = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    base_fonts = {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    assert all("Vera" in name for name in base_fonts), base_fonts
    assert missing_names(pdf, service_map.service_names) == []
    assert "Færder" in pdf_pages(pdf)[0]


def test_letters_the_fallback_font_lacks_are_drawn_as_their_base_letter(monkeypatch):
    vera = [path for path in maps.FONT_CANDIDATES if path[0].name == "Vera.ttf"]
    monkeypatch.setattr(maps, "FONT_CANDIDATES", vera)

    font = maps.map_font()
    pdf = map_render_pdf(service_map=map_for_municipality(number="5622"))

    assert font.clean("Porsáŋgu Ŧ") == "Porsángu T"
    assert "Porsángu" in pdf_pages(pdf)[0]
    assert len(pdfium.PdfDocument(pdf)) == 1


# --- the Vestfold demo data -------------------------------------------------------------


@pytest.fixture
def demo_loaded():
    from samhandling.directory.services.demo import demo_load

    result = demo_load()
    assert result.services_created > 0
    return result


@pytest.mark.parametrize("number", list(VESTFOLD))
def test_demo_map_of_each_vestfold_municipality_renders_with_every_service(demo_loaded, number):
    service_map = map_for_municipality(number=number)

    pdf = map_render_pdf(service_map=service_map)
    png = Image.open(io.BytesIO(map_render_png(service_map=service_map)))

    assert service_map.is_demo
    assert service_map.service_count > 0
    assert all(level.services for level in service_map.levels)
    assert len(pdf_pages(pdf)) == 1
    assert missing_names(pdf, service_map.service_names) == []
    assert png.format == "PNG"
    assert png.width >= 1700


def test_demo_map_of_the_vestfold_partnership_renders_with_every_service(demo_loaded):
    service_map = map_for_partnership(code="helsefellesskap-vestfold")

    pdf = map_render_pdf(service_map=service_map)
    png = Image.open(io.BytesIO(map_render_png(service_map=service_map)))

    assert service_map.service_count > 0
    assert len(pdf_pages(pdf)) == 1
    assert missing_names(pdf, service_map.service_names) == []
    assert png.format == "PNG"
    assert png.width >= 1700
