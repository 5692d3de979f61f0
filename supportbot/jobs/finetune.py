"""Background job: fine-tune the embedding model (services.finetune), with progress."""

from __future__ import annotations

from supportbot.jobs.queue import enqueue, set_progress


def run(epochs: int = 3, actor_id: str | None = None) -> dict[str, object]:
    from supportbot.services.finetune import run_finetune

    return run_finetune(epochs=epochs, actor_id=actor_id,
                        progress=lambda stage, done: set_progress(stage=stage,
                                                                  done=round(done, 3)))


def schedule_finetune(epochs: int = 3, actor_id: str | None = None) -> str:
    """Queue a fine-tuning run; returns the job id (its status carries stage and done)."""
    return enqueue(run, epochs=epochs, actor_id=actor_id)
