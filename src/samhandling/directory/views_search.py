"""The public search and the public page of one service. No login needed."""

import datetime as dt
import re
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from samhandling.core.models import Municipality
from samhandling.core.services import Text, pick
from samhandling.directory.models import Channel, Coverage, Level, Need, Referrer, Service
from samhandling.directory.services.editing import service_may_edit
from samhandling.directory.services.opening import (
    OpeningStatus,
    local_moment,
    service_opening_status,
    service_week,
)
from samhandling.directory.services.search import (
    AGE_MAX,
    AGE_MIN,
    MunicipalityRef,
    SearchFilters,
    Widening,
    search_page,
    search_widenings,
)

PAGE_SIZE = 20
MAX_PAGE = 100_000


def wants_fragment(request: HttpRequest) -> bool:
    # Back/forward after a history-cache miss needs the whole page.
    h = request.headers
    return "HX-Request" in h and "HX-History-Restore-Request" not in h


# --- text in bokmål or nynorsk ----------------------------------------------------------


def localized(service: Service, name: str) -> Text:
    """The nynorsk text when the page is in nynorsk, else bokmål; the other one if missing."""
    return pick({"nb": getattr(service, f"{name}_nb"), "nn": getattr(service, f"{name}_nn")})


# --- opening status as a sentence -------------------------------------------------------


def _day_words(day: dt.date, today: dt.date) -> str:
    if day == today:
        return _("today")
    if day == today + dt.timedelta(days=1):
        return _("tomorrow")
    return f"{date_format(day, 'l')} {date_format(day, 'MONTH_DAY_FORMAT')}"


def status_text(status: OpeningStatus, at: dt.datetime) -> str:
    """'Open now, until 16:00.' / 'Opens tomorrow at 08:00.' and the like."""
    if status.always_open:
        return _("Open around the clock.")
    today = local_moment(at).date()
    if status.is_open and status.closes_at:
        return _("Open now, until %(time)s.") % {"time": f"{status.closes_at:%H:%M}"}
    if status.next_opening:
        return _("Closed now. Opens %(day)s at %(time)s.") % {
            "day": _day_words(status.next_opening.date(), today),
            "time": f"{status.next_opening:%H:%M}",
        }
    return _("Closed now. No opening hours in the next two weeks.")


# --- search -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """What one result card shows, worked out here: cheaper than template lookups."""

    service: Service
    url: str
    name: Text
    level_label: str
    status: OpeningStatus
    status_text: str
    where: str
    needs: str
    channels: list[str]


CHANNEL_LABELS = dict(Channel.choices)


CARD_MUNICIPALITIES_LISTED = 4


def _where(municipalities: list[MunicipalityRef]) -> str:
    """A few municipalities by name; a county-wide service as the county and a count."""
    if not municipalities:
        return _("Not given")
    if len(municipalities) <= CARD_MUNICIPALITIES_LISTED:
        return ", ".join(m.name for m in municipalities)
    counties = sorted({m.county_name for m in municipalities})
    return ngettext(
        "%(counties)s: %(count)d municipality",
        "%(counties)s: %(count)d municipalities",
        len(municipalities),
    ) % {"counties": ", ".join(counties), "count": len(municipalities)}


def _card(service: Service, at: dt.datetime) -> Card:
    opening = service_opening_status(service=service, at=at)
    if service.coverage == Coverage.NATIONAL:
        where = _("The whole country")
    else:
        where = _where(service.linked_municipalities)
    return Card(
        service=service,
        url=reverse("directory:service-detail", args=[service.code]),
        name=localized(service, "name"),
        level_label=str(Level(service.level).label),
        status=opening,
        status_text=status_text(opening, at),
        where=where,
        needs=", ".join(need.name for need in service.linked_needs),
        channels=[str(CHANNEL_LABELS[c]) for c in service.channels()],
    )


@dataclass(frozen=True)
class Pages:
    """Where a page of results sits among all of them."""

    number: int
    total: int

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.num_pages else None


def _page_number(raw: str | None) -> int:
    try:
        # Bounded, so a silly number in a URL cannot overflow the database's OFFSET.
        return min(max(int(raw or 1), 1), MAX_PAGE)
    except ValueError:
        return 1


def _widening_text(widening: Widening) -> str:
    count = widening.count
    texts = {
        "municipality": ngettext(
            "%(count)d service in any municipality",
            "%(count)d services in any municipality",
            count,
        ),
        "age": ngettext("%(count)d service for any age", "%(count)d services for any age", count),
        "needs": ngettext(
            "%(count)d service for any need", "%(count)d services for any need", count
        ),
        "levels": ngettext(
            "%(count)d service at any level", "%(count)d services at any level", count
        ),
        "channels": ngettext(
            "%(count)d service with any way of getting in touch",
            "%(count)d services with any way of getting in touch",
            count,
        ),
        "no_referral": ngettext(
            "%(count)d service if a referral is fine",
            "%(count)d services if a referral is fine",
            count,
        ),
        "open_now": ngettext(
            "%(count)d service if it need not be open now",
            "%(count)d services if they need not be open now",
            count,
        ),
        "q": ngettext(
            "%(count)d service without the search text",
            "%(count)d services without the search text",
            count,
        ),
    }
    return texts[widening.name] % {"count": count}


MUNICIPALITY_OPTIONS_KEY = "directory:municipality-options"


