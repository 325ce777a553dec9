"""The domain, without HTTP: identities, ids and results, fault rules, the journal, video jobs
and the :class:`~sandbox.model.sandbox.Sandbox` that publishes. Never imports aiohttp."""
