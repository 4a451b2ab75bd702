"""The WSGI entry point for gunicorn: `workflows.entrypoints.wsgi:app`."""
from . import logs
from .app import create_app

logs.configure()  # before the app: Flask then adds no handler of its own, every line is masked and has its request id
app = create_app()
