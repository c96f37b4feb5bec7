"""Request bodies used across features: a calm check-in and a good shared practice,
as JSON for the API and as the fields of the pages' forms."""

from __future__ import annotations

CALM = {
    "activation": 2,
    "state": "settled",
    "safety": 7,
    "urgency": 3,
    "readiness": 5,
    "drivers": ["wish_for_closeness"],
    "body_signals": ["steady"],
    "note": "",
}
GOOD = {
    "safety": 8,
    "activation_before": 3,
    "activation_after": 2,
    "staying": "stayed",
    "felt_pressured": False,
    "authenticity": 3,
    "vulnerability": 2,
    "transparency": 3,
    "presence": 3,
}

CALM_FORM = {
    "activation": "2",
    "state": "settled",
    "safety": "7",
    "urgency": "3",
    "readiness": "5",
}
GOOD_FORM = {key: str(value) for key, value in GOOD.items() if key != "felt_pressured"}

# A check-in for the servers the crash and concurrency tests start in a process of their own.
CHECKIN = {
    "activation": 4,
    "state": "settled",
    "safety": 6,
    "urgency": 3,
    "readiness": 5,
    "drivers": [],
    "body_signals": [],
}
