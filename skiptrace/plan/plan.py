"""``plan``: the next best allowed actions for delinquent borrowers, with their time windows.

For each borrower: ``find`` once (the ego graph, ranked candidates and the
policy context), then for each action of the catalogue
(:data:`~skiptrace.plan.channels.CATALOGUE`) on its target (the borrower's
best live phone for borrower phone actions; the top two third-party
candidates for third-party actions; no phone for push, email and letters):

1. ``Policy.decide(action, ctx, start=as_of, end=as_of + horizon)``: a
   forbidden action goes to ``blocked`` with the rule id and its why;
2. an allowed one is scored at each whole local hour of its legal window:
   ``EV = P(pay within 30 days | action, state, hour) x expected amount - cost``
   (:mod:`~skiptrace.plan.uplift`; cost from :mod:`~skiptrace.plan.channels`),
   and its best hour becomes ``not_before``;
3. ``actions`` lists the allowed actions best EV first, at most ``max_actions``;
   ``unprofitable`` counts those whose EV does not beat doing nothing
   (``P(pay | no action) x expected amount``), which ``drop_unprofitable=True``
   leaves out. They are kept by default: with the 30-day label the no-action
   estimate is too rough to veto an action (on 150 borrowers of the 20k world
   the veto cost 21 of true net value per borrower).

``c_score``, ``segment`` and ``p_repay_30d`` come from a C-score model when
one is given (``cscore=``). Without one, ``c_score`` and ``segment`` are
null and ``p_repay_30d`` is the response model's probability of payment
within 30 days with no action; ``scored_by`` says which.

A batch shares everything that does not depend on the borrower: the
policy pack, the response model (fitted once from the ledger, or loaded),
the cost table, and one model prediction per chunk of borrowers.
"""
from __future__ import annotations

import gc
import logging
import math
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skiptrace.contacts import clock
from skiptrace.contacts.ego import UnknownBorrower, fetch, fetch_many, few_collections
from skiptrace.errors import SkiptraceError
from skiptrace.plan.channels import CATALOGUE, ActionKind, CostTable, load_costs
from skiptrace.plan.uplift import (Account, ResponseModel, action_vector, data_end, learn,
                                   load_response_model, local_hour)
from skiptrace.privacy import mask_phone
from skiptrace.store.base import GraphStore, Props

log = logging.getLogger(__name__)

_DEAD = frozenset({"disconnected", "reassigned"})
_HOUR_COL = 13  # STATE index of local_hour
MAX_THIRD_PARTIES = 2
#: channels whose moment the lender picks (a letter arrives when the post delivers it): their
#: start is moved to the best local hour of the window
TIMED_CHANNELS = frozenset({"sms", "push", "email", "ai_call", "human_call"})


@dataclass
class PlannedAction:
    """An allowed action with its window (day numbers) and value."""

    channel: str
    target_role: str
    target_phone: str | None
    script: str | None
    not_before: float
    not_after: float
    expected_value: float
    p_pay: float
    cost: float
    why: str

    def to_dict(self, tz: str | None, reveal: bool = False) -> dict:
        return {"channel": self.channel,
                "target_phone": _phone(self.target_phone, reveal),
                "target_role": self.target_role, "script": self.script,
                "not_before": clock.iso(self.not_before, tz),
                "not_after": clock.iso(self.not_after, tz),
                "expected_value": round(self.expected_value, 2),
                "p_pay_30d": round(self.p_pay, 4), "cost": self.cost, "why": self.why}


@dataclass
class BlockedAction:
    """A forbidden action and the first rule that forbids it."""

    channel: str
    target_role: str
    target_phone: str | None
    script: str | None
    rule: str
    why: str

    def to_dict(self, reveal: bool = False) -> dict:
        return {"channel": self.channel, "target_phone": _phone(self.target_phone, reveal),
                "target_role": self.target_role, "script": self.script, "rule": self.rule,
                "why": self.why}


