"""SupportBot: a self-hosted, AI-assisted technical support desk.

Layers (see docs/architecture.md):
    models   -> SQLModel tables, no logic
    services -> business rules (plain Python, no Reflex)
    ai       -> embeddings, retrieval (plain records)
    jobs     -> background work (RQ or in-process)
    api      -> REST routes (FastAPI), thin callers of services
    ui       -> Reflex pages and states, thin callers of services
    cli      -> `supportbot` command, thin caller of services
"""

__version__ = "0.1.0"
