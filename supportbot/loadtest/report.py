"""The load test's report as text (the `--json` form is the summary dict itself)."""

from __future__ import annotations

ROWS = (("answer", "answered from the KB (retrieval)"), ("generated", "generated answers"),
        ("handoff", "handed to people"), ("silent", "stored, people own the chat"),
        ("all_turns", "every turn"), ("agent_reply_post", "agent reply: POST"),
        ("agent_reply_arrival", "agent reply -> visitor"))
PATHS = {"ws": "WebSocket", "rest": "REST"}


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def format_report(summary: dict) -> str:
    counts, errors, storage = summary["counts"], summary["errors"], summary["storage"]
    lines = [
        f"SupportBot load test: {summary['sessions']} sessions (half WebSocket, half REST), "
        f"{summary['agents']} agents, {summary['seconds']} s against {summary['url']}",
        f"load average before {summary['load_average']['before']}, after "
        f"{summary['load_average']['after']}",
        "",
        f"{'end-to-end latency, ms':<44}{'n':>6}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}",
    ]
    for path, label in PATHS.items():
        for key, name in ROWS:
            row = summary["latency_ms"][path][key]
            if row["n"]:
                lines.append(f"{label + ' ' + name:<44}{row['n']:>6}" + "".join(
                    f"{_cell(row[p]):>9}" for p in ("p50", "p95", "p99", "max")))
    windows = summary.get("answers_by_window") or []
    if windows:
        lines += ["", f"KB answers by time (both paths; sessions started over the first "
                      f"{summary.get('ramp_seconds', '-')} s):"]
        lines += [f"  {w['from_s']:>5g}-{w['to_s']:<5g} s  n {w['n']:>5}  p50 {_cell(w['p50']):>8}"
                  f"  p95 {_cell(w['p95']):>8}" for w in windows]
    lines += [
        "",
        "counts: " + ", ".join(f"{name.replace('_', ' ')} {value}"
                               for name, value in counts.items()),
        f"errors: {errors['total']}" + "".join(f"\n  {kind}: {n}"
                                              for kind, n in errors["by_kind"].items()),
    ]
    lines += [f"    {sample}" for sample in errors["samples"][:5]]
    lines.append(
        f"database: {storage['messages_checked']} messages checked: {storage['lost']} lost, "
        f"{storage['duplicated']} duplicated, {storage['unexpected']} unexpected; "
        f"{storage['escalations_checked']} escalations: {storage['tickets_missing']} "
        f"without their ticket, {storage['tickets_unreported']} tickets never reported; "
        f"{storage['sessions_missing']} sessions missing")
    if storage["refused_not_stored"] or storage["refused_but_stored"]:
        lines.append(f"  refused by the app: {storage['refused_not_stored']} not stored, "
                     f"{storage['refused_but_stored']} stored anyway")
    for name, examples in storage["examples"].items():
        if examples:
            lines.append(f"  {name}: {examples}")
    lines.append("result: " + ("OK" if summary["ok"] else "FAILED"))
    return "\n".join(lines)
