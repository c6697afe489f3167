"""The Salesforce sync engine: runs (claim, heartbeat, finish), the runner that syncs a run's objects in
dependency order, REST windows and Bulk checkpoints per object, reconcile, preview and retry."""
