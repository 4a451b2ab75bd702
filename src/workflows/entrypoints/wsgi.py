"""The WSGI entry point for gunicorn: `workflows.entrypoints.wsgi:app`."""
from .app import create_app

app = create_app()
