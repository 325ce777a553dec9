"""The generated OpenAPI 3.1 document (no handlers)."""