@dataclass
class PlanResult:
    """The plan of one borrower (see the module docstring)."""

    borrower_id: str
    as_of: float
    timezone: str | None
    policy: str
    c_score: int | None
    segment: str | None
    p_repay_30d: float | None
    scored_by: str
    p_no_action: float
    expected_amount: float
    actions: list[PlannedAction] = field(default_factory=list)
    blocked: list[BlockedAction] = field(default_factory=list)
    unprofitable: int = 0

    def to_dict(self, reveal: bool = False) -> dict:
        """The contract's ``plan`` JSON object (phones masked unless ``reveal``), plus
        ``as_of``, ``scored_by``, ``p_no_action``, ``expected_amount`` (if paid) and
        ``unprofitable``."""
        tz = self.timezone
        return {"borrower_id": self.borrower_id, "as_of": clock.iso(self.as_of, tz),
                "c_score": self.c_score, "segment": self.segment,
                "p_repay_30d": None if self.p_repay_30d is None else round(self.p_repay_30d, 4),
                "scored_by": self.scored_by, "policy": self.policy,
                "p_no_action": round(self.p_no_action, 4),
                "expected_amount": round(self.expected_amount, 2),
                "actions": [a.to_dict(tz, reveal) for a in self.actions],
                "blocked": [b.to_dict(reveal) for b in self.blocked],
                "unprofitable": self.unprofitable}


def _phone(p: str | None, reveal: bool) -> str | None:
    return p if p is None or reveal else mask_phone(p)


# ---------------------------------------------------------------- targets
@dataclass
class Target:
    phone: str | None
    role: str
    listed: bool
    how: str        # a plain description for ``why`` (no phone number in it)
    status: Props


def _targets(ego: Any, res: Any, ctx: Any) -> tuple[Target | None, list[Target]]:
    """The borrower's best live phone and up to two third parties, by find's ranking.

    A live borrower phone is a registered one whose known status (as of ``as_of``) is not
    disconnected/reassigned, or the new number find discovered. Eligible candidates come
    first; an ineligible one is kept only when there is no eligible one, so ``blocked``
    can name the rule.
    """
    phones = ctx.borrower_phones
    new = getattr(res, "new_number", None)
    own_best: list[tuple[bool, Any]] = []
    tps: list[Any] = []
    for c in res.candidates:
        if c.target_role == "borrower":
            st = phones.get(c.phone)
            live = (st is not None and st.get("status") not in _DEAD) or c.phone == new
            if live:
                own_best.append((c.eligible, c))
        elif c.target_role == "third_party":
            tps.append(c)
    own = None
    pick = [c for ok, c in own_best if ok] or [c for _, c in own_best]
    if pick:
        c = pick[0]
        how = ("a new number find discovered" if c.phone == new and c.phone not in phones
               else "the borrower's registered number")
        own = Target(c.phone, "borrower", False, how, _status(ego, c.phone))
    chosen = [c for c in tps if c.eligible][:MAX_THIRD_PARTIES]
    if len(chosen) < MAX_THIRD_PARTIES:
        chosen += [c for c in tps if not c.eligible][:MAX_THIRD_PARTIES - len(chosen)]
    third = [Target(c.phone, "third_party", c.phone in ctx.listed,
                    f"a third party ({c.relation}, find rank {c.rank})", _status(ego, c.phone))
             for c in chosen]
    return own, third


def _status(ego: Any, phone: str) -> Props:
    node = ego.sub.nodes.get(f"Phone:{phone}", {})
    return {"status": node.get("status"), "status_at": node.get("status_at")}


# ---------------------------------------------------------------- the shared parts
def _resolve_model(store: GraphStore, model: Any, cut: float | None) -> ResponseModel:
    if model is None:
        return learn(store, as_of=cut)
    if isinstance(model, (str, Path)):
        return load_response_model(model)
    if not hasattr(model, "predict_proba") or not hasattr(model, "predict_amount"):
        raise SkiptraceError("model must be a fitted ResponseModel or the path of a saved one")
    return model


