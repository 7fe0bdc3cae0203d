"""Ring detection: candidates from shared identifiers and agent hubs, peeled, scored, explained.

Steps (each a function of the projection, so each can be tested alone):

1. :func:`skiptrace.rings.project.project`: the borrower graph weighted by
   shared identifiers, hubs suppressed.
2. Connected components on strong links (pair weight >= ``strong``); a
   component larger than ``max_component`` is split by Leiden communities
   (:func:`communities`) on its full weighted subgraph. Beside them, the
   identity groups (:func:`_identity_groups`): holders of one shared device,
   phone or address, which Leiden scatters when camouflage outweighs them.
3. Each candidate of at least ``min_size`` members is peeled to its densest
   block (:mod:`skiptrace.rings.peel`): camouflage ties and honest
   neighbours attached by one weak identifier fall away.
4. Agent hubs (:mod:`skiptrace.rings.agents`) give anti-collection
   candidates: the delinquent listers of one or more agents, bunched in onset.
5. Features, risk and typology (:mod:`skiptrace.rings.typology`); a borrower
   stays in the riskiest flagged ring that holds it (identity groups last);
   evidence sentences
   (:mod:`skiptrace.rings.evidence`).

Same store, same configuration and seed: same rings, same ids (a ring's id
is a hash of its members).
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from skiptrace.rings import evidence as ev
from skiptrace.rings.agents import AgentConfig, AgentHub, agent_groups, find_agents
from skiptrace.rings.model import Binding, Ring
from skiptrace.rings.peel import column_weights, peel
from skiptrace.rings.project import KIND_CODE, KINDS, ProjectionConfig, RingGraph, project
from skiptrace.rings.typology import FLAG_AT, features, risk, typology
from skiptrace.store.base import GraphStore, split_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DetectConfig:
    """Knobs of :func:`detect` (module docstring)."""

    projection: ProjectionConfig = field(default_factory=ProjectionConfig)
    agents: AgentConfig = field(default_factory=AgentConfig)
    strong: float = 0.2
    min_size: int = 3
    max_component: int = 60
    resolution: float = 1.0
    listed_peel: float = 0.5  # factor on a listing's contact weight when peeling (see _core)
    max_blocks: int = 4  # dense blocks peeled out of one candidate, one after another (see _cores)
    read_ledger: bool = True
    keep_unflagged: bool = True  # also return household/unknown groups (for the evidence of what was spared)


def communities(g, *, weights: str | None = "weight", seed: int = 0, resolution: float = 1.0) -> np.ndarray:
    """The community step of ring detection: Leiden (modularity) on an igraph graph.

    Returns a membership array (one community id per vertex); deterministic for a seed.
    """
    import leidenalg

    w = weights if weights and weights in g.es.attributes() else None
    part = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights=w,
                                    resolution_parameter=resolution, seed=seed, n_iterations=-1)
    return np.asarray(part.membership, np.int64)


def _candidates(graph: RingGraph, cfg: DetectConfig, seed: int) -> list[tuple[np.ndarray, str]]:
    """Member index arrays of candidate groups, with the step that found them (components of
    strong links; Leiden communities inside the large ones)."""
    out = _components(graph, graph.pair_w >= cfg.strong, cfg, seed, "components")
    return out + _identity_groups(graph, cfg)


def _identity_groups(graph: RingGraph, cfg: DetectConfig) -> list[tuple[np.ndarray, str]]:
    """Connected groups of borrowers who hold (use or register, not list) one device, phone or
    address, hubs left out: ``min_size`` to ``max_component`` members each.

    Pair weights share an identifier's weight among its holders, so six accounts on one device are
    tied at 0.2 a pair, less than each one's camouflage listings of honest numbers; inside a large
    component Leiden then puts each of them with the honest borrowers it lists, and no community
    holds the block. The holders of shared identities, taken alone, are the block (with whoever a
    stolen address or a family home chains to it; peeling and the risk sort that out)."""
    at = _held(graph, np.arange(len(graph.inc_b)))
    keep = graph.ident_n[graph.inc_i[at]] >= 2
    if len(graph.ident_hub) == len(graph.idents):
        keep &= ~graph.ident_hub[graph.inc_i[at]]
    b, i = graph.inc_b[at[keep]], graph.inc_i[at[keep]]
    if not len(b):
        return []
    n, m = graph.n, len(graph.idents)
    adj = sparse.coo_matrix((np.ones(len(b)), (b, n + i)), shape=(n + m, n + m)).tocsr()
    _, label = csgraph.connected_components(adj, directed=False)
    label = label[:n]
    sizes = np.bincount(label, minlength=n + m)
    order = np.argsort(label, kind="stable")
    starts = np.r_[0, np.cumsum(sizes)]
    out: list[tuple[np.ndarray, str]] = []
    for c in np.flatnonzero((sizes >= cfg.min_size) & (sizes <= cfg.max_component)):
        out.append((np.sort(order[starts[c]:starts[c + 1]]), "identity"))
    return out


def _components(graph: RingGraph, sel: np.ndarray, cfg: DetectConfig, seed: int,
                source: str) -> list[tuple[np.ndarray, str]]:
    n = graph.n
    u, v = graph.pair_u[sel], graph.pair_v[sel]
    adj = sparse.coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)).tocsr()
    _, label = csgraph.connected_components(adj, directed=False)
    sizes = np.bincount(label)
    out: list[tuple[np.ndarray, str]] = []
    order = np.argsort(label, kind="stable")
    starts = np.r_[0, np.cumsum(sizes)]
    for c in np.flatnonzero(sizes >= cfg.min_size):
        members = np.sort(order[starts[c]:starts[c + 1]])
        if len(members) <= cfg.max_component:
            out.append((members, source))
            continue
        out.extend((m, "leiden") for m in _split(graph, members, cfg, seed))
    return out


def _split(graph: RingGraph, members: np.ndarray, cfg: DetectConfig, seed: int) -> list[np.ndarray]:
    import igraph as ig

    inside = graph.pairs_within(members)
    loc = {int(b): i for i, b in enumerate(members)}
    edges = [(loc[int(a)], loc[int(b)]) for a, b in zip(graph.pair_u[inside], graph.pair_v[inside])]
    g = ig.Graph(n=len(members), edges=edges)
    g.es["weight"] = graph.pair_w[inside].tolist()
    memb = communities(g, seed=seed, resolution=cfg.resolution)
    return [members[memb == c] for c in np.unique(memb) if np.sum(memb == c) >= cfg.min_size]


def _core(graph: RingGraph, members: np.ndarray, cfg: DetectConfig) -> np.ndarray:
    """The densest block of a candidate over the identifiers its members share (Fraudar-style)."""
    # columns are nodes: a phone one member registered and another lists is one column
    node = graph.ident_node
    node_n = graph.node_n
    inside = graph.incidences(members)
    b, i = graph.inc_b[inside], graph.inc_i[inside]
    listed = graph.inc_listed[inside] if len(graph.inc_listed) == len(graph.inc_b) else np.zeros(len(b), bool)
    c = node[i]
    uniq, cnt = np.unique(c, return_counts=True)
    shared = uniq[cnt >= 2]
    sel = np.isin(c, shared)
    b, i, c, listed = b[sel], i[sel], c[sel], listed[sel]
    if not len(b):
        return members
    kind_w = np.array([cfg.projection.weight_of(k) for k in KINDS])[graph.ident_kind[i]]
    # listing a number as an emergency contact is a social tie, not a shared identity: it weighs
    # as a contact whatever kind the number's node was first seen as
    kind_w = np.where(listed, cfg.projection.weight_of("contact") * cfg.listed_peel, kind_w)
    w = kind_w * column_weights(node_n[c])
    rows, _, _ = peel(b, c, w)
    return np.sort(rows)


def _cores(graph: RingGraph, members: np.ndarray, cfg: DetectConfig) -> list[np.ndarray]:
    """The dense blocks of a candidate, densest first: :func:`_core`, then again on what is left.

    One candidate may hold several blocks: a component of strong links chains a household, a
    fraud block and the hosts whose stolen addresses the block gave, and Leiden does not always
    cut them apart. Fraudar itself finds blocks one after another, removing each found block; so
    here, at most ``cfg.max_blocks`` times, while at least ``min_size`` members are left that
    still share an identifier.
    """
    out: list[np.ndarray] = []
    left = np.asarray(members)
    for _ in range(cfg.max_blocks):
        if len(left) < cfg.min_size:
            break
        core = _core(graph, left, cfg)
        if len(core) == len(left) and out:
            # nothing peels off any more: what is left is one block only if its members share
            inside = graph.incidences(left)
            _, cnt = np.unique(graph.ident_node[graph.inc_i[inside]], return_counts=True)
            if not np.any(cnt >= 2):
                break
        core = _grow(graph, core, left, cfg.strong)
        out.append(core)
        left = np.setdiff1d(left, core)
    return out


#: the days :func:`_attach` widens a block's opening span by (a ring opens in waves; a month
#: either side of them)
ATTACH_OPEN_DAYS = 30


def _attach(graph: RingGraph, core: np.ndarray, members: np.ndarray, strong: float) -> np.ndarray:
    """``core`` with the candidate's other members who came with it, to a fixed point: tied to
    the block by a strong link (pair weight >= ``strong``), delinquent, and with a loan opened
    inside the block's opening span widened by :data:`ATTACH_OPEN_DAYS`.

    Peeling sheds a ring member who shares an address or a listing with one other member only
    (a pair of synthetic identities hanging off the block): too thin for the densest block, but
    opened in the same wave and defaulting with it. The camouflage peeling removes is mostly
    neither: honest neighbours pay at the book's rate and opened at any time.
    """
    opened = graph.opened[core]
    opened = opened[~np.isnan(opened)]
    if not len(opened):
        return core
    lo, hi = opened.min() - ATTACH_OPEN_DAYS, opened.max() + ATTACH_OPEN_DAYS
    rest = np.setdiff1d(members, core)
    ob = graph.opened[rest]
    rest = rest[graph.delinquent[rest] & (ob >= lo) & (ob <= hi)]
    if not len(rest):
        return core
    allm = np.union1d(core, rest)
    inside = graph.pairs_within(allm)
    u, v = graph.pair_u[inside], graph.pair_v[inside]
    keep = graph.pair_w[inside] >= strong
    u, v = u[keep], v[keep]
    while True:
        in_core = np.isin(u, core), np.isin(v, core)
        new = np.union1d(v[in_core[0] & ~in_core[1]], u[in_core[1] & ~in_core[0]])
        if not len(new):
            return core
        core = np.union1d(core, new).astype(core.dtype)


#: identifier kinds that say "one hand behind two accounts" (see :func:`_grow`)
_IDENTITY_KINDS = ("device", "phone", "address")


def _held(graph: RingGraph, at: np.ndarray) -> np.ndarray:
    """The incidence positions ``at`` whose borrower holds (uses or registered, not only lists)
    a device, phone or address."""
    keep = np.isin(graph.ident_kind[graph.inc_i[at]], [KIND_CODE[k] for k in _IDENTITY_KINDS])
    if len(graph.inc_listed) == len(graph.inc_b):
        keep &= ~graph.inc_listed[at]
    return at[keep]


def _grow(graph: RingGraph, core: np.ndarray, members: np.ndarray, strong: float) -> np.ndarray:
    """``core`` with the candidate's other members who hold a device, registered phone or home
    address that binds the core: held (not merely listed) by two or more core members and by at
    least half of all its holders.

    Peeling keeps the densest block, so a ring member who holds only one of the ring's devices
    is peeled off first, although that device binds it to the ring as tightly as anyone. Asking
    the identifier to be mostly the core's keeps the camouflage out: a victim whose home a ring
    member gave as mailing address shares it with one core member only, and a popular
    identifier is mostly held outside.
    """
    rest = np.setdiff1d(members, core)
    if not len(rest) or not len(core):
        return core
    in_core = _held(graph, graph.incidences(core))
    ids, cnt = np.unique(graph.inc_i[in_core], return_counts=True)
    hub = graph.ident_hub[ids] if len(graph.ident_hub) == len(graph.idents) else np.zeros(len(ids), bool)
    binding = ids[(cnt >= 2) & (cnt * 2 >= graph.ident_n[ids]) & ~hub]
    at = _held(graph, graph.incidences(rest))
    add = graph.inc_b[at[np.isin(graph.inc_i[at], binding)]]
    core = np.union1d(core, add).astype(core.dtype)
    return _attach(graph, core, members, strong)


def _refused(store: GraphStore, graph: RingGraph, members: np.ndarray) -> list[int]:
    out = []
    for b in members.tolist():
        led = store.ledger(graph.borrowers[b])
        if any(a.get("outcome") in ("refused", "opted_out") for a in led.attempts):
            out.append(b)
    return out


def ring_id(members: list[str]) -> str:
    """A stable id from the sorted member ids: the same ring gets the same id in every run."""
    h = hashlib.blake2b("\n".join(sorted(members)).encode(), digest_size=5).hexdigest()
    return f"R-{h}"


#: where the whole-graph steps run: "python" reads the projection out of the
#: store and runs igraph/leidenalg/numpy in process. The seam for an
#: in-database engine (Neo4j GDS is not served here, so none depends on it).
ENGINES = ("python",)


def detect(store: GraphStore, *, seed: int = 0, config: DetectConfig | None = None,
           as_of: float | None = None, engine: str = "python",
           progress: Callable[[str], None] | None = None) -> list[Ring]:
    """Detect rings in ``store`` (module docstring). Rings come riskiest first.

    ``progress`` is called with a short step name as the detection advances.
    ``engine`` names where the whole-graph steps run (:data:`ENGINES`).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    cfg = config or DetectConfig()
    say = progress or (lambda _m: None)
    # the projection, the agents' degrees and the ledgers: one published state, not a load's
    # before in one stream and its after in the next (GraphStore.consistent)
    return store.consistent(lambda: _detect(store, cfg, seed, as_of, say))


