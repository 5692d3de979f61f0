"""The REST API (FastAPI), served by the Reflex backend through `api_transformer`.

Routes are thin: parse input, call a service, shape the output.
"""
