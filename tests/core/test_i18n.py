import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
TRANSLATED = ["nb", "nn"]
# `%%` is a literal percent sign; named placeholders must survive translation unchanged.
PLACEHOLDER = re.compile(r"%%|%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (list), flags."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": {}}
        key = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry = {}
                break
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                value = ast.literal_eval(line)
                if isinstance(key, int):
                    entry["msgstr"][key] += value
                else:
                    entry[key] += value
            else:
                word, rest = line.split(" ", 1)
                plural_index = re.fullmatch(r"msgstr\[(\d+)\]", word)
                if plural_index:
                    key = int(plural_index.group(1))
                    entry["msgstr"][key] = ast.literal_eval(rest)
                elif word == "msgstr":
                    key = 0
                    entry["msgstr"][0] = ast.literal_eval(rest)
                else:
                    key = word
                    entry[key] = ast.literal_eval(rest)
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def page(client, language: str | None = None) -> str:
    if language:
        response = client.post(
            reverse("set_language"), {"language": language, "next": reverse("core:home")}
        )
        assert response.status_code == 302
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_home_page_is_in_bokmal_by_default(client):
    html = page(client)
    assert '<html lang="nb">' in html
    assert "Finn hjelp" in html
    assert "Tjenestekart" in html
    assert "Åpent nå, uten henvisning" in html
    assert "Find help" not in html


def test_choosing_nynorsk_shows_the_home_page_in_nynorsk(client):
    html = page(client, "nn")
    assert '<html lang="nn">' in html
    assert "Tenestekart" in html
    assert "Ope no, utan tilvising" in html
    assert "Tjenestekart" not in html
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nn"


def test_choosing_english_shows_the_home_page_in_english(client):
    html = page(client, "en")
    assert '<html lang="en">' in html
    assert "Find help" in html
    assert "Service map" in html
    assert "Finn hjelp" not in html


def test_an_unknown_language_is_ignored_and_bokmal_stays(client):
    html = page(client, "xx")
    assert '<html lang="nb">' in html
    assert "Finn hjelp" in html
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    entries = parse_po(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_header_names_the_language_and_its_plural_forms(language):
    raw = (LOCALE_DIR / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert f"Language: {language}\\n" in raw
    assert "Plural-Forms: nplurals=2; plural=(n != 1);\\n" in raw
    assert "charset=UTF-8" in raw
    assert not raw.startswith("#, fuzzy")
    assert '\n#, fuzzy\nmsgid ""' not in raw


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_matches_the_po_file(language):
    entries = parse_po(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")
    with (LOCALE_DIR / language / "LC_MESSAGES" / "django.mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    stale = []
    for entry in entries:
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            for n, index in ((1, 0), (2, 1)):
                if context is None:
                    got = catalogue.ngettext(entry["msgid"], entry["msgid_plural"], n)
                else:
                    got = catalogue.npgettext(context, entry["msgid"], entry["msgid_plural"], n)
                if got != entry["msgstr"][index]:
                    stale.append(entry["msgid"])
        else:
            if context is None:
                got = catalogue.gettext(entry["msgid"])
            else:
                got = catalogue.pgettext(context, entry["msgid"])
            if got != entry["msgstr"][0]:
                stale.append(entry["msgid"])
    assert stale == [], "run `samhandling compilemessages`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_are_kept_in_every_translation(language):
    entries = parse_po(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")
    wrong = []
    for entry in entries:
        if "msgid_plural" in entry:
            # The singular may spell the number out ("One service"), but may not invent one.
            allowed = set(placeholders(entry["msgid"] + entry["msgid_plural"]))
            if not set(placeholders(entry["msgstr"][0])) <= allowed:
                wrong.append(entry["msgid"])
            if placeholders(entry["msgstr"][1]) != placeholders(entry["msgid_plural"]):
                wrong.append(entry["msgid_plural"])
        elif placeholders(entry["msgstr"][0]) != placeholders(entry["msgid"]):
            wrong.append(entry["msgid"])
    assert wrong == []


def test_the_placeholder_check_catches_a_lost_or_renamed_placeholder():
    assert placeholders("Side %(number)s av %(total)s") == placeholders(
        "Page %(number)s of %(total)s"
    )
    assert placeholders("Side %(nummer)s") != placeholders("Page %(number)s")
    assert placeholders("Hold under %(max)s tegn.") != placeholders("Keep under %(max)d.")
    assert placeholders("%%(count)s kommuner") == placeholders("%%(count)s municipalities")
