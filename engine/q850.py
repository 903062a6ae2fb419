"""Q.850 cause codes used by the engine, and their mapping from ARI dial statuses.

Source: ITU-T Q.850 Table 1; Asterisk ``include/asterisk/causes.h``. The engine hangs channels up with
ARI ``DELETE /channels/{channelId}?reason_code=<Q.850 cause>``.
"""

from __future__ import annotations

UNALLOCATED_NUMBER = 1
NORMAL_CLEARING = 16
USER_BUSY = 17
NO_USER_RESPONSE = 18
NO_ANSWER = 19
SUBSCRIBER_ABSENT = 20
CALL_REJECTED = 21
NORMAL_CIRCUIT_CONGESTION = 34
TEMPORARY_FAILURE = 41
NORMAL_UNSPECIFIED = 31

CAUSE_TEXT: dict[int, str] = {
    0: "NOT_DEFINED",
    UNALLOCATED_NUMBER: "UNALLOCATED",
    NORMAL_CLEARING: "NORMAL_CLEARING",
    USER_BUSY: "USER_BUSY",
    NO_USER_RESPONSE: "NO_USER_RESPONSE",
    NO_ANSWER: "NO_ANSWER",
    SUBSCRIBER_ABSENT: "SUBSCRIBER_ABSENT",
    CALL_REJECTED: "CALL_REJECTED",
    NORMAL_CIRCUIT_CONGESTION: "NORMAL_CIRCUIT_CONGESTION",
    TEMPORARY_FAILURE: "NORMAL_TEMPORARY_FAILURE",
    NORMAL_UNSPECIFIED: "NORMAL_UNSPECIFIED",
}

CAUSE_BY_DIAL_STATUS: dict[str, int] = {
    "BUSY": USER_BUSY,
    "NOANSWER": NO_ANSWER,
    "CONGESTION": NORMAL_CIRCUIT_CONGESTION,
    "CHANUNAVAIL": SUBSCRIBER_ABSENT,
    "CANCEL": NORMAL_CLEARING,
}


def cause_text(cause: int | None) -> str | None:
    """Asterisk's name for a Q.850 cause (``USER_BUSY``), or ``None`` when unknown."""
    if cause is None:
        return None
    return CAUSE_TEXT.get(cause, f"CAUSE_{cause}")
