"""Editor pages for care pathways: dashboard, drafts, review and publishing, history and
diffs, change proposals, and traffic-light feedback rounds.

Thin views: the rules (who may edit or publish, the way of a version, the document checks)
are in services.workflow, services.content, services.proposals and services.feedback;
a refused step raises there and becomes a 403 here, with nothing changed.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from samhandling.directory.models import Level
from samhandling.pathways.forms import (
    AnswerForm,
    DraftForm,
    PublishForm,
    RejectForm,
    RoundForm,
    ScopeForm,
    adaptable_scopes,
    draft_form,
    parse_scope,
)
from samhandling.pathways.models import (
    ChangeProposal,
    FeedbackRound,
    Pathway,
    PathwayVersion,
    ScopeKind,
    Status,
)
from samhandling.pathways.services import feedback, proposals, workflow
from samhandling.pathways.services.content import ContentError
from samhandling.pathways.services.diff import document_diff
from samhandling.pathways.services.resolve import pick, resolve_versions

# --- access -----------------------------------------------------------------------------


def _require_editor(request: HttpRequest) -> None:
    if not feedback.is_editor(request.user):
        raise PermissionDenied


def _version_or_404(pk: int) -> PathwayVersion:
    return get_object_or_404(
        PathwayVersion.objects.select_related(
            "pathway", "partnership", "municipality", "created_by", "published_by", "based_on"
        ),
        pk=pk,
    )


def _editable_version(request: HttpRequest, pk: int) -> PathwayVersion:
    _require_editor(request)
    version = _version_or_404(pk)
    if not workflow.may_edit(user=request.user, version=version):
        raise PermissionDenied
    return version


def _scope_candidate(pathway: Pathway, scope_key: str) -> PathwayVersion:
    """An unsaved version of a scope: the rights of a scope are asked of a version of it."""
    parsed = parse_scope(scope_key)
    if parsed is None:
        raise Http404
    scope, partnership, municipality = parsed
    candidate = PathwayVersion(
        pathway=pathway, scope=scope, partnership=partnership, municipality=municipality
    )
    candidate.scope_key = workflow.scope_key_of(scope, partnership, municipality)
    return candidate


# --- helpers for the pages --------------------------------------------------------------


def _base_document(version: PathwayVersion) -> dict[str, Any] | None:
    """The published base text an adaptation is read against (None for a base version)."""
    if version.scope == ScopeKind.BASE:
        return None
    base = workflow.published_version(pathway=version.pathway)
    return base.content if base else None


def _title_of(pathway: Pathway, version: PathwayVersion | None = None) -> str:
    if version is not None and version.scope == ScopeKind.BASE:
        title = pick(version.content.get("title")).text
        if title:
            return title
    return feedback.pathway_titles([pathway.pk]).get(pathway.pk) or pathway.slug


def _default_against(version: PathwayVersion) -> PathwayVersion | None:
    if version.based_on_id:
        return version.based_on
    return (
        workflow.versions_of_scope(version)
        .filter(number__lt=version.number)
        .order_by("-number")
        .first()
    )


def _history_url(version: PathwayVersion) -> str:
    url = reverse("pathways_edit:history", kwargs={"slug": version.pathway.slug})
    return f"{url}?scope={version.scope_key}"


def _public_url(version: PathwayVersion) -> str:
    url = reverse("pathways:detail", kwargs={"slug": version.pathway.slug})
    if version.scope == ScopeKind.MUNICIPALITY:
        return f"{url}?municipality={version.municipality_id}"
    return url


def _version_context(request: HttpRequest, version: PathwayVersion) -> dict[str, Any]:
    return {
        "version": version,
        "pathway": version.pathway,
        "title": _title_of(version.pathway, version),
        "history_url": _history_url(version),
        "public_url": _public_url(version),
        "may_publish": workflow.may_publish(user=request.user, version=version),
        "is_base": version.scope == ScopeKind.BASE,
    }


# --- dashboard --------------------------------------------------------------------------


@dataclass
class PathwayCard:
    pathway: Pathway
    title: str
    published: PathwayVersion | None
    base_draft: PathwayVersion | None
    scope_form: ScopeForm | None
    local: list[PathwayVersion] = field(default_factory=list)


def _pathway_cards(user: Any, drafts: list[PathwayVersion]) -> list[PathwayCard]:
    choices = adaptable_scopes(user)
    titles = feedback.pathway_titles()
    published = {
        v.pathway_id: v
        for v in PathwayVersion.objects.filter(scope=ScopeKind.BASE, status=Status.PUBLISHED)
    }
    base_drafts = {d.pathway_id: d for d in drafts if d.scope == ScopeKind.BASE}
    local: dict[int, dict[str, PathwayVersion]] = {}
    versions = (
        PathwayVersion.objects.exclude(scope=ScopeKind.BASE)
        .exclude(status=Status.SUPERSEDED)
        .select_related("partnership", "municipality")
        .order_by("-number")
    )
    allowed: dict[str, bool] = {}
    for version in versions:
        if version.scope_key not in allowed:
            allowed[version.scope_key] = workflow.may_edit(user=user, version=version)
        if allowed[version.scope_key]:
            local.setdefault(version.pathway_id, {}).setdefault(version.scope_key, version)
    return [
        PathwayCard(
            pathway=pathway,
            title=titles.get(pathway.pk) or pathway.slug,
            published=published.get(pathway.pk),
            base_draft=base_drafts.get(pathway.pk),
            scope_form=(
                ScopeForm(choices=choices, auto_id=f"scope-{pathway.slug}-%s") if choices else None
            ),
            local=sorted(local.get(pathway.pk, {}).values(), key=lambda v: v.scope_label),
        )
        for pathway in Pathway.objects.order_by("slug")
    ]


def _proposal_rows(user: Any) -> list[dict[str, Any]]:
    rows = []
    titles = feedback.pathway_titles()
    step_titles: dict[int, dict[str, str]] = {}
    for proposal in proposals.proposals_open(user=user):
        if proposal.pathway_id not in step_titles:
            step_titles[proposal.pathway_id] = _step_titles(proposal.pathway)
        step = step_titles[proposal.pathway_id].get(proposal.step_key, "")
        rows.append(
            {
                "proposal": proposal,
                "pathway_title": titles.get(proposal.pathway_id) or proposal.pathway.slug,
                "step_title": step or proposal.step_key,
                "scope_label": proposal.version.scope_label if proposal.version else "",
                "reject_form": RejectForm(auto_id=f"reject-{proposal.code}-%s"),
            }
        )
    return rows


def _step_titles(pathway: Pathway) -> dict[str, str]:
    """Step key → title, from the base and every published adaptation of the pathway."""
    titles: dict[str, str] = {}
    for version in pathway.versions.filter(status=Status.PUBLISHED):
        content = version.content
        for phase in content.get("phases", []):
            for step in phase.get("steps", []):
                titles[step["key"]] = pick(step.get("title")).text
        for entry in content.get("added_steps", []):
            step = entry.get("step", {})
            titles.setdefault(step.get("key", ""), pick(step.get("title")).text)
    return titles


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    user = request.user
    drafts = workflow.drafts_for(user=user)
    titles = feedback.pathway_titles()
    context = {
        "drafts": [
            {"version": d, "title": titles.get(d.pathway_id, d.pathway.slug)} for d in drafts
        ],
        "overdue": [
            {"item": o, "title": titles.get(o.version.pathway_id, o.version.pathway.slug)}
            for o in workflow.revisions_overdue(user=user)
        ],
        "proposals": _proposal_rows(user),
        "rounds": feedback.rounds_open(user=user),
        "cards": _pathway_cards(user, drafts),
    }
    return render(request, "pathways/edit_dashboard.html", context)


@require_POST
@login_required
def draft_start(request: HttpRequest, slug: str) -> HttpResponse:
    _require_editor(request)
    pathway = get_object_or_404(Pathway, slug=slug)
    form = ScopeForm(request.POST, choices=adaptable_scopes(request.user), include_base=True)
    if not request.POST.get("scope"):
        messages.error(request, _("Choose the place the local adaptation is for."))
        return redirect("pathways_edit:dashboard")
    if not form.is_valid():
        raise PermissionDenied  # a scope the editor may not adapt, or none at all
    before = workflow.open_draft(_scope_candidate(pathway, form.cleaned_data["scope"]))
    try:
        draft = workflow.draft_start(user=request.user, pathway=pathway, **form.scope_args())
    except workflow.NotAllowed as error:
        raise PermissionDenied from error
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
        return redirect("pathways_edit:dashboard")
    if before is not None:
        messages.info(
            request,
            _("A draft of this version was already open, so you continue that one."),
        )
    else:
        messages.success(
            request, _("Draft version %(number)d is started.") % {"number": draft.number}
        )
    return redirect("pathways_edit:version", pk=draft.pk)


# --- one version: edit a draft, or read it in review or published -----------------------


def _render_draft(
    request: HttpRequest,
    version: PathwayVersion,
    form: DraftForm,
    *,
    status: int = 200,
    conflict: str = "",
) -> HttpResponse:
    context = {
        **_version_context(request, version),
        "form": form,
        "conflict": conflict,
        "has_errors": bool(form.errors),
        "latest": _version_or_404(version.pk) if conflict else None,
        "accepted": _accepted_proposals(version),
    }
    return render(request, "pathways/edit_draft.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    version = _editable_version(request, pk)
    base = _base_document(version)
    if request.method != "POST":
        if version.status != Status.DRAFT:
            return _render_version(request, version)
        return _render_draft(request, version, draft_form(version, base=base))
    form = draft_form(version, request.POST, base=base)
    if not form.is_valid():
        return _render_draft(request, version, form, status=400)
    action = request.POST.get("action", "save")
    try:
        with transaction.atomic():
            saved = workflow.draft_save(
                user=request.user,
                version=version,
                content=form.content(),
                revision=form.cleaned_data["revision"],
                change_note=form.change_note_value(),
            )
            if action == "review":
                saved = workflow.review_request(user=request.user, version=saved)
    except workflow.NotAllowed as error:
        raise PermissionDenied from error
    except workflow.Conflict as error:
        return _render_draft(request, version, form, status=409, conflict=str(error))
    except workflow.WorkflowError as error:
        # Sent to review or published by someone else meanwhile: keep the typed text.
        return _render_draft(request, version, form, status=409, conflict=str(error))
    except ContentError as error:
        form.attach_problems(error.problems)
        return _render_draft(request, version, form, status=400)
    if action == "review":
        messages.success(
            request,
            _("Version %(number)d is saved and sent to review.") % {"number": saved.number},
        )
    else:
        messages.success(request, _("The draft is saved."))
    return redirect("pathways_edit:version", pk=saved.pk)


def _render_version(request: HttpRequest, version: PathwayVersion) -> HttpResponse:
    against = _default_against(version)
    context = {
        **_version_context(request, version),
        "against": against,
        # A first version has nothing to compare with: the preview shows it whole.
        "diff": (
            document_diff(against.content, version.content, base=_base_document(version))
            if against
            else None
        ),
        "open_draft": workflow.open_draft(version) if version.status == Status.PUBLISHED else None,
    }
    return render(request, "pathways/edit_version.html", context)


@require_POST
@login_required
def version_return(request: HttpRequest, pk: int) -> HttpResponse:
    version = _editable_version(request, pk)
    try:
        workflow.review_return(user=request.user, version=version)
    except workflow.NotAllowed as error:
        raise PermissionDenied from error
    except workflow.WorkflowError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The version is back in draft and can be changed."))
    return redirect("pathways_edit:version", pk=version.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def version_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publishing is irreversible for readers: a page with the changes and a tick box first."""
    version = _editable_version(request, pk)
    if not workflow.may_publish(user=request.user, version=version):
        raise PermissionDenied
    if version.status != Status.REVIEW:
        messages.error(request, _("Only a version in review can be published."))
        return redirect("pathways_edit:version", pk=version.pk)
    status, problem = 200, ""
    if request.method == "POST":
        form = PublishForm(request.POST)
        if form.is_valid():
            if form.cleaned_data["revision"] != version.revision:
                status = 409
                problem = _(
                    "The version changed after you opened this page. Read the changes again "
                    "before you publish."
                )
                form = PublishForm(initial={"revision": version.revision})
            else:
                try:
                    published = workflow.publish(user=request.user, version=version)
                except workflow.NotAllowed as error:
                    raise PermissionDenied from error
                except (workflow.WorkflowError, ContentError) as error:
                    status, problem = 409, str(error)
                else:
                    messages.success(
                        request,
                        _("Version %(number)d is published. Readers see it now.")
                        % {"number": published.number},
                    )
                    return redirect("pathways_edit:version", pk=published.pk)
        else:
            status = 400
    else:
        form = PublishForm(initial={"revision": version.revision})
    against = workflow.published_version(
        pathway=version.pathway,
        scope=version.scope,
        partnership=version.partnership,
        municipality=version.municipality,
    )
    context = {
        **_version_context(request, version),
        "form": form,
        "problem": problem,
        "against": against,
        "diff": document_diff(
            against.content if against else None, version.content, base=_base_document(version)
        ),
    }
    return render(request, "pathways/edit_publish.html", context, status=status)


