"""The one step after a write: the false-connection detectors look again.

Stores only store. A handler that writes something the detectors read, such as a
check-in, a reflection, a shared status, a proposal or its answer, or a note, calls
:func:`look_again` before it commits, while the writer's key is unlocked. The refresh
itself runs after the answer, on the job queue (reconnect.jobs); only the request for
it is written with the entry, so a write on disk always has its refresh coming.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from reconnect import access
from reconnect.accounts.signed_in import SignedIn
from reconnect.insights import store as insights
from reconnect.jobs import JOBS, Jobs


def look_again(db: Session, *, signed_in: SignedIn, now: datetime, shared: bool = True) -> None:
    """Have the detectors run for the writer, and for the couple when ``shared``.

    ``shared``: the write was one the partner sees anyway (a status, a note, a proposal
    or its answer, a newly logged shared practice). After a private write (a check-in,
    a reflection) the couple's patterns stay as they were, so they never tell the
    partner when the other wrote privately.

    Through the job queue when ``db`` comes from the app's session factory; a session
    made elsewhere (a script, the demo builder), or the tests' immediate queue, runs the
    detectors at once, in this transaction, as of ``now``. tests/test_jobs.py runs the
    real queues.
    """
    jobs: Jobs | None = db.info.get(JOBS)
    if jobs is None or jobs.queue.immediate:
        # No queue here, or the tests' own: at once, in the write's transaction.
        look_again_now(db, signed_in=signed_in, now=now, shared=shared)
        return
    membership = access.membership_of(db, signed_in.person)
    if membership is None or len(membership.couple.members) < 2:
        return  # the detectors read couples: without a partner there is nothing to do
    jobs.ask(db, person_id=signed_in.person.id, data_key=signed_in.data_key, now=now, shared=shared)


def look_again_now(db: Session, *, signed_in: SignedIn, now: datetime, shared: bool = True) -> None:
    """Run the detectors in this transaction, as of ``now``: for building a history
    (the demo), where each day's findings must be the ones that day would have had."""
    insights.refresh(
        db, person=signed_in.person, data_key=signed_in.data_key, now=now, shared=shared
    )
