"""Streaming CSV output: one open file per table, rows appended chunk by chunk."""
from __future__ import annotations

from pathlib import Path
from typing import IO

INPUT_FILES: dict[str, list[str]] = {
    "borrowers": ["borrower_id", "full_name", "status", "days_past_due", "balance", "currency", "opened_at",
                  "timezone", "region", "attorney_known", "cease_requested"],
    "borrower_phones": ["borrower_id", "phone", "role", "first_seen", "last_seen", "verified"],
    "borrower_devices": ["borrower_id", "device_id", "first_seen", "last_seen"],
    "borrower_addresses": ["borrower_id", "address", "kind", "first_seen", "last_seen"],
    "borrower_employers": ["borrower_id", "employer", "employer_phone", "since"],
    "emergency_contacts": ["borrower_id", "contact_phone", "contact_name", "relation", "listed_at"],
    "phonebook": ["borrower_id", "contact_phone", "contact_name", "captured_at"],
    "calls": ["phone_a", "phone_b", "calls_a_to_b", "calls_b_to_a", "seconds_total", "first_at", "last_at"],
    "phone_status": ["phone", "status", "status_at"],
    "contact_attempts": ["attempt_id", "borrower_id", "channel", "at", "target_phone", "target_role", "connected", "outcome"],
    "payments": ["borrower_id", "paid_at", "amount"],
}
TRUTH_FILES: dict[str, list[str]] = {
    "lost_contact": ["borrower_id", "since", "mechanism", "ring_id"],
    "reachable": ["borrower_id", "phone", "reach_probability", "mechanism", "relation", "known_to_lender"],
    "rings": ["ring_id", "typology", "borrower_id", "role", "phone"],
    "benign_groups": ["group_id", "kind", "borrower_id", "identifier"],
    "response": ["borrower_id", "channel", "target_role", "p_pay_30d", "expected_amount", "target_phone",
                 "p_pay_30d_baseline", "segment"],
    "costs": ["channel", "cost"],
    "churn": ["borrower_id", "old_phone", "new_phone", "switched_at", "old_status", "old_status_at", "known_to_lender"],
    "attempt_propensity": ["attempt_id", "propensity", "explored"],
}


# the observable response model (issue 8) adds columns and a file; the segment model writes the layout above
OBSERVABLE_EXTRA: dict[str, list[str]] = {
    "contact_attempts": ["script", "propensity"],
    "response": ["script", "reach", "p_pay_if_reached", "amount_if_paid"],
    "hour_effect": ["channel", "local_hour", "multiplier"],
}


class Sink:
    """All output tables of one world; counts rows per table.

    ``observable``: the layout of the observable response model (extra
    columns of :data:`OBSERVABLE_EXTRA` and truth/hour_effect.csv).
    """

    def __init__(self, out_dir: Path, observable: bool = False):
        self.dir = Path(out_dir)
        (self.dir / "truth").mkdir(parents=True, exist_ok=True)
        self.files: dict[str, IO[str]] = {}
        self.counts: dict[str, int] = {}
        extra = OBSERVABLE_EXTRA if observable else {}
        for name, cols in INPUT_FILES.items():
            self._open(name, self.dir / f"{name}.csv", cols + extra.get(name, []))
        truth = {**TRUTH_FILES, "hour_effect": []} if observable else TRUTH_FILES
        if not observable:  # a file of ours from an earlier observable world in this directory
            (self.dir / "truth" / "hour_effect.csv").unlink(missing_ok=True)
        for name, cols in truth.items():
            self._open(name, self.dir / "truth" / f"{name}.csv", cols + extra.get(name, []))

    def _open(self, name: str, path: Path, cols: list[str]) -> None:
        f = open(path, "w", encoding="utf-8", newline="")
        f.write(",".join(cols) + "\n")
        self.files[name] = f
        self.counts[name] = 0

    def write(self, name: str, columns: list[list[str]]) -> None:
        """Append rows given column-wise (lists of already formatted fields)."""
        if not columns or not len(columns[0]):
            return
        rows = [",".join(r) for r in zip(*columns)]
        self.files[name].write("\n".join(rows) + "\n")
        self.counts[name] += len(rows)

    def close(self) -> None:
        for f in self.files.values():
            f.close()
