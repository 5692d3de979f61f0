"""The Reflex web app: pages, their small states, shared components.

States call services (`supportbot.services`) for every rule; they hold only what the
page shows.
"""
