"""Benchmarks of the sandbox against a bare-aiohttp ceiling; see README.md here."""
