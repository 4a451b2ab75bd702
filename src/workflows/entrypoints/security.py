"""What every response carries for the browser's protection, and what a proxy in front may tell us.

- Behind a reverse proxy (an installation setting, WORKFLOWS_PROXY_HOPS = how many proxies set X-Forwarded-*),
  ProxyFix makes the client's address (for throttling) and the scheme (https) those the proxy saw.
- The session cookie is HttpOnly and SameSite=Lax always, and Secure whenever the request came over HTTPS
  (or always, with WORKFLOWS_SECURE_COOKIES=1).
- A Content-Security-Policy fit for the pages as they are: scripts only from this site (the bundles of web/dist)
  or inline with this response's nonce; styles from this site and inline (bpmn-js, dmn-js and Chart.js style their
  own elements); no plugins, no framing by another site, forms posting only here.
"""
from __future__ import annotations

import os
import secrets

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"
SESSION_KEY = "sid"  # what the session cookie holds: the secret of a session of services/accounts.py


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure when the request came over HTTPS (as the proxy says, with ProxyFix).

    Its signer is built once per secret key (and fallbacks), not on every request as Flask's is: the build was a
    twentieth of the API's own CPU per request, an API client's included, which sends no cookie to check."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._serializers:  # a race builds two alike: either serves
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]


def content_security_policy(nonce: str) -> str:
    return "; ".join([
        "default-src 'self'", f"script-src 'self' 'nonce-{nonce}'", "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:", "font-src 'self' data:", "connect-src 'self'", "object-src 'none'",
        "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
    ])


def csp_nonce() -> str:
    """This response's nonce, for the few inline scripts of the templates (`<script nonce="{{ csp_nonce() }}">`)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def install(app: Flask) -> None:
    hops = int(os.environ.get("WORKFLOWS_PROXY_HOPS", "0") or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.config["SESSION_COOKIE_SECURE"] = os.environ.get("WORKFLOWS_SECURE_COOKIES", "") == "1"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.session_interface = SessionInterface()
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    app.after_request(protect)


def protect(response):
    """Every header of HEADERS, the CSP and (over HTTPS) HSTS that the view did not set itself. The response's
    header names are read once: Headers.setdefault scans them all, lower-casing each, for every header it adds
    (seven scans of some ten headers was a fifth of Flask's own CPU on an API request)."""
    present = {name.lower() for name in response.headers.keys()}
    missing = [(name, value) for name, value in HEADERS.items() if name.lower() not in present]
    if "content-security-policy" not in present:
        missing.append(("Content-Security-Policy", content_security_policy(csp_nonce())))
    if request.is_secure and "strict-transport-security" not in present:
        missing.append(("Strict-Transport-Security", HSTS))
    response.headers.extend(missing)
    return response