def _resolve_cscore(cscore: Any) -> Any:
    if cscore is None or not isinstance(cscore, (str, Path)):
        return cscore
    try:
        from skiptrace.scoring import load_cscore
    except ImportError:  # pragma: no cover - the scoring room is not installed
        raise SkiptraceError("a C-score model needs skiptrace.scoring") from None
    return load_cscore(cscore)


def _policy_of(policy: Any) -> Callable[[Props], Any]:
    """A function borrower -> Policy; "auto" picks the pack by region."""
    from skiptrace.policy import get_policy, policy_for

    if policy == "auto":
        return policy_for
    pol = get_policy(policy)  # unknown name: UnknownPolicy (a SkiptraceError) right away
    return lambda _b: pol


def _rank(ego: Any, pol: Any) -> Any:
    """find's ranking of the ego graph under ``pol`` (eligibility by the pack's who-rules)."""
    import inspect

    from skiptrace.contacts.find import rank

    if "policy" in inspect.signature(rank).parameters:
        return rank(ego, policy=pol)
    return rank(ego)  # a find without policy packs: eligibility by its baseline rules


# ---------------------------------------------------------------- one borrower, before scoring
@dataclass
class _Pending:
    borrower_id: str
    as_of: float
    tz: str | None
    region: str | None
    policy: str
    find: Any
    state: np.ndarray
    account: Account
    allowed: list[tuple[ActionKind, Target | None, Any, list[float]]]  # kind, target, decision, times
    blocked: list[BlockedAction]
    row0: int = 0   # first row of this borrower in the chunk's matrix


def _prepare(store: GraphStore, b: str, *, as_of: float, horizon: float, policy_of, costs,
             max_hours: int, ego=None) -> _Pending:
    from skiptrace.policy import Action, Context

    ego = ego if ego is not None else fetch(store, b, as_of=clock.iso(as_of))
    pol = policy_of(ego.borrower)
    res = _rank(ego, pol)
    ctx = Context.from_ego(ego)
    own, third = _targets(ego, res, ctx)
    acc = Account.build(ego.borrower, ego.ledger.attempts, ego.ledger.payments, ref=as_of,
                        registered={p: -math.inf for p in ctx.borrower_phones})
    state = acc.state(np.array([as_of]))[0]
    allowed, blocked = [], []
    end = as_of + horizon
    for kind in CATALOGUE:
        if kind.target_role == "borrower":
            tgts = [own] if kind.needs_phone else [None]
            if kind.needs_phone and own is None:
                continue  # no live number to send it to
        else:
            tgts = third
        for tg in tgts:
            act = Action(kind.channel, kind.target_role, tg.phone if tg else None, kind.script,
                         listed=bool(tg and tg.listed))
            d = pol.decide(act, ctx, as_of, end)
            if not d.allowed:
                blk = d.blocks[0]
                blocked.append(BlockedAction(kind.channel, kind.target_role,
                                             tg.phone if tg else None, kind.script, blk.rule,
                                             blk.why))
                continue
            times = (_hours(d.not_before, d.not_after, acc.tz, max_hours)
                     if kind.channel in TIMED_CHANNELS else [d.not_before])
            allowed.append((kind, tg, d, times))
    return _Pending(b, as_of, ego.timezone, ego.borrower.get("region"), pol.name, res, state, acc,
                    allowed, blocked)


def _hours(lo: float, hi: float, tz: str | None, max_hours: int) -> list[float]:
    """Candidate start times in ``[lo, hi)``: ``lo`` and each following local whole hour."""
    out = [lo]
    h = local_hour(lo, tz)
    t = lo + (math.floor(h) + 1 - h) / 24.0
    while t < hi - 1e-9 and len(out) < max_hours:
        out.append(t)
        t += 1.0 / 24.0
    return out


