"""The web dashboard and JSON API (`fourhour serve`): thin routes over the library.

Importing this package imports nothing heavy: `fourhour.web.app.create_app` builds the FastAPI
application, `fourhour.web.tokens` manages API tokens without FastAPI (the CLI uses it).
"""
