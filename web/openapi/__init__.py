"""The API's OpenAPI 3.1 document, generated from the route table and the pydantic schemas, and its docs page."""
