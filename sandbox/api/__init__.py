"""The API as clients see it: the catalog of resources (the only place each is named), the
response envelope, the error tree and the live API's wording. Plain data, the lowest layer."""