# ---------------------------------------------------------------- the batch
def plan_many(store: GraphStore, borrower_ids: Iterable[str], *, policy: Any = "auto",
              as_of: Any = None, cscore: Any = None, model: Any = None,
              costs: CostTable | str | Path | None = None, horizon_hours: float = 24,
              max_actions: int = 5, chunk: int = 64, max_hours: int = 24,
              progress: Callable[[int, int], None] | None = None, workers: int = 1,
              drop_unprofitable: bool = False) -> Iterator[PlanResult]:
    """:func:`plan`, lazily: yields each borrower's :class:`PlanResult` in order, scoring a
    chunk of ``chunk`` borrowers at a time (other parameters as :func:`plan`).

    Reads: a batch of one chunk (at most ``chunk`` borrowers, in this process) is planned
    wholly from one published state (:meth:`GraphStore.consistent`: the ledger the model
    learns from, ``as_of`` and the ego graphs), so a load committing meanwhile is seen whole
    or not at all. A longer batch reads each chunk's ego graphs from one state, but a load
    may fall between chunks (on SQLite the CLI reads the whole command in one snapshot)."""
    ids = list(borrower_ids)
    args = dict(policy=policy, as_of=as_of, cscore=cscore, model=model, costs=costs,
                horizon_hours=horizon_hours, max_actions=max_actions, chunk=chunk,
                max_hours=max_hours, progress=progress, workers=workers,
                drop_unprofitable=drop_unprofitable)
    if len(ids) <= chunk:
        yield from store.consistent(lambda: list(_plan_many(store, ids, **args)))
        return
    yield from _plan_many(store, ids, **args)


