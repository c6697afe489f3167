"""`sandbox_churn --seed N` is deterministic: orgs seeded alike and churned alike with one seed make the very
same changes (records chosen, values, new Ids, deletes, conversions); only the timestamps differ."""

from __future__ import annotations

from tests.sandbox.recycle import snapshot, violations

CHURN = {
    "updates": 40,
    "creates": 6,
    "deletes": 12,
    "undeletes": 4,
    "purge": 3,
    "convert_leads": 8,
    "advance_opportunities": 6,
    "complete_tasks": 6,
    "objects": "Contact,Lead,Account,Opportunity",
}


def _moment_free(snap: dict[str, dict[str, dict]]) -> dict[str, dict[str, dict]]:
    """The org with each churn run's timestamp (and its date) replaced by a placeholder."""
    stamps = {r["SystemModstamp"] for records in snap.values() for r in records.values()}
    moments = sorted(stamps)[-2:]  # the two churn runs are the two latest changes in the org
    replace = {m: f"<moment {i}>" for i, m in enumerate(moments)}
    replace.update({m[:10]: f"<date {i}>" for i, m in enumerate(moments)})
    return {
        sobject: {
            sf_id: {
                key: replace.get(value, value) if isinstance(value, str) else value
                for key, value in r.items()
            }
            for sf_id, r in records.items()
        }
        for sobject, records in snap.items()
    }


def test_same_seed_same_changes_record_by_record(make_sandbox_org):
    first, second, unseeded = (make_sandbox_org(contacts=200, seed=1) for _ in range(3))
    before = snapshot(first)
    assert snapshot(second) == before
    outputs = []
    for org in (first, second):
        outputs.append(
            org.churn(seed=77, **CHURN) + org.churn(seed=78, updates=10, convert_leads=2, deletes=2)
        )
    assert outputs[0] == outputs[1]
    for line in ("updated Contact: 10", "created Contact: 6", "deleted Account: 3", "converted Lead: 8"):
        assert line in outputs[0]

    a, b = snapshot(first), snapshot(second)
    assert a != b  # the timestamps differ: the runs happened at different moments
    same_a, same_b = _moment_free(a), _moment_free(b)
    for sobject in same_a:
        assert set(same_a[sobject]) == set(same_b[sobject]), sobject  # same new Ids, same purges
        for sf_id, record in same_a[sobject].items():
            assert record == same_b[sobject][sf_id], (sobject, sf_id)
    changed = {(o, i) for o in a for i, r in a[o].items() if before[o].get(i) != r}
    assert len(changed) > 100
    assert changed == {(o, i) for o in b for i, r in b[o].items() if before[o].get(i) != r}
    assert violations(a) == []

    # Without a seed the changes are random.
    unseeded.churn(**CHURN)
    unseeded.churn(updates=10, convert_leads=2, deletes=2)
    assert _moment_free(snapshot(unseeded)) != same_a
