"""The outer doors: the FastAPI app factory and routes, the ``custody`` CLI, the web UI.

Only the composition roots (``api/app.py``, ``api/cli.py``) touch infrastructure's
bootstrap; everything else calls the application.
"""