@login_required
def version_diff(request: HttpRequest, pk: int) -> HttpResponse:
    version = _editable_version(request, pk)
    raw = request.GET.get("against", "")
    if raw:
        if not raw.isdigit():
            raise Http404
        against = get_object_or_404(PathwayVersion, pk=int(raw), pathway=version.pathway)
        if not workflow.may_edit(user=request.user, version=against):
            raise PermissionDenied
    else:
        against = _default_against(version)
    others = workflow.versions_of_scope(version).exclude(pk=version.pk)
    context = {
        **_version_context(request, version),
        "against": against,
        "others": others,
        "diff": document_diff(
            against.content if against else None,
            version.content,
            base=_base_document(version),
        ),
    }
    return render(request, "pathways/edit_diff.html", context)


@login_required
def version_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """How the version will read, merged as readers will get it (drafts included)."""
    version = _editable_version(request, pk)
    if version.scope == ScopeKind.BASE:
        base, adaptations, municipality = version, [], None
    else:
        base = workflow.published_version(pathway=version.pathway)
        if base is None:
            messages.error(request, _("This pathway has no published base version to show."))
            return redirect("pathways_edit:version", pk=version.pk)
        adaptations, municipality = [version], None
        if version.scope == ScopeKind.MUNICIPALITY:
            municipality = version.municipality
            partnership = workflow.partnership_of_municipality(municipality)
            wider = (
                workflow.published_version(
                    pathway=version.pathway, scope=ScopeKind.PARTNERSHIP, partnership=partnership
                )
                if partnership
                else None
            )
            if wider is not None:
                adaptations.insert(0, wider)
    resolved = resolve_versions(base=base, adaptations=adaptations, municipality=municipality)
    levels = dict(Level.choices)
    phases = [
        (phase, [(step, levels.get(step.level, step.level)) for step in phase.steps])
        for phase in resolved.phases
    ]
    context = {**_version_context(request, version), "resolved": resolved, "phases": phases}
    return render(request, "pathways/edit_preview.html", context)


