"""Anonymous chat session ids are capabilities: whoever holds one reads and continues that
conversation. So they must be unguessable (256 random bits, secrets.token_urlsafe) and
not enumerable (no order, no shared structure; every guess is the same 404)."""

import base64
import math
import string
from collections import Counter

from sqlmodel import select

from tests.api.conftest import assert_error

ALPHABET = set(string.ascii_letters + string.digits + "-_")
SESSIONS = 200


def decoded(session_id: str) -> bytes:
    return base64.urlsafe_b64decode(session_id + "=" * (-len(session_id) % 4))


def new_session(client, headers=None):
    response = client.post("/api/chat/session/", headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()["session_id"]


def test_session_ids_are_256_random_bits_without_structure(client, session):
    from supportbot.services import chat

    # The service every door uses (the API's anonymous-chat rate limit would stop a loop).
    ids = [new_session(client) for _ in range(5)]
    ids += [chat.start_conversation(session).session_id for _ in range(SESSIONS - 5)]
    assert len(set(ids)) == SESSIONS
    assert all(len(i) == 43 and set(i) <= ALPHABET for i in ids)
    raw = [decoded(i) for i in ids]
    assert all(len(r) == 32 for r in raw)  # 256 bits each
    # Bits are balanced: each of the 256 bit positions is set in about half of the ids.
    ones = [sum(r[b // 8] >> (b % 8) & 1 for r in raw) for b in range(256)]
    assert 55 <= min(ones) and max(ones) <= 145  # binomial(200, .5): 6 sigma either side
    # Consecutive ids share nothing: about half of the bits differ, no common prefix.
    distances = [sum(bin(a ^ b).count("1") for a, b in zip(x, y, strict=True))
                 for x, y in zip(raw, raw[1:])]
    assert 80 <= min(distances) and max(distances) <= 176
    prefixes = [len(_common_prefix(x, y)) for x, y in zip(ids, ids[1:])]
    assert max(prefixes) <= 4
    # Consecutive ids, read as numbers, are far apart (not a counter or a clock).
    gaps = [abs(int.from_bytes(x) - int.from_bytes(y)) for x, y in zip(raw, raw[1:])]
    assert min(gaps) > 2 ** 200
    counts = Counter("".join(i[:-1] for i in ids))  # the last character holds 4 bits only
    total = sum(counts.values())
    entropy = -sum(c / total * math.log2(c / total) for c in counts.values())
    print(f"\n{SESSIONS} session ids: {entropy:.3f} bits per character (6 is the most), "
          f"hamming distance of neighbours {min(distances)}-{max(distances)} of 256")
    assert entropy > 5.9


def test_guessed_and_derived_ids_are_all_the_same_404(client, callers, session):
    from supportbot.models import Conversation

    real = new_session(client)
    owned = new_session(client, callers["user"].headers)
    row_id = str(session.exec(select(Conversation.id).where(
        Conversation.session_id == real)).one())
    guesses = [
        real[:-1] + ("A" if real[-1] != "A" else "B"),  # the next one
        chr(ord(real[0]) + 1) + real[1:] if real[0] not in "z9_" else "a" + real[1:],
        real[:-1], real + "A", real.lower(), real.upper(), real[::-1],
        row_id, row_id.replace("-", ""),  # the database key, were it ever seen
        "1", "2", "0" * 43, "A" * 43, "-" * 43, "null", "*", "%25",
    ]
    bodies = set()
    for guess in guesses:
        response = client.get(f"/api/chat/conversations/{guess}/")
        bodies.add(str(assert_error(response, 404, "not_found")))
    # Someone else's conversation answers exactly like one that does not exist.
    for headers in ({}, callers["other"].headers, callers["admin"].headers):
        response = client.get(f"/api/chat/conversations/{owned}/", headers=headers)
        bodies.add(str(assert_error(response, 404, "not_found")))
    assert len(bodies) == 1
    assert client.get(f"/api/chat/conversations/{real}/").status_code == 200
    assert client.get(f"/api/chat/conversations/{owned}/",
                      headers=callers["user"].headers).status_code == 200


def _common_prefix(a: str, b: str) -> str:
    size = 0
    while size < min(len(a), len(b)) and a[size] == b[size]:
        size += 1
    return a[:size]
