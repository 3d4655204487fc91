"""The work after an acknowledgement, the same on every platform: the job runner, the event
ledger's use (claim, enqueue, do, mark done; resume after a lease; try again after an outage),
the request notices the core decides and an adapter delivers, and the periodic sweeps."""
