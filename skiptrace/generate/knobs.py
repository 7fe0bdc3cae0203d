"""Every tunable of the synthetic world, with its default (see docs/generator.md)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

Range = tuple[int, int]

# Knob values that reproduce the generator as it was before the realism knobs
# (issue 11): with them every file but truth/world.json is byte-identical to
# what that generator wrote for the same arguments.
LEGACY: dict[str, Any] = {
    "phonebook_median": 30.0,
    "phonebook_sigma": 1.0,
    "phonebook_local_share": 0.95,
    "acquaintance_call_scale": 1.0,
    "friend_group_size": 0,
    "family_closure": 0.0,
    "friend_closure": 0.0,
    "colleague_closure": 0.0,
    "partial_call_logs": False,
    "new_number_calls_circle_share": 1.0,
    "phone_status_coverage": 1.0,
    "fake_emergency_share": 0.0,
    "latent_closeness_sd": 0.0,
}
# The realism knobs above that change the order of the call draws (see Knobs.realistic).
_CALL_REALISM = tuple(LEGACY)
# Knob values that give the ring world of the generator before the harder rings (issue 10, item 8): fraud
# rings bound by one or two devices, opened within 10 days; no benign group that opens loans together; agent
# phones listed by ring members only. They draw from random streams of their own, so at these values every
# other draw is as it was.
LEGACY.update({
    "fraud_spread_identifiers": False,
    "fraud_open_span_days": (10, 10),
    "fraud_open_waves": (1, 1),
    "fraud_camouflage_ties": 0.0,
    "fraud_shared_employer_share": 0.0,
    "fraud_phone_honest_listers": 0.0,
    "fraud_bust_out_share": 0.0,
    "honest_first_payment_default_share": 0.0,
    "family_joint_open_share": 0.0,
    "promotions_per_100k": 0.0,
    "agent_honest_listers": 0.0,
})
# The response model of the generator before issue 8 (a segment x action lookup, logs without scripts).
_RESPONSE = ("response_model",)
LEGACY["response_model"] = "segment"
PRESETS = ("default", "legacy")
RESPONSE_MODELS = ("observable", "segment")


@dataclass(frozen=True)
class Knobs:
    """Tunables of :func:`skiptrace.generate.world`.

    Shares are fractions in [0, 1]. Group counts are given per 100k borrowers
    (``*_per_100k``); a positive rate always yields at least one group, a rate
    of 0 disables the kind. Group sizes are inclusive ``(low, high)`` ranges;
    the high end is capped at ``max(low, n_borrowers // 15)`` so that small
    worlds stay mostly ordinary.
    """

    # loan book
    delinquent_share: float = 0.15
    repaid_share: float = 0.08
    lost_contact_share: float = 0.30  # of delinquent borrowers
    lost_dead_share: float = 0.45  # lost: old primary disconnected, new number unknown
    lost_reassigned_share: float = 0.30  # lost: old primary reassigned; rest unanswered
    churn_share: float = 0.10  # other borrowers who changed number and told the lender
    reassigned_share: float = 0.40  # abandoned numbers later reassigned to a stranger
    secondary_phone_share: float = 0.15
    employed_share: float = 0.85
    borrowers_per_employer: float = 15.0
    # social fabric
    community_size: int = 2000  # borrowers per community (locality of ties)
    pool_per_borrower: float = 8.0  # non-borrower people per borrower
    relatives_mean: float = 3.0
    relative_churn_share: float = 0.20
    friends_mean: float = 4.0
    colleagues_mean: float = 5.0
    co_borrower_share: float = 0.06  # borrowers sharing a home with another borrower
    borrower_friends_mean: float = 0.5
    borrower_colleagues_mean: float = 1.5
    friend_group_size: int = 8  # friends come from groups of this many people who know each other (0: anyone)
    family_closure: float = 0.7  # P(two relatives of a borrower call each other), times a strength factor
    friend_closure: float = 0.5  # P(two friends of a borrower from one group call each other), likewise
    colleague_closure: float = 0.3  # P(two colleagues of a borrower call each other), likewise
    # phonebooks
    phonebook_share: float = 0.85  # borrowers whose phonebook was captured
    phonebook_median: float = 150.0
    phonebook_sigma: float = 0.8  # lognormal shape: heavier tail when larger
    phonebook_max: int = 1000
    phonebook_local_share: float = 0.8  # acquaintances from the borrower's community (the rest: anywhere)
    acquaintance_call_scale: float = 0.25  # scales P(an acquaintance in the phonebook ever calls)
    # records
    partial_call_logs: bool = True  # call records are app uploads that stop at each borrower's capture date
    call_log_lag_days: float = 20.0  # mean days from a borrower's last call-log upload to as_of
    call_log_before_loss_share: float = 0.6  # lost borrowers whose last upload predates the loss
    new_number_calls_circle_share: float = 0.55  # new numbers that call the old circle at all (1: always)
    phone_status_coverage: float = 0.6  # share of checkable phones with a phone_status row
    fake_emergency_share: float = 0.08  # emergency contacts that are fake (unused, own or a stranger's number)
    latent_closeness_sd: float = 1.0  # sd of a per-tie reach logit term no observable explains
    call_months: int = 12
    history_months: int = 6
    attempts_per_day: float = 0.3
    explore_share: float = 0.30  # attempts whose action was drawn uniformly at random
    installments: bool = True
    # response model (issue 8): "observable" (responses depend on balance, days past due, contact state, hour,
    # fatigue, script, graph structure and per-borrower slopes) or "segment" (the older segment x action lookup)
    response_model: str = "observable"
    response_slope_sd: float = 0.8  # sd of the per-borrower random slopes (logit) by channel group, channel, script
    fatigue_per_attempt: float = 0.15  # each attempt in the previous 7 days: reach x exp(-f), pay logit - f
    family_pay_effect: float = 0.2  # pay logit per active, closely tied relative (centred at 1.5, capped at 4)
    anti_ring_pay_effect: float = 0.6  # pay logit lost by anti-collection ring members (coached)
    local_notation_share: float = 0.10
    address_variant_share: float = 0.20
    # rings
    fraud_rings_per_100k: float = 10.0
    fraud_ring_size: Range = (3, 10)
    anti_rings_per_100k: float = 5.0
    anti_ring_size: Range = (8, 40)
    agents_per_ring: Range = (1, 3)
    # harder rings (issue 10, item 8): what one simple rule can no longer separate
    fraud_spread_identifiers: bool = True  # several devices/addresses/fraud phones per ring, each shared by a subset
    fraud_subset_size: Range = (2, 4)  # members sharing one of them (at most ring size - 1)
    fraud_open_span_days: Range = (20, 90)  # days over which a fraud ring's loans open (legacy (10, 10))
    fraud_open_waves: Range = (2, 4)  # ... in this many waves of a few days each (legacy (1, 1): uniform)
    fraud_camouflage_ties: float = 2.0  # mean ties of a fraud member to honest borrowers of its community
    fraud_shared_employer_share: float = 0.4  # members declaring one real employer (with honest staff)
    fraud_phone_honest_listers: float = 4.0  # mean honest borrowers with a fraud phone in their phonebook
    fraud_bust_out_share: float = 0.3  # members who pay 1-2 instalments before defaulting (the rest: the first)
    honest_first_payment_default_share: float = 0.1  # other delinquent borrowers who never paid an instalment
    # benign look-alikes
    large_families_per_100k: float = 20.0
    large_family_size: Range = (5, 10)
    dormitories_per_100k: float = 10.0
    dormitory_size: Range = (20, 120)
    switchboards_per_100k: float = 5.0
    switchboard_size: Range = (50, 400)
    couriers_per_100k: float = 10.0
    courier_size: Range = (30, 300)
    shared_devices_per_100k: float = 10.0
    shared_device_size: Range = (10, 50)
    family_joint_open_share: float = 0.5  # device-sharing families (households, co-borrowers) opening loans together
    family_joint_open_days: int = 7  # ... within this many days
    promotions_per_100k: float = 10.0  # workplace promotions: colleagues of one employer open loans together
    promotion_size: Range = (8, 30)
    promotion_window_days: int = 14  # their loans open within this many days
    promotion_device_share: float = 0.4  # members who signed up on a shared office device (2-6 per device)
    promotion_dorm_share: float = 0.3  # members living in the employer's dormitory (one address)
    agent_honest_listers: float = 25.0  # mean honest (non-ring) borrowers with an agent phone in their phonebook

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if (f.name.endswith(("_share", "_closure", "_coverage")) or f.name == "acquaintance_call_scale") \
                    and not 0.0 <= v <= 1.0:
                raise ValueError(f"{f.name} must be in [0, 1], got {v}")
            if f.name.endswith("_per_100k") and v < 0:
                raise ValueError(f"{f.name} must be >= 0, got {v}")
            if isinstance(v, tuple) and (len(v) != 2 or not 1 <= v[0] <= v[1]):
                raise ValueError(f"{f.name} must be (low, high) with 1 <= low <= high, got {v}")
        if self.lost_dead_share + self.lost_reassigned_share > 1.0:
            raise ValueError("lost_dead_share + lost_reassigned_share must be <= 1")
        if self.delinquent_share + self.repaid_share > 1.0:
            raise ValueError("delinquent_share + repaid_share must be <= 1")
        if self.phonebook_max < 5 or self.phonebook_median <= 0 or self.phonebook_sigma < 0:
            raise ValueError("phonebook_max >= 5, phonebook_median > 0, phonebook_sigma >= 0")
        if self.community_size < 50 or self.pool_per_borrower < 1:
            raise ValueError("community_size >= 50 and pool_per_borrower >= 1")
        if self.call_months < 1 or self.history_months < 1:
            raise ValueError("call_months and history_months must be >= 1")
        if self.friend_group_size < 0 or self.call_log_lag_days < 0 or self.latent_closeness_sd < 0:
            raise ValueError("friend_group_size, call_log_lag_days and latent_closeness_sd must be >= 0")
        if self.fraud_camouflage_ties < 0 or self.fraud_phone_honest_listers < 0 or self.agent_honest_listers < 0:
            raise ValueError("fraud_camouflage_ties, fraud_phone_honest_listers and agent_honest_listers must be >= 0")
        if self.family_joint_open_days < 0 or self.promotion_window_days < 0:
            raise ValueError("family_joint_open_days and promotion_window_days must be >= 0")
        if self.fraud_subset_size[0] < 2:
            raise ValueError("fraud_subset_size must start at 2 or more (a shared identifier has two users)")
        if self.response_model not in RESPONSE_MODELS:
            raise ValueError(f"response_model must be one of {', '.join(RESPONSE_MODELS)}, got {self.response_model!r}")
        if min(self.response_slope_sd, self.fatigue_per_attempt, self.family_pay_effect, self.anti_ring_pay_effect) < 0:
            raise ValueError("response_slope_sd, fatigue_per_attempt, family_pay_effect and anti_ring_pay_effect must be >= 0")
        if self.friend_group_size == 1:
            raise ValueError("friend_group_size must be 0 (no groups) or >= 2")

    @property
    def realistic(self) -> bool:
        """Whether any realism knob (phonebook size aside) is off its legacy value.

        Only then may the generator draw its random numbers in a new order
        (e.g. call activity for called ties only, which is much cheaper).
        """
        return any(getattr(self, k) != LEGACY[k] for k in _CALL_REALISM if not k.startswith("phonebook_"))

    @property
    def hard_rings(self) -> bool:
        """Whether any harder-ring knob is off its legacy value (then they draw from a stream of their own)."""
        return any(getattr(self, k) != v for k, v in LEGACY.items() if k not in _CALL_REALISM + _RESPONSE)

    @classmethod
    def preset(cls, name: str = "default", **overrides: Any) -> Knobs:
        """The knobs of a named preset with ``overrides`` on top.

        ``default``: the realistic world (clustered calls, big phonebooks,
        partial call logs, ...); ``legacy``: the world of the generator before
        those knobs existed (same bytes for the same arguments, world.json aside).
        """
        if name not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
        base = LEGACY if name == "legacy" else {}
        return cls.from_dict({**base, **overrides})

    @classmethod
    def legacy(cls, **overrides: Any) -> Knobs:
        """The pre-realism world: ``Knobs.preset("legacy", **overrides)``."""
        return cls.preset("legacy", **overrides)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Knobs:
        """Build from keyword values, rejecting unknown names with a clear message."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown knob(s): {', '.join(unknown)}")
        fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
        return cls(**fixed)

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def group_count(self, rate_per_100k: float, n_borrowers: int) -> int:
        """Number of groups of a kind for a world of ``n_borrowers``."""
        if rate_per_100k <= 0:
            return 0
        return max(1, round(rate_per_100k * n_borrowers / 100_000))

    @staticmethod
    def size_range(size: Range, n_borrowers: int) -> Range:
        """The effective inclusive size range for a world of ``n_borrowers``."""
        lo, hi = size
        return lo, min(hi, max(lo, n_borrowers // 15))