# --- history ----------------------------------------------------------------------------


@login_required
def history(request: HttpRequest, slug: str) -> HttpResponse:
    _require_editor(request)
    pathway = get_object_or_404(Pathway, slug=slug)
    candidate = _scope_candidate(pathway, request.GET.get("scope", "base"))
    if not workflow.may_edit(user=request.user, version=candidate):
        raise PermissionDenied
    versions = list(
        workflow.versions_of_scope(candidate).select_related(
            "created_by", "published_by", "partnership", "municipality"
        )
    )
    context = {
        "pathway": pathway,
        "title": _title_of(pathway),
        "scope_label": candidate.scope_label,
        "scope_key": candidate.scope_key,
        "versions": versions,
        "open_draft": next(
            (v for v in versions if v.status in (Status.DRAFT, Status.REVIEW)), None
        ),
    }
    return render(request, "pathways/edit_history.html", context)


# --- change proposals -------------------------------------------------------------------


def _proposal_or_404(code: Any) -> ChangeProposal:
    return get_object_or_404(ChangeProposal.objects.select_related("pathway", "version"), code=code)


@require_POST
@login_required
def proposal_accept(request: HttpRequest, code: Any) -> HttpResponse:
    _require_editor(request)
    proposal = _proposal_or_404(code)
    try:
        draft = proposals.proposal_accept(user=request.user, proposal=proposal)
    except workflow.NotAllowed as error:
        raise PermissionDenied from error
    except (proposals.ProposalError, workflow.WorkflowError) as error:
        messages.error(request, str(error))
        return redirect("pathways_edit:dashboard")
    messages.success(
        request,
        _(
            "The proposal is accepted into draft version %(number)d. Work its text into the "
            "draft; it is shown above the form."
        )
        % {"number": draft.number},
    )
    return redirect("pathways_edit:version", pk=draft.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def proposal_reject(request: HttpRequest, code: Any) -> HttpResponse:
    _require_editor(request)
    proposal = _proposal_or_404(code)
    target = proposal.version or workflow.published_version(pathway=proposal.pathway)
    if target is not None and not workflow.may_edit(user=request.user, version=target):
        raise PermissionDenied
    status = 200
    if request.method == "POST":
        form = RejectForm(request.POST)
        if form.is_valid():
            try:
                proposals.proposal_reject(
                    user=request.user, proposal=proposal, reason=form.cleaned_data["reason"]
                )
            except workflow.NotAllowed as error:
                raise PermissionDenied from error
            except proposals.ProposalError as error:
                form.add_error(None, str(error))  # decided by someone else meanwhile
                proposal.refresh_from_db()
            else:
                messages.success(request, _("The proposal is rejected; the sender can see why."))
                return redirect("pathways_edit:dashboard")
        status = 400
    else:
        form = RejectForm()
    context = {
        "proposal": proposal,
        "pathway_title": _title_of(proposal.pathway),
        "step_title": _step_titles(proposal.pathway).get(proposal.step_key, proposal.step_key),
        "form": form,
    }
    return render(request, "pathways/edit_proposal_reject.html", context, status=status)


def _accepted_proposals(version: PathwayVersion) -> list[ChangeProposal]:
    return list(version.accepted_proposals.order_by("created_at"))


# --- feedback rounds --------------------------------------------------------------------


@login_required
def feedback_list(request: HttpRequest) -> HttpResponse:
    """Rounds to answer (staff of a municipality asked) and, for editors, every round."""
    user = request.user
    is_editor = feedback.is_editor(user)
    to_answer = feedback.rounds_open(user=user)
    rounds = (
        list(FeedbackRound.objects.select_related("partnership", "opened_by")) if is_editor else []
    )
    if not is_editor and not to_answer:
        raise PermissionDenied
    context = {"is_editor": is_editor, "to_answer": to_answer, "rounds": rounds}
    return render(request, "pathways/edit_feedback_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def feedback_new(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    status = 200
    if request.method == "POST":
        form = RoundForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                round_ = feedback.round_open(user=request.user, **form.cleaned_data)
            except workflow.NotAllowed as error:
                raise PermissionDenied from error
            except ValueError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The feedback round is open."))
                return redirect("pathways_edit:feedback-round", pk=round_.pk)
        status = 400
    else:
        form = RoundForm(user=request.user)
    return render(request, "pathways/edit_feedback_new.html", {"form": form}, status=status)


@login_required
def feedback_round(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request)
    round_ = get_object_or_404(FeedbackRound.objects.select_related("partnership"), pk=pk)
    context = {"round": round_, "matrix": feedback.round_matrix(round_)}
    return render(request, "pathways/edit_feedback_round.html", context)


@require_POST
@login_required
def feedback_close(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request)
    round_ = get_object_or_404(FeedbackRound, pk=pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that the round should close."))
        return redirect("pathways_edit:feedback-round", pk=round_.pk)
    feedback.round_close(user=request.user, round=round_)
    messages.success(request, _("The round is closed. The answers are kept."))
    return redirect("pathways_edit:feedback-round", pk=round_.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def feedback_answer(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_object_or_404(FeedbackRound.objects.select_related("partnership"), pk=pk)
    choices = feedback.round_municipalities_for(user=request.user, round=round_)
    if not choices:
        raise PermissionDenied
    number = request.POST.get("municipality") or request.GET.get("municipality")
    municipality = next((m for m in choices if m.pk == number), None)
    if number and municipality is None:
        raise PermissionDenied
    if municipality is None and len(choices) == 1:
        municipality = choices[0]
    context: dict[str, Any] = {"round": round_, "choices": choices, "municipality": municipality}
    if municipality is None:
        return render(request, "pathways/edit_feedback_answer.html", context)
    titles = feedback.pathway_titles()
    answers = {a.pathway_id: a for a in round_.answers.filter(municipality=municipality)}
    status = 200
    if request.method == "POST":
        form = AnswerForm(request.POST, round=round_, answers=answers, titles=titles)
        if form.is_valid() and _answers_store(request, form, round_, municipality):
            messages.success(
                request,
                _("Thank you. The answers for %(municipality)s are saved.")
                % {"municipality": municipality.name},
            )
            url = reverse("pathways_edit:feedback-answer", kwargs={"pk": round_.pk})
            return redirect(f"{url}?municipality={municipality.pk}")
        status = 400
    else:
        form = AnswerForm(round=round_, answers=answers, titles=titles)
    context |= {"form": form, "closed": round_.closed_at is not None}
    return render(request, "pathways/edit_feedback_answer.html", context, status=status)


def _answers_store(
    request: HttpRequest, form: AnswerForm, round_: FeedbackRound, municipality: Any
) -> bool:
    """Store every answer of the form, or none: one problem keeps all of them unsaved."""
    failed = False
    try:
        with transaction.atomic():
            for pathway, verdict, comment, comment_field in form.answers():
                try:
                    with transaction.atomic():
                        feedback.answer_give(
                            user=request.user,
                            round=round_,
                            municipality=municipality,
                            pathway=pathway,
                            verdict=verdict,
                            comment=comment,
                        )
                except workflow.NotAllowed as error:
                    raise PermissionDenied from error
                except ValueError as error:
                    form.add_error(comment_field, str(error))
                    failed = True
            if failed:
                raise _Rollback
    except _Rollback:
        return False
    return True


class _Rollback(Exception):
    """Undo the answers stored so far when one of them was refused."""