def _municipality_options(selected: str | None) -> str:
    # 357 options cost more than the search itself: built once and cached (the list changes
    # only when reference data is loaded; core's signals drop the cached copy then).
    options = cache.get(MUNICIPALITY_OPTIONS_KEY)
    if options is None:
        options = str(
            format_html_join(
                "",
                '<option value="{}">{}</option>',
                Municipality.objects.values_list("number", "name"),
            )
        )
        cache.set(MUNICIPALITY_OPTIONS_KEY, options, timeout=3600)
    if selected:
        options = options.replace(f'value="{selected}">', f'value="{selected}" selected>', 1)
    return mark_safe(options)  # noqa: S308 - built from escaped values above


def _form_context(filters: SearchFilters) -> dict[str, object]:
    return {
        "municipality_options": _municipality_options(filters.municipality),
        "needs": Need.objects.all(),
        "levels": Level.choices,
        "channels": Channel.choices,
        "filters": filters,
        "age_min": AGE_MIN,
        "age_max": AGE_MAX,
    }


def search(request: HttpRequest) -> HttpResponse:
    """Find services by municipality, age, need, level, channel, referral and 'open now'."""
    at = timezone.now()
    filters = SearchFilters.from_query(request.GET)
    context: dict[str, object] = {"filters": filters, "errors": filters.errors, "at": at}
    status = 200
    if filters.errors:
        status = 400
    else:
        number = _page_number(request.GET.get("page"))
        found = search_page(filters=filters, at=at, offset=(number - 1) * PAGE_SIZE)
        pages = Pages(number=number, total=found.total)
        if number > pages.num_pages:
            # Past the end (an old link): show the last page.
            pages = Pages(number=pages.num_pages, total=found.total)
            found = search_page(filters=filters, at=at, offset=(pages.number - 1) * PAGE_SIZE)
        context["pages"] = pages
        context["cards"] = [_card(service, at) for service in found.services]
        context["query"] = filters.to_query()
        if found.total == 0 and filters.active():
            context["widenings"] = [
                (w, _widening_text(w)) for w in search_widenings(filters=filters, at=at)
            ]
    if wants_fragment(request):
        template = "directory/_results.html"
    else:
        template = "directory/search.html"
        context.update(_form_context(filters))
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- one service ------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    label: str
    text: str
    href: str = ""


def _digits(number: str) -> str:
    return re.sub(r"[^\d+]", "", number)


def _ways_in(service: Service) -> list[Contact]:
    """The channels the service offers, each with a link to use it where there is one."""
    ways = []
    if service.offers_phone:
        ways.append(
            Contact(
                str(Channel.PHONE.label),
                service.phone or _("Number not given"),
                f"tel:{_digits(service.phone)}" if service.phone else "",
            )
        )
    if service.offers_sms:
        number = service.sms_number or service.phone
        ways.append(
            Contact(
                str(Channel.SMS.label),
                number or _("Number not given"),
                f"sms:{_digits(number)}" if number else "",
            )
        )
    if service.offers_chat:
        ways.append(
            Contact(
                str(Channel.CHAT.label),
                _("Open the chat") if service.chat_url else _("Address not given"),
                service.chat_url,
            )
        )
    if service.offers_web_form:
        ways.append(
            Contact(
                str(Channel.WEB_FORM.label),
                _("Go to the website") if service.website else _("Address not given"),
                service.website,
            )
        )
    if service.offers_drop_in:
        address = ", ".join(
            filter(None, [service.street_address, f"{service.postal_code} {service.city}".strip()])
        )
        ways.append(Contact(str(Channel.DROP_IN.label), address or _("Come by in opening hours")))
    return ways


def _other_contacts(service: Service) -> list[Contact]:
    contacts = []
    if service.phone and not service.offers_phone:
        contacts.append(Contact(_("Phone"), service.phone, f"tel:{_digits(service.phone)}"))
    if service.email:
        contacts.append(Contact(_("Email"), service.email, f"mailto:{service.email}"))
    if service.website:
        contacts.append(Contact(_("Website"), service.website, service.website))
    return contacts


def _map_url(service: Service) -> str:
    if service.latitude is None or service.longitude is None:
        return ""
    lat, lon = service.latitude, service.longitude
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"


def _is_stale(service: Service, at: dt.datetime) -> bool:
    if service.last_verified is None:
        return True
    days = round(settings.SAMHANDLING_VERIFY_MONTHS * 30.44)
    return service.last_verified < local_moment(at).date() - dt.timedelta(days=days)


def service_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    """The public page of one service: who it is for, how to get in, when it is open."""
    at = timezone.now()
    service = (
        Service.objects.select_related("unit")
        .prefetch_related("needs", "municipalities", "hours", "exceptions")
        .filter(code=code)
        .first()
    )
    may_see_inactive = request.user.has_perm("directory.view_service")
    if service is None or not (service.is_active or may_see_inactive):
        raise Http404(_("No service with this address."))
    status = service_opening_status(service=service, at=at)
    referrers = dict(Referrer.choices)
    context = {
        "service": service,
        "name": localized(service, "name"),
        "description": localized(service, "description"),
        "how_to": localized(service, "how_to"),
        "level_label": Level(service.level).label,
        "is_national": service.coverage == Coverage.NATIONAL,
        "status": status,
        "status_text": status_text(status, at),
        "week": service_week(service=service, at=at),
        "ways_in": _ways_in(service),
        "contacts": _other_contacts(service),
        "referrers": [referrers.get(code, code) for code in service.referrers],
        "map_url": _map_url(service),
        "is_stale": _is_stale(service, at),
        "at": at,
        "may_edit": service_may_edit(user=request.user, service=service),
    }
    return render(request, "directory/service_detail.html", context)
