"""`supportbot loadtest`: simultaneous chat sessions on the WebSocket and REST paths of an
app on this machine, with agents answering escalations, then a check in the database
that every message was stored exactly once and every escalation has its ticket.

`plan` (what visitors say), `visitors` (one session), `agents`, `tally` (what the run
saw), `check` (the database check), `run` (the whole run), `report` (its text form).
"""
