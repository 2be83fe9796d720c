"""Read back what this run posted and compare it with what was planned (DESIGN §4: "every payout ties").

A destination opts in per object type with `Destination.verify_after_write` (QuickBooks Online: journal
entries, i.e. settlements) and `read_back`. A document whose total reads back different from its plan is a
dead letter at stage `verify` naming both figures; nothing is re-posted.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import jsonutil
from ..connectors import Destination, PostedDocument, WriteContext
from ..errors import LedgerlinkError, RecordError
from ..store import Store

__all__ = ["verify_written"]

log = logging.getLogger("ledgerlink.verify")


def verify_written(destination: Destination, config: Any, store: Store, run_id: int) -> dict[str, Any]:
    streams = sorted(destination.verify_after_write)
    if not streams or type(destination).read_back is Destination.read_back:
        return {}
    rows = store.db.fetchall(
        "SELECT o.key, o.stream, o.natural_key, o.data, r.destination_id FROM outbox o JOIN results r ON r.key = o.key "
        f"WHERE r.run_id = ? AND r.created AND o.stream IN ({', '.join('?' * len(streams))}) ORDER BY o.seq",
        [run_id, *streams])
    if not rows:
        return {}
    posted = [PostedDocument(key=k, stream=s, natural_key=n, data=jsonutil.loads(d), destination_id=i)
              for k, s, n, d, i in rows]
    context = WriteContext(references=store.references(destination.name), save_credential=store.credentials.save,
                           load_credential=store.credentials.load)
    try:
        destination.open(config, context)
        try:
            found = {doc.key: doc for doc in destination.read_back(config, posted) if doc.key}
        finally:
            destination.close()
    except LedgerlinkError as exc:  # the documents are posted; say that they could not be checked
        log.warning("could not read back what this run posted: %s", exc)
        return {"verify_error": str(exc)}
    mismatches = 0
    for doc in posted:
        back = found.get(doc.key)
        if back is None:
            problem = f"posted {doc.stream} {doc.destination_id} is not found when read back"
        elif back.expected_total is not None and back.total is not None and back.expected_total != back.total:
            problem = (f"posted {doc.stream} {doc.destination_id} reads back with total {back.total}, "
                       f"planned {back.expected_total}")
        else:
            continue
        mismatches += 1
        store.dead_letters.add(stage="verify", stream=doc.stream, record_key=doc.key, record=doc.data, run_id=run_id,
                               error=RecordError(problem, stream=doc.stream, key=doc.natural_key or doc.key,
                                                 hint="compare the document in the ledger with `ledgerlink trace`; "
                                                      "`ledgerlink reconcile` lists it until it ties"))
    return {"verified": len(posted) - mismatches, "verify_mismatches": mismatches}