def _detect(store: GraphStore, cfg: DetectConfig, seed: int, as_of: float | None,
            say: Callable[[str], None]) -> list[Ring]:
    graph = project(store, cfg.projection, as_of=as_of, progress=say)
    say("candidates")
    cands = _candidates(graph, cfg, seed)
    say("peeling")
    groups: list[tuple[np.ndarray, str, list[AgentHub]]] = []
    for members, source in cands:
        for core in _cores(graph, members, cfg):
            if len(core) >= cfg.min_size:
                groups.append((core, source, []))
    agents = find_agents(store, graph, cfg.agents, progress=say)
    for hubs in agent_groups(agents):
        members = np.unique(np.concatenate([h.members for h in hubs]))
        groups.append((members, "agents", hubs))
    say("scoring")
    scored = []
    for members, source, hubs in groups:
        f = features(graph, members, agents=len(hubs))
        r = risk(f)
        if cfg.read_ledger and f["delinquent_share"] >= 0.5:
            f = features(graph, members, agents=len(hubs), refused=_refused(store, graph, members))
            r = risk(f)
        scored.append((r, members, source, hubs, f))
    # each borrower stays in its riskiest ring; the identity groups (a fallback for blocks the
    # communities scatter) come after the flagged rings of the other steps: a subset of a ring
    # often scores higher than the ring (bursts are shares) and would take its members first
    scored.sort(key=lambda s: (s[2] == "identity" or s[0] < FLAG_AT, -s[0], graph.borrowers[int(s[1][0])]))
    taken = np.zeros(graph.n, bool)
    rings: list[Ring] = []
    for r0, members, source, hubs, f in scored:
        members = members[~taken[members]]
        if len(members) < cfg.min_size:
            continue
        if len(members) != int(f["size"]):
            f = features(graph, members, agents=len(hubs))
            r0 = risk(f)
        t = typology(f, r0)
        if t in ("household", "unknown") and not cfg.keep_unflagged:
            continue
        taken[members] = True
        keys = sorted(graph.borrowers[i] for i in members)
        ring = Ring(ring_id=ring_id(keys), typology=t, risk=r0, members=keys,
                    binding=[Binding("agent", split_id(h.phone)[1], int(np.isin(h.members, members).sum()))
                             for h in hubs] + _binding(graph, members), agents=[split_id(h.phone)[1] for h in hubs],
                    features=f, source=source)
        ring.onset_window = ev.onset_window(graph, members, hubs)
        ring.evidence = ev.sentences(graph, members, ring, hubs)
        rings.append(ring)
    rings.sort(key=lambda x: (-x.risk, x.ring_id))
    log.info("rings: %d candidates, %d agents, %d rings (%d flagged)", len(groups), len(agents),
             len(rings), sum(x.flagged for x in rings))
    return rings


def _binding(graph: RingGraph, members: np.ndarray, top: int = 8) -> list[Binding]:
    """Identifiers held by two or more members, strongest first (kind weight x members)."""
    inside = graph.incidences(members)
    uniq, cnt = np.unique(graph.inc_i[inside], return_counts=True)
    kinds = graph.ident_kind[uniq]
    weak = np.isin(kinds, [KINDS.index("employer"), KINDS.index("work_address"), KINDS.index("work_phone")])
    # colleagues share employers by nature: an employer binds only when it holds half the ring
    sel = (cnt >= 2) & (~weak | (cnt * 2 >= len(members)))
    uniq, cnt = uniq[sel], cnt[sel]
    cfg = ProjectionConfig()
    kw = np.array([cfg.weight_of(k) for k in KINDS])[graph.ident_kind[uniq]]
    # ties broken by kind and value, not by position: stores stream identifiers in different orders
    found = [(-(kw[j] * cnt[j]), KINDS[graph.ident_kind[uniq[j]]], split_id(graph.idents[uniq[j]])[1], int(cnt[j]))
             for j in range(len(uniq))]
    return [Binding(kind, value, n) for _, kind, value, n in sorted(found)[:top]]

