"""The domain steps of one push, without HTTP: the identity, the body's checks, the result
data and what publishing leaves behind (created targets, published objects, video jobs).

:class:`~sandbox.model.sandbox.Sandbox` runs them for the HTTP push pipeline and for each
publication of a sharing message, so both go through the same machinery. Validation comes
before the fault rules and the rules before fabrication: an injected failure never hides a bug
in the caller, and a refused call uses up no ids."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.api.errors import BadRequest, NotFound
from sandbox.api.push import Endpoint
from sandbox.model.canned import canned_data
from sandbox.model.faults import CALLBACK_EFFECTS, PROCESSING_EFFECTS, Fault
from sandbox.model.identities import TARGET_NOUNS, Identity, describe_targets
from sandbox.model.jobs import SUCCEEDED, Job, callback_refusal
from sandbox.model.results import RESULTS, Push
from sandbox.validation.profiles import STRICT

if TYPE_CHECKING:
    from sandbox.model.sandbox import Sandbox


@dataclass(slots=True)
class Admitted:
    """A push that passed identity and validation: what fabrication needs."""

    endpoint: Endpoint
    identity: Identity
    node: Mapping[str, Any]  # normalised in the live validation profile (spec §6)
    params: Mapping[str, str]
    warnings: tuple[str, ...] = ()  # what validation warned about


@dataclass(slots=True)
class Published:
    data: dict[str, Any]
    job: Job | None = None


def object_name(endpoint: Endpoint) -> str:
    """The object a resource publishes, for the live refusal: ``facebook/page/picture.json``
    -> ``picture``."""
    return endpoint.path.rsplit("/", 1)[-1].removesuffix(".json")


def admit(
    sandbox: Sandbox,
    endpoint: Endpoint,
    token: str,
    body: Any,
    params: Mapping[str, str],
    *,
    unreadable: BadRequest | None = None,
    profile: str = STRICT,
) -> Admitted:
    """Identity, then the body (``unreadable``: why it is not JSON) in the validation
    ``profile``, then what a schema cannot say; each raises the refusal it owns."""
    identity = sandbox.identities.resolve(token, endpoint.provider, object_name(endpoint))
    if unreadable is not None:
        raise unreadable
    checked = sandbox.validators.check(endpoint.name, body, profile=profile)
    node = checked.node
    try:
        if sandbox.identities.strict:
            check_target(endpoint, identity, node, params)
        check_videos(sandbox, endpoint, node)
    except (BadRequest, NotFound) as refusal:  # still answered with the body's warnings
        refusal.warnings = checked.warnings
        raise
    return Admitted(endpoint, identity, node, params, checked.warnings)


def fabricate(
    sandbox: Sandbox,
    admitted: Admitted,
    *,
    path: str,
    when: float,
    fault: Fault | None,
    canned: Fault | None = None,
) -> Published:
    """The result data, and the state it changes; a canned answer's data merged in after the
    ids are used up (so seeded runs stay the same), before anything keeps the result."""
    endpoint, identity = admitted.endpoint, admitted.identity
    if endpoint.asynchronous:
        sandbox.jobs.admit()  # before any id is used: a refused call changes no seeded id
    data = RESULTS[endpoint.result](
        Push(identity, admitted.node, admitted.params, sandbox.fabricator.ids(identity))
    )
    if canned is not None:
        data = canned_data(endpoint.name, canned, data)
    if endpoint.creates:
        remember_created(sandbox, identity, endpoint, admitted.node, data)
    sandbox.objects.add(endpoint.name, identity.token, data, when)
    job = None
    if endpoint.asynchronous:
        job = sandbox.jobs.start(
            resource=endpoint.name,
            path=path,
            identity=identity.token,
            provider=endpoint.provider,
            data=data,
            callback_url=admitted.node.get("callback_url"),
            failure=fault if fault is not None and fault.effect in PROCESSING_EFFECTS else None,
            outbound=fault if fault is not None and fault.effect in CALLBACK_EFFECTS else None,
        )
    return Published(data, job)


def check_videos(sandbox: Sandbox, endpoint: Endpoint, node: Mapping[str, Any]) -> None:
    """What a schema cannot say about videos: callbacks go to loopback or allowed hosts only,
    and a tweet cannot attach a video that has not finished processing (as on Twitter)."""
    callback_url = node.get("callback_url")
    if callback_url is not None:
        refusal = callback_refusal(callback_url, sandbox.settings.callback_allow)
        if refusal is not None:
            raise BadRequest(f"[request->push->{endpoint.node}->callback_url] {refusal}")
    if endpoint.provider != "twitter":
        return
    for index, attachment in enumerate(node.get("attachments") or ()):
        job = sandbox.jobs.by_video(str(attachment))
        if job is not None and job.state != SUCCEEDED:
            raise BadRequest(
                f"[request->push->{endpoint.node}->attachments->{index}] the video {attachment} "
                f"cannot be attached: its processing has {job.state_words}, wait for its "
                "callback to report succeeded"
            )


def check_target(
    endpoint: Endpoint, identity: Identity, node: Mapping[str, Any], params: Mapping[str, str]
) -> None:
    """Strict mode: the page, group, company, board or playlist must be the identity's."""
    target = endpoint.target
    if target is None:
        return
    if target.param:
        target_id, where = params[target.param], f"The {TARGET_NOUNS[target.kind]} in the path"
    else:
        key = target.key or "id"
        target_id, where = str(node[key]), f"[request->push->{endpoint.node}->{key}]"
    if identity.find_target(target.kind, target_id) is None:
        raise NotFound(
            f"{where} {target_id} is not a {TARGET_NOUNS[target.kind]} of the identity "
            f"{identity.token}; its {target.kind} are: {describe_targets(identity, target.kind)}"
        )


def remember_created(
    sandbox: Sandbox,
    identity: Identity,
    endpoint: Endpoint,
    node: Mapping[str, Any],
    data: Mapping[str, Any],
) -> None:
    """A new board or playlist is a valid target at once (spec §4, #13 and #19)."""
    kind = endpoint.creates
    assert kind is not None
    noun = TARGET_NOUNS[kind]
    name = node.get("name") or node.get("title") or ""
    target: dict[str, Any] = {"id": data[f"{noun}_id"], "name": name}
    location = data.get(f"{noun}_location")
    if location:
        target["url"] = location
        if kind == "boards":
            target["slug"] = location.rstrip("/").rsplit("/", 1)[-1]
    sandbox.identities.add_created(identity, kind, target)
