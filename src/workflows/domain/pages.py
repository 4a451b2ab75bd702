"""How many rows one page of a list holds at most, the same for every way in. A client reads on at the next offset
until a page comes back shorter than its limit, so the API refuses a larger `limit` (and the Camunda REST API a
larger maxResults) with 422 rather than cut the page, and the OpenAPI document states the bound; the services read
no more than this whoever asks (the web pages and the CLI ask for less)."""

MAX_PAGE = 500
