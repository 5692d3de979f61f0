"""Business rules in plain Python. Nothing here imports Reflex or FastAPI.

Every service takes an open `sqlmodel.Session` and raises `supportbot.errors.ServiceError`
subclasses for anything a caller should show to a person.
"""

# Registers the check every flush makes (text the database cannot store, attachment names),
# and the signal every commit that stored chat messages gives (services/live.py).
from supportbot.services import input_guard, live  # noqa: E402, F401
