"""The OpenAPI 3 document of everything the API serves, at `GET /api/openapi.json`."""
