"""Change proposals: any reader (no login) or staff user proposes a change to a pathway.

A public proposal keeps only its text and a secret token: no name, address, IP address or
user agent. The sender keeps the token's link to see the outcome. Editors accept a proposal
into the open draft of its scope (started if there is none) or reject it with a reason.
"""

import re
import unicodedata
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from samhandling.core.models import Municipality
from samhandling.pathways.models import (
    ChangeProposal,
    Pathway,
    PathwayVersion,
    ProposalStatus,
    ScopeKind,
)
from samhandling.pathways.services.content import base_step_keys
from samhandling.pathways.services.resolve import pathway_resolve
from samhandling.pathways.services.workflow import (
    NotAllowed,
    draft_start,
    may_edit,
    published_version,
)

TEXT_MIN = 10
TEXT_MAX = 4000
REASON_MAX = 4000
TOKEN_MAX = 64

# Rate limits for proposals from readers who are not logged in. Public proposals are
# anonymous, so nothing in the database can tell one sender from another; a flood (a bot,
# or one person pasting the same text a hundred times) would bury the editors' list. A
# counter per client in the cache, for one hour, stops that without storing who sent what:
# the cache key is a keyed hash of the client address (not reversible without the secret
# key), the counter expires by itself, and nothing of it reaches the database or the logs.
# The total limit caps what many addresses together can send.
RATE_WINDOW_SECONDS = 60 * 60
RATE_PER_CLIENT = 5
RATE_TOTAL = 200
_RATE_PREFIX = "pathways:proposal-rate"

# Control characters go, except line breaks and tabs; so do the bidirectional overrides,
# which can make a text read differently from what it is.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_SPACES = re.compile(r"[^\S\n]+")
_MANY_BREAKS = re.compile(r"\n{3,}")


class ProposalError(ValueError):
    """The proposal cannot be stored or decided as asked; the message is translated."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class ProposalRateLimited(Exception):
    """Too many proposals from this sender (or from everyone) in the last hour (429)."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or _(
            "Many proposals have been sent from here in the last hour. Please try again later."
        )
        super().__init__(self.message)


def proposal_clean_text(text: str) -> str:
    """Plain, inert text: no control characters, tidy whitespace; < > & stay as they are.

    The text is never rendered as HTML (templates escape it), so nothing else is removed:
    a proposal may well quote "<3 months" or "A & B".
    """
    text = unicodedata.normalize("NFC", str(text or ""))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for char in text:
        if char == "\n":
            kept.append(char)
        elif char == "\t":
            kept.append(" ")
        elif char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
            continue
        elif unicodedata.category(char) in ("Zl", "Zp"):
            kept.append("\n")
        else:
            kept.append(char)
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(kept).split("\n")]
    return _MANY_BREAKS.sub("\n\n", "\n".join(lines)).strip()


def _too_long(maximum: int, length: int) -> ProposalError:
    return ProposalError(
        _("The text is too long: at most %(count)d characters (it has %(length)d).")
        % {"count": maximum, "length": length}
    )


def _checked_text(text: str, *, minimum: int, maximum: int, what: str) -> str:
    text = str(text or "")
    if len(text) > maximum * 4:  # far too long whatever cleaning removes: do not clean it
        raise _too_long(maximum, len(text))
    cleaned = proposal_clean_text(text)
    if not cleaned:
        raise ProposalError(_("Write %(what)s.") % {"what": what})
    if len(cleaned) < minimum:
        raise ProposalError(
            _("Write a little more: at least %(count)d characters.") % {"count": minimum}
        )
    if len(cleaned) > maximum:
        raise _too_long(maximum, len(cleaned))
    return cleaned


def proposal_check_text(text: str) -> str:
    """The cleaned proposal text, or ProposalError if it is empty, too short or too long."""
    return _checked_text(text, minimum=TEXT_MIN, maximum=TEXT_MAX, what=_("your proposal"))


def _version_read(
    pathway: Pathway, step_key: str, municipality: Municipality | None
) -> PathwayVersion:
    """The published version whose text the proposer read: a local one for a local step."""
    base = published_version(pathway=pathway)
    if base is None:
        raise ProposalError(_("This pathway is not published, so it cannot take proposals."))
    keys = base_step_keys(base.content)
    if municipality is not None and step_key:
        resolved = pathway_resolve(pathway=pathway, municipality=municipality)
        step = next((s for s in resolved.steps() if s.key == step_key), None)
        if step is not None and step.origin != ScopeKind.BASE:
            for adaptation in reversed(resolved.adaptations):
                if adaptation.scope == step.origin:
                    return adaptation
    if step_key and step_key not in keys:
        raise ProposalError(_("This pathway has no such step."))
    return base


