"""Reading API responses in tests: the JSON of an expected status, and the error object of a refusal."""


def json_of(response, status: int = 200):
    assert response.status_code == status, (response.status_code, response.get_json(silent=True))
    return response.get_json()


def error_of(response, status: int, code: str) -> dict:
    """The `error` object of a refused request, after checking its status and code."""
    error = json_of(response, status)["error"]
    assert error["code"] == code, error
    return error
