"""The compiled event engine (numba): one trust, one replication per call, replications in
parallel threads.

Events sit in a binary heap of (time, kind, id); arrivals are drawn lazily from piecewise-
constant hourly rates (exponential gaps, restarted at each hour boundary: exact for a Poisson
process with that rate). Each replication seeds its thread's generator from its own seed, so
its results depend on its seed alone, whatever the thread or the batch.

Model, in order (docs/capacity.md has it in words):
- an arrival is a minor case with probability minor_share; a minor is streamed to the UTC
  (type 3) with probability streaming_share, everyone else joins the type 1 queue;
- the UTC sees its patients first come first served with `clinicians` at once (0: at once);
- type 1 patients wait first come first served for a cubicle; the cubicles in use are those
  treating plus admitted patients waiting for a bed beyond the corridor's places;
- at the end of treatment a patient is admitted with the probability for majors or minors
  (times the month's factor); an admitted patient, or a direct admission, asks for a bed in
  their pool: a free bed of the pool, else (pools not ring-fenced) a free bed of the other
  open pool with most free beds, else an escalation bed of the pool, else they are
  transferred out (when_full = transfer) or wait, first come first served;
- a stay lasts its length of stay, then waits for the discharge window (and, at weekends,
  passes with the weekend factor each day); the bed is free after the turnaround time and
  goes to the longest waiter of its pool, else (open pools) the longest waiter of another
  open pool; a freed escalation bed goes only to its own pool's waiters, else closes.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from fourhour.capacity.discharge import MINUTES_A_DAY, discharge_time
from fourhour.capacity.inputs import (
    D_MAJORS,
    D_MINORS,
    D_UTC,
    EXPONENTIAL,
    FIXED,
    LOGNORMAL,
    P_ARRIVAL_CAP,
    P_CORRIDOR,
    P_CUBICLES,
    P_DAILY_SHAPE,
    P_MAJORS_ADMITTED,
    P_MINOR_SHARE,
    P_MINORS_ADMITTED,
    P_STREAMING,
    P_T0,
    P_T1,
    P_TRANSFER,
    P_TSTOP,
    P_TURNAROUND,
    P_UTC_CLINICIANS,
    P_WEEKDAY0,
    P_WEEKEND,
    P_WINDOW_CLOSE,
    P_WINDOW_OPEN,
)
from fourhour.capacity.metrics import METRICS
from fourhour.thresholds import BREACH_MINUTES, TWELVE_HOURS

N_METRICS = len(METRICS)
M = {name: i for i, name in enumerate(METRICS)}
# The engine's positions in a replication's metrics, looked up by name (numba reads them as
# constants when it compiles).
_ATT1, _BR1, _O12_1 = M["att_type1"], M["br_type1"], M["over_12h_type1"]
_ATT3, _BR3, _O12_3 = M["att_type3"], M["br_type3"], M["over_12h_type3"]
_DTA, _DTA_4_12, _DTA_12 = M["dta"], M["dta_4_12h"], M["dta_over_12h"]
_DTA_WAIT, _DTA_WAITED = M["dta_wait_minutes"], M["dta_waited"]
_TRANSFERS, _CENSORED, _T1_MIN = M["transfers"], M["censored"], M["type1_minutes"]
_BED_MIN, _ESC_MIN, _Q_MIN = M["bed_minutes"], M["escalation_minutes"], M["queue_minutes"]
_MID_SUM, _MID_N = M["midnight_occupied"], M["midnights"]
_STARTS, _STAY_MIN = M["bed_starts"], M["bed_stay_minutes"]
_REQ, _REQ_WAIT, _DIRECT = M["bed_requests"], M["bed_request_wait_minutes"], M["direct"]
_CUB_Q_MIN, _CUB_STARTS = M["cubicle_queue_minutes"], M["cubicle_starts"]
_CUB_WAIT, _DROPPED = M["cubicle_wait_minutes"], M["dropped_arrivals"]

HIST_MINUTES = 2880  # time-in-department histogram: one bin a minute to 48 hours, then one more
# A breach: over BREACH_MINUTES whole minutes (fourhour's patient-level definition); 12 hours:
# over TWELVE_HOURS whole minutes. Both from fourhour.thresholds.

# Patient kinds and what happened to an admission.
DIRECT, TYPE1, TYPE3 = 0, 1, 3
NOT_ADMITTED, ADMITTED, TRANSFERRED = 0, 1, 2

# Event kinds.
_ED_END, _UTC_END, _DISCHARGE, _BED_FREE = 1, 2, 3, 4
# What comes next in the loop: an A&E arrival, a direct admission or an event from the heap.
_NEXT_AE, _NEXT_DIRECT, _NEXT_EVENT = 0, 1, 2
_HOUR = 60.0
# The event handlers are inlined into simulate_one by numba (as if written there), so that
# splitting the loop into named steps costs no calls and no reference counting of the arrays.
_handler = njit(cache=True, _nrt=False)  # type: ignore[call-overload]  # _nrt: not in the stubs
# The arrays hold this many standard deviations of arrivals above their mean, plus a margin.
_CAP_SDS, _CAP_MARGIN = 10.0, 1000.0

# The engine's running counts, kept in one small int64 array (`st`) so that the event handlers
# can change them: patients stored, the cubicle and UTC queues' heads and tails, occupied beds
# (escalation included) and occupied escalation beds, patients waiting for a bed (direct
# admissions included), type 1 patients in a cubicle, type 1 patients waiting for a bed, UTC
# clinicians busy, and the size of the event heap.
(
    _S_N,
    _S_ED_HEAD,
    _S_ED_TAIL,
    _S_UTC_HEAD,
    _S_UTC_TAIL,
    _S_OCCUPIED,
    _S_ESC_OCCUPIED,
    _S_WAITING,
    _S_TREATING,
    _S_BOARDING,
    _S_UTC_BUSY,
    _S_HEAP,
) = range(12)
_N_STATE = 12


@njit(cache=True)
def _draw(code, a, b):
    if code == FIXED:
        return a
    if code == EXPONENTIAL:
        return np.random.exponential(a)
    if code == LOGNORMAL:
        return np.random.lognormal(a, b)
    return np.random.gamma(a, b)


@njit(cache=True)
def _draw_residual(code, a, b):
    """A remaining stay at a random moment in equilibrium: a length-biased stay times a
    uniform fraction."""
    u = np.random.random()
    if code == FIXED:
        return a * u
    if code == EXPONENTIAL:
        return np.random.exponential(a)
    if code == LOGNORMAL:
        return np.random.lognormal(a + b * b, b) * u
    return np.random.gamma(a + 1.0, b) * u


@njit(cache=True)
def _push(ht, hk, hi, n, t, k, i):
    j = n
    while j > 0:
        parent = (j - 1) >> 1
        if ht[parent] <= t:
            break
        ht[j], hk[j], hi[j] = ht[parent], hk[parent], hi[parent]
        j = parent
    ht[j], hk[j], hi[j] = t, k, i
    return n + 1


@njit(cache=True)
def _pop(ht, hk, hi, n):
    """Removes the root (read it first); returns the new size."""
    n -= 1
    if n == 0:
        return 0
    t, k, i = ht[n], hk[n], hi[n]
    j = 0
    while True:
        c = 2 * j + 1
        if c >= n:
            break
        if c + 1 < n and ht[c + 1] < ht[c]:
            c += 1
        if t <= ht[c]:
            break
        ht[j], hk[j], hi[j] = ht[c], hk[c], hi[c]
        j = c
    ht[j], hk[j], hi[j] = t, k, i
    return n


@njit(cache=True)
def _next_arrival(t, rate, day_mult, t_end):
    """The next event of a Poisson process with hourly rates rate[h] * day_mult[h // 24]."""
    while t < t_end:
        h = int(t // _HOUR)
        lam = rate[h] * day_mult[h // 24]
        edge = (h + 1) * _HOUR
        if lam > 0.0:
            t2 = t + np.random.exponential(1.0 / lam)
            if t2 < edge:
                return t2
        t = edge
    return np.inf


@njit(cache=True)
def simulate_one(
    seed,
    params,
    hour_rate,
    direct_rate,
    day_admitted,
    durations,
    pool_beds,
    pool_esc,
    pool_rf,
    pool_cum,
    pool_census,
    pool_los,
):
    """One replication. Returns (metrics, histogram[2, HIST_MINUTES + 1] of minutes in the
    department: all types, type 1) and every patient's arrival, decision to admit, departure
    (or bed start, for direct admissions; -1 where none), kind, minor flag and admission."""
    np.random.seed(seed)
    t0, t1, t_stop = params[P_T0], params[P_T1], params[P_TSTOP]
    n_pools = pool_beds.shape[0]
    metrics = np.zeros(N_METRICS)
    hist = np.zeros((2, HIST_MINUTES + 1), np.int64)
    day_mult = _day_multipliers(params[P_DAILY_SHAPE], day_admitted.shape[0])
    ones = np.ones(day_admitted.shape[0])

    cap = _arrival_cap(params, hour_rate, direct_rate, day_mult)
    arr, dta, dep, kind, minor, admit, pool = _patient_arrays(cap)
    ed_q = np.empty(cap, np.int64)
    utc_q = np.empty(cap, np.int64)
    bed_q = np.empty((n_pools, cap), np.int64)
    q_head = np.zeros(n_pools, np.int64)
    q_tail = np.zeros(n_pools, np.int64)
    ht, hk, hi = _event_heap(cap + int(pool_beds.sum() + pool_esc.sum()) + 16)
    st = np.zeros(_N_STATE, np.int64)
    free = pool_beds.copy()
    esc_free = pool_esc.copy()
    _start_census(st, params, pool_beds, pool_census, pool_los, free, esc_free, ht, hk, hi)

    t_rates = min(t_stop, float(hour_rate.shape[0]) * _HOUR)
    next_arr = _next_arrival(0.0, hour_rate, day_mult, t_rates)
    next_dir = _next_arrival(0.0, direct_rate, ones, t_rates)
    last = 0.0
    next_midnight = 0.0

    while True:
        t, source = _next_happening(next_arr, next_dir, st, ht)
        if t >= t_stop:
            break
        _integrate(metrics, st, last, t, t0, t1)
        next_midnight = _count_midnights(metrics, st, next_midnight, t, t0, t1)
        last = t

        request = -1  # a patient asking for a bed now
        freed = -1  # a bed slot (2 * pool + escalation) free now
        if source != _NEXT_EVENT and st[_S_N] == cap:
            metrics[_DROPPED] += 1.0
            if source == _NEXT_AE:
                next_arr = _next_arrival(t, hour_rate, day_mult, t_rates)
            else:
                next_dir = _next_arrival(t, direct_rate, ones, t_rates)
        elif source == _NEXT_DIRECT:
            request = _on_direct_admission(st, t, arr, dta, dep, kind, minor, admit, pool)
            next_dir = _next_arrival(t, direct_rate, ones, t_rates)
        elif source == _NEXT_AE:
            next_arr = _next_arrival(t, hour_rate, day_mult, t_rates)
            _on_ae_arrival(
                st, t, params, durations, arr, dta, dep, kind, minor, admit, pool,
                ed_q, utc_q, ht, hk, hi,
            )  # fmt: skip
        else:
            ev_kind = hk[0]
            ev_id = hi[0]
            st[_S_HEAP] = _pop(ht, hk, hi, st[_S_HEAP])
            if ev_kind == _ED_END:
                request = _on_treatment_end(st, ev_id, t, params, day_admitted, minor, dta, dep)
            elif ev_kind == _UTC_END:
                _on_utc_end(st, ev_id, t, durations, dep, utc_q, ht, hk, hi)
            elif ev_kind == _DISCHARGE:
                freed = _on_discharge(st, ev_id, t, params, ht, hk, hi)
            else:  # _BED_FREE: the turnaround is over
                freed = ev_id

        if request >= 0:
            _on_bed_request(
                st, request, t, params, pool_rf, pool_cum, pool_los, free, esc_free,
                dta, dep, kind, admit, pool, bed_q, q_tail, ht, hk, hi, metrics,
            )  # fmt: skip
        if freed >= 0:
            _on_bed_free(
                st, freed, t, params, pool_rf, pool_los, free, esc_free,
                dta, dep, kind, admit, pool, bed_q, q_head, q_tail, ht, hk, hi, metrics,
            )  # fmt: skip
        _start_treatments(st, t, params, durations, arr, minor, ed_q, ht, hk, hi, metrics)

    # close the integrals at the stop
    _integrate(metrics, st, last, t_stop, t0, t1)
    _count_midnights(metrics, st, next_midnight, t_stop, t0, t1)
    n = st[_S_N]
    _count_patients(n, arr, dta, dep, kind, admit, t0, t1, t_stop, metrics, hist)
    return (
        metrics,
        hist,
        arr[:n].copy(),
        dta[:n].copy(),
        dep[:n].copy(),
        kind[:n].copy(),
        minor[:n].copy(),
        admit[:n].copy(),
    )


@njit(cache=True)
def _patient_arrays(cap):
    """Room for `cap` patients: arrival, decision to admit and departure times, kind, minor
    flag, admission outcome and bed pool."""
    return (
        np.empty(cap),
        np.empty(cap),
        np.empty(cap),
        np.empty(cap, np.int8),
        np.empty(cap, np.int8),
        np.empty(cap, np.int8),
        np.empty(cap, np.int64),
    )


@njit(cache=True)
def _event_heap(size):
    """An empty binary heap of events: times, kinds and ids."""
    return np.empty(size), np.empty(size, np.int64), np.empty(size, np.int64)


@_handler
def _next_happening(next_arr, next_dir, st, ht):
    """What happens next, and when: an A&E arrival, a direct admission or the heap's first
    event (ties in that order)."""
    t = next_arr
    source = _NEXT_AE
    if next_dir < t:
        t = next_dir
        source = _NEXT_DIRECT
    if st[_S_HEAP] > 0 and ht[0] < t:
        t = ht[0]
        source = _NEXT_EVENT
    return t, source


@njit(cache=True)
def _day_multipliers(shape, n_days):
    """Day-to-day variation: a gamma multiplier of mean 1 for each day (none when shape 0)."""
    day_mult = np.ones(n_days)
    if shape > 0.0:
        for d in range(n_days):
            day_mult[d] = np.random.gamma(shape, 1.0 / shape)
    return day_mult


@_handler
def _arrival_cap(params, hour_rate, direct_rate, day_mult):
    """How many patients the arrays hold: P_ARRIVAL_CAP when set, else the expected arrivals
    plus ten standard deviations plus a margin. Arrivals beyond it are counted as dropped."""
    if params[P_ARRIVAL_CAP] > 0.0:
        return int(params[P_ARRIVAL_CAP])
    expected = 0.0
    for h in range(hour_rate.shape[0]):
        expected += (hour_rate[h] * day_mult[h // 24] + direct_rate[h]) * _HOUR
    return int(expected + _CAP_SDS * np.sqrt(expected) + _CAP_MARGIN)


@_handler
def _schedule(ht, hk, hi, st, t, k, i):
    """Puts event (t, kind k, id i) on the heap."""
    st[_S_HEAP] = _push(ht, hk, hi, st[_S_HEAP], t, k, i)


@_handler
def _take_bed(st, slot, free, esc_free):
    """Bed `slot` (2 * pool + escalation) becomes occupied, taken from the free beds."""
    if slot % 2 == 1:
        esc_free[slot // 2] -= 1
        st[_S_ESC_OCCUPIED] += 1
    else:
        free[slot // 2] -= 1
    st[_S_OCCUPIED] += 1


@_handler
def _start_census(st, params, pool_beds, pool_census, pool_los, free, esc_free, ht, hk, hi):
    """The starting census: stays already under way, each with a residual length of stay,
    escalation beds filled after the pool's own."""
    w0, w1, weekend = params[P_WINDOW_OPEN], params[P_WINDOW_CLOSE], params[P_WEEKEND]
    wd0 = int(params[P_WEEKDAY0])
    for k in range(pool_beds.shape[0]):
        for j in range(pool_census[k]):
            slot = 2 * k + (1 if j >= pool_beds[k] else 0)
            _take_bed(st, slot, free, esc_free)
            rest = _draw_residual(pool_los[k, 0], pool_los[k, 1], pool_los[k, 2])
            leave = discharge_time(rest, w0, w1, weekend, wd0)
            _schedule(ht, hk, hi, st, leave, _DISCHARGE, slot)


@_handler
def _integrate(metrics, st, last, t, t0, t1):
    """Time integrals over the measured period; the state is constant on [last, t)."""
    a = max(last, t0)
    b = min(t, t1)
    if b > a:
        metrics[_BED_MIN] += st[_S_OCCUPIED] * (b - a)
        metrics[_ESC_MIN] += st[_S_ESC_OCCUPIED] * (b - a)
        metrics[_Q_MIN] += st[_S_WAITING] * (b - a)
        metrics[_CUB_Q_MIN] += (st[_S_ED_TAIL] - st[_S_ED_HEAD]) * (b - a)


@_handler
def _count_midnights(metrics, st, next_midnight, t, t0, t1):
    """Occupied beds at each midnight of the measured period before t; the next midnight."""
    while next_midnight < t:
        if t0 <= next_midnight < t1:
            metrics[_MID_SUM] += st[_S_OCCUPIED]
            metrics[_MID_N] += 1.0
        next_midnight += MINUTES_A_DAY
    return next_midnight


@_handler
def _new_patient(st, t, who, arr, dta, dep, kind, minor, admit, pool):
    """A patient of kind `who` arriving at t, not (yet) admitted; their number."""
    i = st[_S_N]
    st[_S_N] += 1
    arr[i] = t
    dta[i] = -1.0
    dep[i] = -1.0
    admit[i] = NOT_ADMITTED
    minor[i] = 0
    pool[i] = -1
    kind[i] = who
    return i


@_handler
def _on_direct_admission(st, t, arr, dta, dep, kind, minor, admit, pool):
    """A direct admission arrives and asks for a bed at once; returns the patient."""
    i = _new_patient(st, t, DIRECT, arr, dta, dep, kind, minor, admit, pool)
    dta[i] = t
    return i


@_handler
def _on_ae_arrival(
    st, t, params, durations, arr, dta, dep, kind, minor, admit, pool, ed_q, utc_q, ht, hk, hi
):
    """An A&E arrival: a minor with probability minor_share; a minor is streamed to the UTC
    with probability streaming_share (seen at once by a free clinician, else queues); everyone
    else joins the type 1 queue for a cubicle."""
    i = _new_patient(st, t, TYPE1, arr, dta, dep, kind, minor, admit, pool)
    if np.random.random() < params[P_MINOR_SHARE]:
        minor[i] = 1
    streaming = params[P_STREAMING]
    if minor[i] == 1 and streaming > 0.0 and np.random.random() < streaming:
        kind[i] = TYPE3
        clinicians = int(params[P_UTC_CLINICIANS])
        if clinicians == 0 or st[_S_UTC_BUSY] < clinicians:
            st[_S_UTC_BUSY] += 1
            d = _draw(durations[D_UTC, 0], durations[D_UTC, 1], durations[D_UTC, 2])
            _schedule(ht, hk, hi, st, t + d, _UTC_END, i)
        else:
            utc_q[st[_S_UTC_TAIL]] = i
            st[_S_UTC_TAIL] += 1
    else:
        ed_q[st[_S_ED_TAIL]] = i
        st[_S_ED_TAIL] += 1


@_handler
def _on_treatment_end(st, i, t, params, day_admitted, minor, dta, dep):
    """Type 1 patient i's treatment ends: admitted with the probability for majors or minors
    times the day's factor (returns i, now asking for a bed), else they leave (returns -1)."""
    st[_S_TREATING] -= 1
    p = params[P_MINORS_ADMITTED] if minor[i] == 1 else params[P_MAJORS_ADMITTED]
    p *= day_admitted[min(int(t // MINUTES_A_DAY), day_admitted.shape[0] - 1)]
    if np.random.random() < p:
        dta[i] = t
        return i
    dep[i] = t
    return -1


@_handler
def _on_utc_end(st, i, t, durations, dep, utc_q, ht, hk, hi):
    """UTC patient i leaves; the clinician sees the next in the queue, if any."""
    dep[i] = t
    st[_S_UTC_BUSY] -= 1
    if st[_S_UTC_HEAD] < st[_S_UTC_TAIL]:
        j = utc_q[st[_S_UTC_HEAD]]
        st[_S_UTC_HEAD] += 1
        st[_S_UTC_BUSY] += 1
        d = _draw(durations[D_UTC, 0], durations[D_UTC, 1], durations[D_UTC, 2])
        _schedule(ht, hk, hi, st, t + d, _UTC_END, j)


@_handler
def _on_discharge(st, slot, t, params, ht, hk, hi):
    """A stay in bed `slot` ends: the bed is free now (returns the slot) or after the
    turnaround (returns -1; a _BED_FREE event frees it)."""
    st[_S_OCCUPIED] -= 1
    if slot % 2 == 1:
        st[_S_ESC_OCCUPIED] -= 1
    turnaround = params[P_TURNAROUND]
    if turnaround > 0.0:
        _schedule(ht, hk, hi, st, t + turnaround, _BED_FREE, slot)
        return -1
    return slot


@_handler
def _choose_pool(pool_cum):
    """A pool drawn by the pools' shares (cumulative in pool_cum)."""
    u = np.random.random()
    k = 0
    while k < pool_cum.shape[0] - 1 and u >= pool_cum[k]:
        k += 1
    return k


@_handler
def _find_bed(k, pool_rf, free, esc_free):
    """A bed slot for a patient of pool k: a free bed of the pool, else (pools not ring-fenced)
    a free bed of the other open pool with most free beds, else an escalation bed of the pool;
    -1 when there is none."""
    slot = -1
    if free[k] > 0:
        slot = 2 * k
    elif pool_rf[k] == 0:
        best = 0
        for j in range(free.shape[0]):
            if j != k and pool_rf[j] == 0 and free[j] > best:
                best = free[j]
                slot = 2 * j
    if slot < 0 and esc_free[k] > 0:
        slot = 2 * k + 1
    return slot


@_handler
def _on_bed_request(
    st, i, t, params, pool_rf, pool_cum, pool_los, free, esc_free,
    dta, dep, kind, admit, pool, bed_q, q_tail, ht, hk, hi, metrics,
):  # fmt: skip
    """Patient i asks for a bed: choose their pool, then a bed, a transfer out (when_full =
    transfer) or the pool's queue, first come first served."""
    k = _choose_pool(pool_cum)
    pool[i] = k
    slot = _find_bed(k, pool_rf, free, esc_free)
    if slot < 0 and params[P_TRANSFER] > 0.5:
        admit[i] = TRANSFERRED
        dep[i] = t
    elif slot < 0:
        bed_q[k, q_tail[k]] = i
        q_tail[k] += 1
        st[_S_WAITING] += 1
        if kind[i] == TYPE1:
            st[_S_BOARDING] += 1
    else:
        _take_bed(st, slot, free, esc_free)
        dep[i] = t
        _stay(st, i, slot, t, params, pool_los, admit, pool, ht, hk, hi, metrics)


@_handler
def _next_waiter_pool(k, esc, pool_rf, dta, bed_q, q_head, q_tail):
    """Whose waiter a bed of pool k (escalation if esc) goes to: pool k's if any wait, else
    (core beds of open pools) the open pool whose first waiter asked first; -1 if none."""
    if q_head[k] < q_tail[k]:
        return k
    j = -1
    if esc == 0 and pool_rf[k] == 0:
        first = np.inf
        for m in range(q_head.shape[0]):
            if m != k and pool_rf[m] == 0 and q_head[m] < q_tail[m]:
                cand = bed_q[m, q_head[m]]
                if dta[cand] < first:
                    first = dta[cand]
                    j = m
    return j


@_handler
def _on_bed_free(
    st, slot, t, params, pool_rf, pool_los, free, esc_free,
    dta, dep, kind, admit, pool, bed_q, q_head, q_tail, ht, hk, hi, metrics,
):  # fmt: skip
    """Bed `slot` is free: it goes to the longest waiter of its pool, else (open pools) of
    another open pool; else it is free (a freed escalation bed closes)."""
    k = slot // 2
    esc = slot % 2
    j = _next_waiter_pool(k, esc, pool_rf, dta, bed_q, q_head, q_tail)
    if j < 0:
        if esc == 1:
            esc_free[k] += 1
        else:
            free[k] += 1
        return
    i = bed_q[j, q_head[j]]
    q_head[j] += 1
    st[_S_WAITING] -= 1
    if kind[i] == TYPE1:
        st[_S_BOARDING] -= 1
    # the bed passes straight to the waiter (it never counted as free)
    st[_S_OCCUPIED] += 1
    if esc == 1:
        st[_S_ESC_OCCUPIED] += 1
    dep[i] = t
    _stay(st, i, slot, t, params, pool_los, admit, pool, ht, hk, hi, metrics)


@_handler
def _start_treatments(st, t, params, durations, arr, minor, ed_q, ht, hk, hi, metrics):
    """Type 1 patients start treatment, first come first served, while a cubicle is free:
    those in use are the ones treating plus patients waiting for a bed beyond the corridor's
    places (cubicles 0: no limit)."""
    cubicles, corridor = int(params[P_CUBICLES]), int(params[P_CORRIDOR])
    t0, t1 = params[P_T0], params[P_T1]
    while st[_S_ED_HEAD] < st[_S_ED_TAIL] and (
        cubicles == 0 or st[_S_TREATING] + max(0, st[_S_BOARDING] - corridor) < cubicles
    ):
        i = ed_q[st[_S_ED_HEAD]]
        st[_S_ED_HEAD] += 1
        st[_S_TREATING] += 1
        if t0 <= arr[i] < t1:
            metrics[_CUB_STARTS] += 1.0
            metrics[_CUB_WAIT] += t - arr[i]
        r = D_MINORS if minor[i] == 1 else D_MAJORS
        d = _draw(durations[r, 0], durations[r, 1], durations[r, 2])
        _schedule(ht, hk, hi, st, t + d, _ED_END, i)


@_handler
def _stay(st, i, slot, t, params, pool_los, admit, pool, ht, hk, hi, metrics):
    """Patient i starts a stay in bed `slot` at t; their discharge goes on the heap."""
    k = pool[i]
    los = _draw(pool_los[k, 0], pool_los[k, 1], pool_los[k, 2])
    leave = discharge_time(
        t + los,
        params[P_WINDOW_OPEN],
        params[P_WINDOW_CLOSE],
        params[P_WEEKEND],
        int(params[P_WEEKDAY0]),
    )
    admit[i] = ADMITTED
    if params[P_T0] <= t < params[P_T1]:
        metrics[_STARTS] += 1.0
        metrics[_STAY_MIN] += leave - t
    _schedule(ht, hk, hi, st, leave, _DISCHARGE, slot)


@njit(cache=True)
def _count_patients(n, arr, dta, dep, kind, admit, t0, t1, t_stop, metrics, hist):
    for i in range(n):
        leave = dep[i]
        # requests for a bed made in the period (direct admissions included)
        if dta[i] >= 0.0 and t0 <= dta[i] < t1:
            metrics[_REQ] += 1.0
            metrics[_REQ_WAIT] += (leave if leave >= 0.0 else t_stop) - dta[i]
            if kind[i] == DIRECT:
                metrics[_DIRECT] += 1.0
        if kind[i] == DIRECT or not t0 <= arr[i] < t1:
            continue
        if leave < 0.0:
            leave = t_stop
            metrics[_CENSORED] += 1.0
        minutes = leave - arr[i]
        whole = int(minutes)  # whole minutes, rounded down, as fourhour's measures count them
        hist[0, min(whole, HIST_MINUTES)] += 1
        if kind[i] == TYPE1:
            hist[1, min(whole, HIST_MINUTES)] += 1
            metrics[_ATT1] += 1.0
            metrics[_T1_MIN] += minutes
            if whole > BREACH_MINUTES:
                metrics[_BR1] += 1.0
            if whole > TWELVE_HOURS:
                metrics[_O12_1] += 1.0
            if dta[i] >= 0.0:
                wait = leave - dta[i]
                metrics[_DTA] += 1.0
                metrics[_DTA_WAIT] += wait
                if wait > 0.0:
                    metrics[_DTA_WAITED] += 1.0
                if int(wait) > TWELVE_HOURS:
                    metrics[_DTA_12] += 1.0
                elif int(wait) > BREACH_MINUTES:
                    metrics[_DTA_4_12] += 1.0
                if admit[i] == TRANSFERRED:
                    metrics[_TRANSFERS] += 1.0
        else:
            metrics[_ATT3] += 1.0
            if whole > BREACH_MINUTES:
                metrics[_BR3] += 1.0
            if whole > TWELVE_HOURS:
                metrics[_O12_3] += 1.0


@njit(cache=True, parallel=True)
def simulate_many(
    seeds,
    params,
    hour_rate,
    direct_rate,
    day_admitted,
    durations,
    pool_beds,
    pool_esc,
    pool_rf,
    pool_cum,
    pool_census,
    pool_los,
):
    """Replications in parallel threads: metrics[R, N_METRICS], histograms[R, 2, bins]."""
    r_count = seeds.shape[0]
    out = np.zeros((r_count, N_METRICS))
    hists = np.zeros((r_count, 2, HIST_MINUTES + 1), np.int64)
    for r in prange(r_count):
        res = simulate_one(
            seeds[r],
            params,
            hour_rate,
            direct_rate,
            day_admitted,
            durations,
            pool_beds,
            pool_esc,
            pool_rf,
            pool_cum,
            pool_census,
            pool_los,
        )
        out[r, :] = res[0]
        hists[r, :, :] = res[1]
    return out, hists
