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

from fourhour.capacity.inputs import (
    D_MAJORS,
    D_MINORS,
    D_UTC,
    EXPONENTIAL,
    FIXED,
    LOGNORMAL,
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

# What one replication returns: counts and sums over patients arriving (or asking for a bed)
# in the measured period, and time integrals over it.
METRICS = (
    "att_type1",  # type 1 attendances
    "br_type1",  # ... over 4 hours from arrival to departure
    "over_12h_type1",  # ... over 12 hours from arrival
    "att_type3",  # UTC attendances
    "br_type3",
    "over_12h_type3",
    "dta",  # type 1 patients with a decision to admit
    "dta_4_12h",  # ... who left 4-12 hours after it
    "dta_over_12h",  # ... more than 12 hours after it
    "dta_wait_minutes",  # ... their waits from decision to departure, summed
    "dta_waited",  # ... how many waited at all for a bed
    "transfers",  # ... how many were transferred out for want of a bed
    "censored",  # measured patients still in A&E when the run stopped (counted as they were)
    "type1_minutes",  # type 1 time in department, summed
    "bed_minutes",  # integral of occupied beds (escalation included)
    "escalation_minutes",  # integral of occupied escalation beds
    "queue_minutes",  # integral of patients waiting for a bed (direct admissions included)
    "midnight_occupied",  # occupied beds summed over the period's midnights
    "midnights",
    "bed_starts",  # stays that began in the period
    "bed_stay_minutes",  # ... their lengths in bed, summed
    "bed_requests",  # requests for a bed made in the period (direct admissions included)
    "bed_request_wait_minutes",  # ... their waits, summed
    "direct",  # direct admissions asking for a bed in the period
    "cubicle_queue_minutes",  # integral of type 1 patients waiting for a cubicle
    "cubicle_starts",  # type 1 patients arriving in the period who reached a cubicle
    "cubicle_wait_minutes",  # ... their waits from arrival to the cubicle, summed
)
N_METRICS = len(METRICS)
M = {name: i for i, name in enumerate(METRICS)}
_ATT1, _BR1, _O12_1, _ATT3, _BR3, _O12_3 = 0, 1, 2, 3, 4, 5
_DTA, _DTA_4_12, _DTA_12, _DTA_WAIT, _DTA_WAITED, _TRANSFERS, _CENSORED = 6, 7, 8, 9, 10, 11, 12
_T1_MIN, _BED_MIN, _ESC_MIN, _Q_MIN, _MID_SUM, _MID_N = 13, 14, 15, 16, 17, 18
_STARTS, _STAY_MIN, _REQ, _REQ_WAIT, _DIRECT = 19, 20, 21, 22, 23
_CUB_Q_MIN, _CUB_STARTS, _CUB_WAIT = 24, 25, 26

HIST_MINUTES = 2880  # time-in-department histogram: one bin a minute to 48 hours, then one more
BREACH_MINUTES = 240  # a breach: over 240 whole minutes (fourhour's patient-level definition)
TWELVE_HOURS = 720

# Patient kinds and what happened to an admission.
DIRECT, TYPE1, TYPE3 = 0, 1, 3
NOT_ADMITTED, ADMITTED, TRANSFERRED = 0, 1, 2

# Event kinds.
_ED_END, _UTC_END, _DISCHARGE, _BED_FREE = 1, 2, 3, 4
_DAY = 1440.0
_HOUR = 60.0


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
def _discharge_time(ready, w0, w1, weekend, wd0):
    if w0 <= 0.0 and w1 >= _DAY and weekend >= 1.0:
        return ready
    d = np.floor(ready / _DAY)
    m = ready - d * _DAY
    t = ready
    if m < w0:
        t = d * _DAY + w0 + np.random.random() * (w1 - w0)
    elif m >= w1:
        d += 1.0
        t = d * _DAY + w0 + np.random.random() * (w1 - w0)
    if weekend < 1.0:
        while (int(d) + wd0) % 7 >= 5 and np.random.random() >= weekend:
            d += 1.0
            t = d * _DAY + w0 + np.random.random() * (w1 - w0)
    return t


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
    minor_share, streaming = params[P_MINOR_SHARE], params[P_STREAMING]
    cubicles, corridor = int(params[P_CUBICLES]), int(params[P_CORRIDOR])
    utc_clin = int(params[P_UTC_CLINICIANS])
    p_major, p_minor = params[P_MAJORS_ADMITTED], params[P_MINORS_ADMITTED]
    shape = params[P_DAILY_SHAPE]
    w0, w1, weekend = params[P_WINDOW_OPEN], params[P_WINDOW_CLOSE], params[P_WEEKEND]
    turnaround, transfer = params[P_TURNAROUND], params[P_TRANSFER] > 0.5
    wd0 = int(params[P_WEEKDAY0])
    n_pools = pool_beds.shape[0]
    n_days = day_admitted.shape[0]

    metrics = np.zeros(len(METRICS))
    hist = np.zeros((2, HIST_MINUTES + 1), np.int64)

    # day-to-day variation: a gamma multiplier of mean 1 for each day
    day_mult = np.ones(n_days)
    if shape > 0.0:
        for d in range(n_days):
            day_mult[d] = np.random.gamma(shape, 1.0 / shape)
    ones = np.ones(n_days)

    expected = 0.0
    for h in range(hour_rate.shape[0]):
        expected += (hour_rate[h] * day_mult[h // 24] + direct_rate[h]) * _HOUR
    cap = int(expected + 10.0 * np.sqrt(expected) + 1000.0)
    arr = np.empty(cap)
    dta = np.empty(cap)
    dep = np.empty(cap)
    kind = np.empty(cap, np.int8)
    minor = np.empty(cap, np.int8)
    admit = np.empty(cap, np.int8)
    pool = np.empty(cap, np.int64)
    ed_q = np.empty(cap, np.int64)
    utc_q = np.empty(cap, np.int64)
    bed_q = np.empty((n_pools, cap), np.int64)
    ed_head = ed_tail = utc_head = utc_tail = 0
    q_head = np.zeros(n_pools, np.int64)
    q_tail = np.zeros(n_pools, np.int64)
    n = 0

    total_beds = 0
    for k in range(n_pools):
        total_beds += pool_beds[k] + pool_esc[k]
    hcap = cap + total_beds + 16
    ht = np.empty(hcap)
    hk = np.empty(hcap, np.int64)
    hi = np.empty(hcap, np.int64)
    hn = 0

    free = pool_beds.copy()
    esc_free = pool_esc.copy()
    occupied = 0
    esc_occupied = 0
    waiting = 0  # for a bed, direct admissions included
    treating = 0  # in a cubicle, being treated
    boarding = 0  # type 1 patients waiting for a bed
    utc_busy = 0

    # the starting census: stays already under way
    for k in range(n_pools):
        for j in range(pool_census[k]):
            esc = 1 if j >= pool_beds[k] else 0
            if esc == 1:
                esc_free[k] -= 1
                esc_occupied += 1
            else:
                free[k] -= 1
            occupied += 1
            rest = _draw_residual(pool_los[k, 0], pool_los[k, 1], pool_los[k, 2])
            hn = _push(
                ht, hk, hi, hn, _discharge_time(rest, w0, w1, weekend, wd0), _DISCHARGE, 2 * k + esc
            )

    t_end_rates = float(hour_rate.shape[0]) * _HOUR
    next_arr = _next_arrival(0.0, hour_rate, day_mult, min(t_stop, t_end_rates))
    next_dir = _next_arrival(0.0, direct_rate, ones, min(t_stop, t_end_rates))
    last = 0.0
    next_midnight = 0.0

    while True:
        t = next_arr
        source = 0
        if next_dir < t:
            t = next_dir
            source = 1
        if hn > 0 and ht[0] < t:
            t = ht[0]
            source = 2
        if t >= t_stop:
            break

        # integrals over the measured period; the state is constant on [last, t)
        a = max(last, t0)
        b = min(t, t1)
        if b > a:
            metrics[_BED_MIN] += occupied * (b - a)
            metrics[_ESC_MIN] += esc_occupied * (b - a)
            metrics[_Q_MIN] += waiting * (b - a)
            metrics[_CUB_Q_MIN] += (ed_tail - ed_head) * (b - a)
        while next_midnight < t:
            if t0 <= next_midnight < t1:
                metrics[_MID_SUM] += occupied
                metrics[_MID_N] += 1.0
            next_midnight += _DAY
        last = t

        request = -1  # a patient asking for a bed now
        freed = -1  # a bed slot (2 * pool + escalation) free now
        if (source == 0 or source == 1) and n == cap:
            # more arrivals than ten standard deviations above their mean (never in practice)
            next_arr = next_dir = np.inf
        elif source == 0 or source == 1:
            i = n
            n += 1
            arr[i] = t
            dta[i] = -1.0
            dep[i] = -1.0
            admit[i] = NOT_ADMITTED
            minor[i] = 0
            pool[i] = -1
            if source == 1:
                kind[i] = DIRECT
                dta[i] = t
                request = i
                next_dir = _next_arrival(t, direct_rate, ones, min(t_stop, t_end_rates))
            else:
                next_arr = _next_arrival(t, hour_rate, day_mult, min(t_stop, t_end_rates))
                if np.random.random() < minor_share:
                    minor[i] = 1
                if minor[i] == 1 and streaming > 0.0 and np.random.random() < streaming:
                    kind[i] = TYPE3
                    if utc_clin == 0 or utc_busy < utc_clin:
                        utc_busy += 1
                        d = _draw(durations[D_UTC, 0], durations[D_UTC, 1], durations[D_UTC, 2])
                        hn = _push(ht, hk, hi, hn, t + d, _UTC_END, i)
                    else:
                        utc_q[utc_tail] = i
                        utc_tail += 1
                else:
                    kind[i] = TYPE1
                    ed_q[ed_tail] = i
                    ed_tail += 1
        else:
            ev_kind = hk[0]
            ev_id = hi[0]
            hn = _pop(ht, hk, hi, hn)
            if ev_kind == _ED_END:
                i = ev_id
                treating -= 1
                p = p_minor if minor[i] == 1 else p_major
                p *= day_admitted[min(int(t // _DAY), n_days - 1)]
                if np.random.random() < p:
                    dta[i] = t
                    request = i
                else:
                    dep[i] = t
            elif ev_kind == _UTC_END:
                dep[ev_id] = t
                utc_busy -= 1
                if utc_head < utc_tail:
                    j = utc_q[utc_head]
                    utc_head += 1
                    utc_busy += 1
                    d = _draw(durations[D_UTC, 0], durations[D_UTC, 1], durations[D_UTC, 2])
                    hn = _push(ht, hk, hi, hn, t + d, _UTC_END, j)
            elif ev_kind == _DISCHARGE:
                occupied -= 1
                if ev_id % 2 == 1:
                    esc_occupied -= 1
                if turnaround > 0.0:
                    hn = _push(ht, hk, hi, hn, t + turnaround, _BED_FREE, ev_id)
                else:
                    freed = ev_id
            else:
                freed = ev_id

        # a request for a bed: choose the pool, then a bed, a transfer or the queue
        if request >= 0:
            i = request
            u = np.random.random()
            k = 0
            while k < n_pools - 1 and u >= pool_cum[k]:
                k += 1
            pool[i] = k
            slot = -1
            if free[k] > 0:
                slot = 2 * k
            elif pool_rf[k] == 0:
                best = 0
                for j in range(n_pools):
                    if j != k and pool_rf[j] == 0 and free[j] > best:
                        best = free[j]
                        slot = 2 * j
            if slot < 0 and esc_free[k] > 0:
                slot = 2 * k + 1
            if slot < 0 and transfer:
                admit[i] = TRANSFERRED
                dep[i] = t
            elif slot < 0:
                bed_q[k, q_tail[k]] = i
                q_tail[k] += 1
                waiting += 1
                if kind[i] == TYPE1:
                    boarding += 1
            else:
                if slot % 2 == 1:
                    esc_free[slot // 2] -= 1
                    esc_occupied += 1
                else:
                    free[slot // 2] -= 1
                occupied += 1
                dep[i] = t
                hn = _stay(
                    i,
                    slot,
                    t,
                    t0,
                    t1,
                    pool_los,
                    admit,
                    pool,
                    ht,
                    hk,
                    hi,
                    hn,
                    metrics,
                    w0,
                    w1,
                    weekend,
                    wd0,
                )

        # a bed free: the longest waiter of its pool, else (open pools) of another open pool
        if freed >= 0:
            k = freed // 2
            esc = freed % 2
            j = -1
            if q_head[k] < q_tail[k]:
                j = k
            elif esc == 0 and pool_rf[k] == 0:
                first = np.inf
                for m in range(n_pools):
                    if m != k and pool_rf[m] == 0 and q_head[m] < q_tail[m]:
                        cand = bed_q[m, q_head[m]]
                        if dta[cand] < first:
                            first = dta[cand]
                            j = m
            if j < 0:
                if esc == 1:
                    esc_free[k] += 1
                else:
                    free[k] += 1
            else:
                i = bed_q[j, q_head[j]]
                q_head[j] += 1
                waiting -= 1
                if kind[i] == TYPE1:
                    boarding -= 1
                # the bed passes straight to the waiter (it never counted as free)
                occupied += 1
                if esc == 1:
                    esc_occupied += 1
                dep[i] = t
                hn = _stay(
                    i,
                    freed,
                    t,
                    t0,
                    t1,
                    pool_los,
                    admit,
                    pool,
                    ht,
                    hk,
                    hi,
                    hn,
                    metrics,
                    w0,
                    w1,
                    weekend,
                    wd0,
                )

        # cubicles: start treatment while there is room
        while ed_head < ed_tail and (
            cubicles == 0 or treating + max(0, boarding - corridor) < cubicles
        ):
            i = ed_q[ed_head]
            ed_head += 1
            treating += 1
            if t0 <= arr[i] < t1:
                metrics[_CUB_STARTS] += 1.0
                metrics[_CUB_WAIT] += t - arr[i]
            r = D_MINORS if minor[i] == 1 else D_MAJORS
            d = _draw(durations[r, 0], durations[r, 1], durations[r, 2])
            hn = _push(ht, hk, hi, hn, t + d, _ED_END, i)

    # close the integrals at the stop
    a = max(last, t0)
    b = min(t_stop, t1)
    if b > a:
        metrics[_BED_MIN] += occupied * (b - a)
        metrics[_ESC_MIN] += esc_occupied * (b - a)
        metrics[_Q_MIN] += waiting * (b - a)
        metrics[_CUB_Q_MIN] += (ed_tail - ed_head) * (b - a)
    while next_midnight < t_stop:
        if t0 <= next_midnight < t1:
            metrics[_MID_SUM] += occupied
            metrics[_MID_N] += 1.0
        next_midnight += _DAY

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
def _stay(i, slot, t, t0, t1, pool_los, admit, pool, ht, hk, hi, hn, metrics, w0, w1, wd, wd0):
    """Patient i starts a stay in bed `slot` at t; their discharge goes on the heap."""
    k = pool[i]
    los = _draw(pool_los[k, 0], pool_los[k, 1], pool_los[k, 2])
    leave = _discharge_time(t + los, w0, w1, wd, wd0)
    admit[i] = ADMITTED
    if t0 <= t < t1:
        metrics[_STARTS] += 1.0
        metrics[_STAY_MIN] += leave - t
    return _push(ht, hk, hi, hn, leave, _DISCHARGE, slot)


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
    out = np.zeros((r_count, len(METRICS)))
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
