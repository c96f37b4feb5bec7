"""The one step after a write: the false-connection detectors look again.

Stores only store. A handler (or the demo builder) that writes something the detectors
read, such as a check-in, a reflection, a shared status, a proposal or its answer, or a
note, calls :func:`look_again` before it commits, while the writer's key is unlocked.
Today the step runs on the request; moving it off the request path changes this
module and its callers, never the stores.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from reconnect.accounts.signed_in import SignedIn
from reconnect.insights import store as insights


def look_again(db: Session, *, signed_in: SignedIn, now: datetime, shared: bool = True) -> None:
    """Run the detectors for the writer, and for the couple when ``shared``.

    ``shared``: the write was one the partner sees anyway (a status, a note, a proposal
    or its answer, a newly logged shared practice). After a private write (a check-in,
    a reflection) the couple's patterns stay as they were, so they never tell the
    partner when the other wrote privately.
    """
    insights.refresh(
        db, person=signed_in.person, data_key=signed_in.data_key, now=now, shared=shared
    )