def proposal_submit(
    *,
    pathway: Pathway,
    text: str,
    step_key: str = "",
    user: Any = None,
    municipality: Municipality | None = None,
) -> ChangeProposal:
    """Store a proposal for one step (`step_key`) or for the pathway as a whole ("").

    With `municipality`, a step that the local version changed or added is proposed to the
    editors of that local adaptation; every other proposal goes to the base version's.
    Nothing about an anonymous sender is stored; a logged-in sender is the `proposer`.
    """
    cleaned = proposal_check_text(text)
    step_key = str(step_key or "").strip()
    if len(step_key) > 80:
        raise ProposalError(_("This pathway has no such step."))
    version = _version_read(pathway, step_key, municipality)
    proposer = user if getattr(user, "is_authenticated", False) else None
    return ChangeProposal.objects.create(
        pathway=pathway, version=version, step_key=step_key, text=cleaned, proposer=proposer
    )


def _rate_key(name: str) -> str:
    return f"{_RATE_PREFIX}:{name}"


def _count(key: str) -> int:
    # add() only sets a missing key, so the window starts with the first proposal and ends
    # RATE_WINDOW_SECONDS later; incr() is atomic on every cache backend Django ships.
    cache.add(key, 0, timeout=RATE_WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=RATE_WINDOW_SECONDS)
        return 1


def proposal_rate_check(*, client_key: str) -> None:
    """Count one public proposal from `client_key`; ProposalRateLimited when over a limit.

    `client_key` is whatever tells senders apart (the view passes the client address); it
    is only used hashed with the site's secret key, as a cache key that expires.
    """
    digest = salted_hmac(_RATE_PREFIX, str(client_key), algorithm="sha256").hexdigest()
    if _count(_rate_key(f"client:{digest}")) > RATE_PER_CLIENT:
        raise ProposalRateLimited()
    if _count(_rate_key("total")) > RATE_TOTAL:
        raise ProposalRateLimited(
            _("Very many proposals have been sent in the last hour. Please try again later.")
        )


def proposal_by_token(token: str) -> ChangeProposal | None:
    """The proposal behind a secret link, or None."""
    token = str(token or "")
    if not token or len(token) > TOKEN_MAX:
        return None
    return (
        ChangeProposal.objects.select_related("pathway", "version", "accepted_into")
        .filter(token=token)
        .first()
    )


def _target(proposal: ChangeProposal) -> PathwayVersion:
    """A version of the scope the proposal is for (its rights are those of the scope)."""
    version = proposal.version
    if version is None:
        version = published_version(pathway=proposal.pathway)
    if version is None:
        version = PathwayVersion(pathway=proposal.pathway, scope=ScopeKind.BASE)
        version.scope_key = "base"
    return version


def proposals_open(*, user: Any) -> list[ChangeProposal]:
    """New proposals, oldest first, for the pathways and scopes `user` may edit."""
    proposals = (
        ChangeProposal.objects.filter(status=ProposalStatus.NEW)
        .select_related(
            "pathway", "version", "version__partnership", "version__municipality", "proposer"
        )
        .order_by("created_at", "pk")
    )
    allowed: dict[tuple[int, str], bool] = {}
    found = []
    for proposal in proposals:
        target = _target(proposal)
        key = (proposal.pathway_id, target.scope_key)
        if key not in allowed:
            allowed[key] = may_edit(user=user, version=target)
        if allowed[key]:
            found.append(proposal)
    return found


def _decidable(user: Any, proposal: ChangeProposal) -> ChangeProposal:
    """The proposal, locked; NotAllowed for outsiders, ProposalError if already decided."""
    if not may_edit(user=user, version=_target(proposal)):
        raise NotAllowed(_("You may not change this pathway."))
    locked = ChangeProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != ProposalStatus.NEW:
        raise ProposalError(_("This proposal has already been decided."))
    return locked


@transaction.atomic
def proposal_accept(*, user: Any, proposal: ChangeProposal) -> PathwayVersion:
    """Accept a proposal into the open draft of its scope, started if there is none.

    The editor then works the proposal's text into that draft.
    """
    locked = _decidable(user, proposal)
    target = _target(locked)
    draft = draft_start(
        user=user,
        pathway=locked.pathway,
        scope=target.scope,
        partnership=target.partnership if target.scope == ScopeKind.PARTNERSHIP else None,
        municipality=target.municipality if target.scope == ScopeKind.MUNICIPALITY else None,
    )
    locked.status = ProposalStatus.ACCEPTED
    locked.accepted_into = draft
    locked.decided_by = user
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "accepted_into", "decided_by", "decided_at"])
    _refresh(proposal, locked)
    return draft


@transaction.atomic
def proposal_reject(*, user: Any, proposal: ChangeProposal, reason: str) -> ChangeProposal:
    """Reject a proposal; the reason is required, and the proposer sees it."""
    locked = _decidable(user, proposal)
    locked.reason = _checked_text(
        reason, minimum=1, maximum=REASON_MAX, what=_("why the proposal is not taken up")
    )
    locked.status = ProposalStatus.REJECTED
    locked.decided_by = user
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    _refresh(proposal, locked)
    return locked


def _refresh(proposal: ChangeProposal, saved: ChangeProposal) -> None:
    """Let the caller's object show the decision too."""
    for name in ("status", "reason", "decided_by", "decided_at", "accepted_into"):
        setattr(proposal, name, getattr(saved, name))
