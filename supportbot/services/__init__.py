"""Business rules in plain Python. Nothing here imports Reflex or FastAPI.

Every service takes an open `sqlmodel.Session` and raises `supportbot.errors.ServiceError`
subclasses for anything a caller should show to a person.
"""