def _plan_many(store: GraphStore, ids: list[str], *, policy: Any, as_of: Any, cscore: Any,
               model: Any, costs: CostTable | str | Path | None, horizon_hours: float,
               max_actions: int, chunk: int, max_hours: int,
               progress: Callable[[int, int], None] | None, workers: int,
               drop_unprofitable: bool) -> Iterator[PlanResult]:
    if max_actions < 0:
        raise ValueError(f"max_actions must be at least 0, not {max_actions}")
    if not horizon_hours > 0:
        raise ValueError(f"horizon_hours must be positive, not {horizon_hours}")
    policy_of = _policy_of(policy)
    missing = set(ids) - store.existing_keys("Borrower", ids) if ids else set()
    if missing:
        raise UnknownBorrower(f"no borrower {sorted(missing)[0]!r} in the store"
                              + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    if not isinstance(costs, CostTable):
        costs = load_costs(costs) if costs is not None else CostTable()
    cut = clock.parse_as_of(as_of) if as_of is not None else None
    parts = [ids[lo:lo + chunk] for lo in range(0, len(ids), chunk)]
    path = getattr(store, "path", None)
    parallel = bool(workers > 1 and len(parts) > 1 and path and path != ":memory:")
    if model is None and parallel:
        # the response model is needed only to score; the workers' find (most of the work)
        # runs while this process fits it (see _parallel_fitting)
        fit_cut = cut
        if cut is None:
            cut = data_end(store)  # what learn() takes as its data end (the same ledger pass)
            if cut is None:
                _resolve_model(store, model, fit_cut)  # raises learn()'s error: an empty ledger
                raise SkiptraceError("no as_of given and the store's ledger is empty")
        cs = _resolve_cscore(cscore)
        job = _Job(cut, horizon_hours / 24.0, policy_of, costs, None, cs, max_actions,
                   max_hours, drop_unprofitable)
        yield from _parallel_fitting(path, parts, job, lambda: _resolve_model(store, model, fit_cut),
                                     workers, progress, len(ids))
        return
    mdl = _resolve_model(store, model, cut)
    if cut is None:
        cut = getattr(mdl, "data_end_", None) if model is None else None
        cut = cut if cut is not None else data_end(store)
        if cut is None:
            raise SkiptraceError("no as_of given and the store's ledger is empty")
    cs = _resolve_cscore(cscore)
    job = _Job(cut, horizon_hours / 24.0, policy_of, costs, mdl, cs, max_actions, max_hours,
               drop_unprofitable)
    if parallel:
        yield from _parallel(path, parts, job, workers, progress, len(ids))
        return
    if workers > 1:
        log.info("plan: workers need a SQLite file store; planning in this process")
    done = 0
    for part in parts:
        yield from _plan_chunk(store, part, job)
        done += len(part)
        if progress is not None:
            progress(done, len(ids))


@dataclass
class _Job:
    """What every chunk of a batch shares."""

    as_of: float
    horizon: float
    policy_of: Callable[[Props], Any]
    costs: CostTable
    model: ResponseModel
    cscore: Any
    max_actions: int
    max_hours: int
    drop_unprofitable: bool


def _plan_chunk(store: GraphStore, part: list[str], job: _Job) -> list[PlanResult]:
    with few_collections():
        return _plan_chunk_now(store, part, job)


def _plan_chunk_now(store: GraphStore, part: list[str], job: _Job) -> list[PlanResult]:
    return _score_chunk(store, _prepare_chunk(store, part, job), job)


def _prepare_chunk(store: GraphStore, part: list[str], job: _Job) -> list[_Pending]:
    """find and the policy decisions of a chunk: everything before the response model."""
    pend = []
    # the chunk's ego graphs are read together (fetch_many: one query per hop for the chunk)
    for b, ego in zip(part, fetch_many(store, part, as_of=clock.iso(job.as_of), batch=len(part))):
        if isinstance(ego, UnknownBorrower):
            raise ego
        pend.append(_prepare(store, b, as_of=job.as_of, horizon=job.horizon, policy_of=job.policy_of,
                             costs=job.costs, max_hours=job.max_hours, ego=ego))
    return pend


def _score_chunk(store: GraphStore, pend: list[_Pending], job: _Job) -> list[PlanResult]:
    return list(_score(pend, job.model, job.cscore, store, job.costs, job.max_actions,
                       job.drop_unprofitable))


_WORKER: dict[str, Any] = {}


def _worker_init(path: str, job: _Job) -> None:
    from skiptrace.store import SQLiteStore

    _WORKER["store"] = SQLiteStore(path, create=False)
    _WORKER["job"] = job
    # what the worker inherited (the model, the policy, the modules) lives as long as it does:
    # out of the collector's sight, the old-generation passes do not traverse it again
    gc.freeze()


def _worker_chunk(part: list[str]) -> list[PlanResult]:
    return _plan_chunk(_WORKER["store"], part, _WORKER["job"])


def _parallel(path: str, parts: list[list[str]], job: _Job, workers: int,
              progress: Callable[[int, int], None] | None, total: int) -> Iterator[PlanResult]:
    """Chunks in ``workers`` forked processes, each with its own connection to the SQLite
    file; results come back in order. The model and the policy are inherited, not copied."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    done = 0
    with ctx.Pool(workers, initializer=_worker_init, initargs=(path, job)) as pool:
        for part, res in zip(parts, pool.imap(_worker_chunk, parts)):
            yield from res
            done += len(part)
            if progress is not None:
                progress(done, total)


def _fitting_worker(path: str, parts: list[list[str]], job: _Job, tasks: Any, results: Any,
                    ready: Any, model_path: str) -> None:
    """A worker of :func:`_parallel_fitting`: takes chunk numbers from ``tasks`` until None;
    prepares each chunk (find); scores it once the model is ready (``ready`` set, the model
    pickled at ``model_path``), keeping the chunks prepared before that until it is."""
    try:
        _worker_init(path, job)
        store = _WORKER["store"]
        job.model = None
        held: list[tuple[int, list[_Pending]]] = []

        def score(i: int, pend: list[_Pending]) -> None:
            with few_collections():
                res = _score_chunk(store, pend, job)
            results.put(("ok", i, res))

        def load() -> None:
            with open(model_path, "rb") as f:
                job.model = pickle.load(f)

        while (i := tasks.get()) is not None:
            with few_collections():
                pend = _prepare_chunk(store, parts[i], job)
            if job.model is None and ready.is_set():
                load()
            if job.model is None:
                held.append((i, pend))
                continue
            for j, p in held:
                score(j, p)
            held.clear()
            score(i, pend)
        if held:
            ready.wait()
            if job.model is None:
                load()
            for j, p in held:
                score(j, p)
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an error that does not pickle
            exc = SkiptraceError(f"plan worker: {exc!r}")
        results.put(("error", -1, exc))


def _parallel_fitting(path: str, parts: list[list[str]], job: _Job,
                      fit: Callable[[], ResponseModel], workers: int,
                      progress: Callable[[int, int], None] | None, total: int
                      ) -> Iterator[PlanResult]:
    """:func:`_parallel` when the response model is still to be fitted: ``workers`` forked
    processes take chunks from a queue and run find on them (the model is not needed for
    that) while this process fits the model; once it is pickled beside them they score what
    they prepared and go on chunk by chunk. Results come back in order. The fit (about a
    minute of one core on the 100k world) no longer comes before the first find."""
    import multiprocessing as mp
    import queue
    import shutil
    import tempfile

    ctx = mp.get_context("fork")
    tmp = tempfile.mkdtemp(prefix="skiptrace-plan-")
    model_path = os.path.join(tmp, "model.pkl")
    tasks, results, ready = ctx.Queue(), ctx.Queue(), ctx.Event()
    for i in range(len(parts)):
        tasks.put(i)
    for _ in range(workers):
        tasks.put(None)
    procs = [ctx.Process(target=_fitting_worker, daemon=True,
                         args=(path, parts, job, tasks, results, ready, model_path))
             for _ in range(workers)]
    try:
        for p in procs:
            p.start()
        mdl = fit()
        with open(model_path + ".part", "wb") as f:
            pickle.dump(mdl, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(model_path + ".part", model_path)
        ready.set()
        got: dict[int, list[PlanResult]] = {}
        nxt = done = 0
        while nxt < len(parts):
            try:
                kind, i, payload = results.get(timeout=2.0)
            except queue.Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise SkiptraceError(f"a plan worker died (exit code {dead[0].exitcode})") from None
                continue
            if kind == "error":
                raise payload
            got[i] = payload
            while nxt in got:
                res = got.pop(nxt)
                yield from res
                done += len(parts[nxt])
                nxt += 1
                if progress is not None:
                    progress(done, total)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            if p.pid is not None:
                p.join()
        shutil.rmtree(tmp, ignore_errors=True)


def _score(pend: list[_Pending], mdl: ResponseModel, cs: Any, store: GraphStore,
           costs: CostTable, max_actions: int, drop_unprofitable: bool = False
           ) -> Iterator[PlanResult]:
    """Predict every candidate row of a chunk at once, then assemble each borrower's plan."""
    rows: list[np.ndarray] = []
    cands: list[list[float]] = []   # candidate start times per allowed action, in order
    n = 0
    for p in pend:
        p.row0 = n
        x0 = np.concatenate([p.state, np.zeros(len(_target0())), action_vector(None, None)])
        rows.append(x0)   # the no-action row
        n += 1
        for kind, tg, _d, times in p.allowed:
            tvec = (p.account.target(tg.phone, tg.role, p.as_of, tg.status) if tg
                    else p.account.target(None, kind.target_role, p.as_of, None))
            avec = action_vector(kind.channel, kind.script)
            base = np.concatenate([p.state, tvec, avec])
            if len(times) > 1 and hasattr(mdl, "hour_supported"):
                # only the hours the logs saw this channel at (if any of the window's)
                seen = [t for t in times if mdl.hour_supported(kind.channel,
                                                               local_hour(t, p.account.tz))]
                times = seen or times
            cands.append(times)
            for t in times:
                x = base.copy()
                x[_HOUR_COL] = local_hour(t, p.account.tz)
                rows.append(x)
            n += len(times)
    X = np.vstack(rows) if rows else np.zeros((0, 1))
    prob = mdl.predict_proba(X)[:, 1] if len(rows) else np.zeros(0)
    amount = mdl.predict_amount(np.vstack([p.state for p in pend])) if pend else np.zeros(0)
    scores = _cscores(cs, store, pend)
    ci = iter(cands)
    for i, p in enumerate(pend):
        amt = float(amount[i])
        p0 = float(prob[p.row0])
        ev0 = p0 * amt
        k = p.row0 + 1
        planned = []
        unprofitable = 0
        for kind, tg, d, _ in p.allowed:
            times = next(ci)
            ps = prob[k:k + len(times)]
            j = int(np.argmax(ps))
            k += len(times)
            pa = float(ps[j])
            cost = costs.cost(kind.channel, p.region)
            ev = pa * amt - cost
            if ev <= ev0:
                unprofitable += 1
                if drop_unprofitable:
                    continue
            hour = local_hour(times[j], p.account.tz)
            planned.append(PlannedAction(kind.channel, kind.target_role, tg.phone if tg else None,
                                         kind.script, times[j], d.not_after, ev, pa, cost,
                                         _why(kind, tg, pa, p0, amt, cost, hour)))
        planned.sort(key=lambda a: (-a.expected_value, a.channel, a.script or "",
                                    a.target_phone or ""))
        cscore, segment, prepay, by = scores.get(p.borrower_id) or (
            None, None, p0, "no C-score model given: p_repay_30d is the response model's "
                            "P(pay within 30 days | no action)")
        yield PlanResult(p.borrower_id, p.as_of, p.tz, p.policy, cscore, segment, prepay, by, p0,
                         amt, planned[:max_actions], p.blocked, unprofitable)


def _target0():
    from skiptrace.plan.uplift import TARGET

    return TARGET


def _why(kind: ActionKind, tg: Target | None, pa: float, p0: float, amt: float, cost: float,
         hour: float) -> str:
    what = kind.channel.replace("_", " ")
    if kind.script:
        what += f" ({kind.script.replace('_', ' ')})"
    to = tg.how if tg else "the borrower"
    hh, mm = divmod(int(round(hour * 60)) % (24 * 60), 60)
    return (f"{what} to {to} from {hh:02d}:{mm:02d} local: P(pay within 30 days) {pa:.3g} vs "
            f"{p0:.3g} with no action, expected payment {amt:,.0f}, cost {cost:g}")


def _cscores(cs: Any, store: GraphStore, pend: list[_Pending]) -> dict[str, tuple]:
    """C-score, segment and P(repay within 30 days) per borrower from a C-score model."""
    if cs is None or not pend:
        return {}
    from skiptrace.scoring import REACH_FEATURES, account_features, reachability_features

    ids = [p.borrower_id for p in pend]
    when = clock.iso(pend[0].as_of)
    cols = list(getattr(cs, "features_", None) or [])
    X = account_features(store, ids, as_of=when)
    if not cols or set(cols) & set(REACH_FEATURES):
        # find already ran for each borrower: the reachability features reuse its results
        results = {p.borrower_id: p.find for p in pend}
        X = X.join(reachability_features(store, ids, as_of=when, results=results), how="left")
    if cols:
        X = X.reindex(columns=cols)
    proba = cs.predict_proba(X)[:, 1]
    points = cs.score_points(X) if hasattr(cs, "score_points") else [None] * len(ids)
    segs = cs.segment(X) if hasattr(cs, "segment") else [None] * len(ids)
    name = f"C-score model {getattr(cs, 'version_', '') or ''}".strip()
    return {b: (None if pt is None else int(round(float(pt))), None if sg is None else str(sg),
                float(pr), name)
            for b, pr, pt, sg in zip(X.index, proba, points, segs)}


def plan(store: GraphStore, borrower_ids: str | Sequence[str], *, policy: Any = "auto",
         as_of: Any = None, cscore: Any = None, model: Any = None,
         costs: CostTable | str | Path | None = None, horizon_hours: float = 24,
         max_actions: int = 5, progress: Callable[[int, int], None] | None = None,
         workers: int = 1, drop_unprofitable: bool = False) -> list[PlanResult]:
    """The next best allowed actions for each borrower, with time windows and what blocks the rest.

    Parameters
    ----------
    store : the graph store.
    borrower_ids : one id or a sequence of ids (unknown ids: :class:`UnknownBorrower`
        before any work).
    policy : "auto" (the pack of the borrower's region), a pack name ("baseline",
        "CN-NIFA-2024", "US-RegF") or a :class:`~skiptrace.policy.Policy`.
    as_of : the decision time (ISO string, date or datetime; naive = UTC). Default: the
        newest time stamp in the store's ledger.
    cscore : a C-score model (or the path of a saved one) for c_score / segment /
        p_repay_30d; None: those come from the response model (see ``scored_by``).
    model : a fitted :class:`~skiptrace.plan.uplift.ResponseModel` or its path; None:
        learned once from the store's ledger (:func:`~skiptrace.plan.uplift.learn`).
    costs : a :class:`~skiptrace.plan.channels.CostTable` or a ``channel,cost`` CSV path
        (default: the lender's default table).
    horizon_hours : actions must be possible within this many hours from ``as_of``.
    max_actions : at most this many actions per borrower, best expected value first.
    progress : called as ``progress(done, total)`` after each chunk of borrowers.
    drop_unprofitable : leave out the actions whose EV does not beat doing nothing
        (default: keep them, ranked; ``unprofitable`` counts them either way).
    workers : plan chunks in this many forked processes (SQLite file stores; others plan
        in this process). The model is fitted once: before planning with one process; with
        several, in this process while the workers run find (which needs no model), each
        worker scoring what it found once the model is ready. Same results either way.

    Cost: one ``find`` per borrower (its ego graph, about ``4 * max_hops + 1`` store
    queries), one model fit (or load) and one prediction per chunk for the whole batch.

    Example
    -------
    >>> [r.to_dict() for r in plan(store, ["B1"], policy="CN-NIFA-2024")]   # doctest: +SKIP
    """
    ids = [borrower_ids] if isinstance(borrower_ids, str) else list(borrower_ids)
    return list(plan_many(store, ids, policy=policy, as_of=as_of, cscore=cscore, model=model,
                          costs=costs, horizon_hours=horizon_hours, max_actions=max_actions,
                          progress=progress, workers=workers,
                          drop_unprofitable=drop_unprofitable))


def plan_one(store: GraphStore, borrower_id: str, **kwargs: Any) -> PlanResult:
    """:func:`plan` for one borrower."""
    return plan(store, [borrower_id], **kwargs)[0]


def delinquent_ids(store: GraphStore) -> list[str]:
    """Every borrower in collections: status delinquent (or, with no status, days past due > 0),
    in id order. What ``plan --all`` plans for."""
    out = []
    for ch in store.stream_node_columns("Borrower", ["status", "days_past_due"]):
        for nid, st, dpd in zip(ch.ids, ch.props["status"], ch.props["days_past_due"]):
            if st == "delinquent" or (st is None and (dpd or 0) > 0):
                out.append(nid.split(":", 1)[1])
    return out


__all__ = ["BlockedAction", "PlanResult", "PlannedAction", "delinquent_ids", "plan", "plan_many",
           "plan_one"]
