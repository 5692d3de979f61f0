"""Background jobs: RQ on Redis when REDIS_URL is set, a thread in-process otherwise.

Job functions are plain module-level functions that open their own database session and
call services; they take and return JSON-friendly values.
"""
