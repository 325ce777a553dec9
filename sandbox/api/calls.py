"""The rows of the catalogs of the API around the push (site, connections, users, identities,
pull, sharing, login): one :class:`Call` per method and path, named once."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Call:
    """One call of a family. ``name`` is dotted, path parameters dropped (``identities.link``,
    ``pull.facebook.page.posts``): the route name, the journal's resource, the fault pattern.

    ``answer`` names the model function that answers it (``sandbox.model.answers.ANSWERS``);
    ``schema`` the request body's JSON Schema, ``schemas/<schema>.json``, when it takes one;
    ``listing`` the key of a paginated list in ``result.data`` and ``page_size`` the query
    parameter that sizes its pages; ``source`` the provenance of the answer's shape."""

    name: str
    method: str
    path: str  # an aiohttp route pattern: /identities/{identity_token}/link.json
    answer: str
    summary: str
    schema: str | None = None
    listing: str | None = None
    page_size: str = "entries_per_page"
    source: str = "doc"
    provider: str | None = None  # the network of a pull call
    authenticated: bool = True  # HTTP Basic with the site keys; the browser pages are not
    html: bool = False  # answered with a page for a person, not the envelope
    family: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "family", self.name.split(".", 1)[0])

    @property
    def display_path(self) -> str:
        """``/identities/<identity_token>/link.json``, as documentation writes it."""
        return self.path.replace("{", "<").replace("}", ">")

    @property
    def token_param(self) -> str | None:
        """The path parameter naming the identity, user, connection or message, if any."""
        start = self.path.find("{")
        return self.path[start + 1 : self.path.index("}", start)] if start >= 0 else None
