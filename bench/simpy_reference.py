"""The capacity model again, in SimPy (a process per patient): the reference the compiled engine
is checked against (tests/test_capacity_reference.py) and timed against (bench/capacity_bench.py).

The same model as src/fourhour/capacity/engine.py, written independently in the style of the
open SimPy models: processes for arrivals and patients, managers for the cubicles and beds that
succeed a waiting patient's event, numpy's Generator for randomness (its own streams, so the
two implementations agree in distribution, not draw by draw). Only the scenario's translation
into rates and parameters (capacity.inputs) is shared. Measures use the engine's definitions
(capacity.engine.METRICS), computed here with numpy.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import simpy

from fourhour.capacity import inputs as I
from fourhour.capacity.engine import HIST_MINUTES, METRICS
from fourhour.capacity.scenario import Scenario
from fourhour.thresholds import BREACH_MINUTES, TWELVE_HOURS

DAY = 1440.0
HOUR = 60.0


class Sampler:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def duration(self, code: float, a: float, b: float) -> float:
        if code == I.FIXED:
            return a
        if code == I.EXPONENTIAL:
            return self.rng.exponential(a)
        if code == I.LOGNORMAL:
            return self.rng.lognormal(a, b)
        return self.rng.gamma(a, b)

    def residual(self, code: float, a: float, b: float) -> float:
        u = self.rng.random()
        if code == I.FIXED:
            return a * u
        if code == I.EXPONENTIAL:
            return self.rng.exponential(a)
        if code == I.LOGNORMAL:
            return self.rng.lognormal(a + b * b, b) * u
        return self.rng.gamma(a + 1, b) * u


class Tracker:
    """Time integrals of occupied beds, escalation beds and the bed queue over the measured
    period, and the occupied beds at each of its midnights."""

    def __init__(self, t0: float, t1: float) -> None:
        self.t0, self.t1 = t0, t1
        self.last = 0.0
        self.next_midnight = 0.0
        self.occupied = self.escalation = self.waiting = 0
        self.bed_minutes = self.escalation_minutes = self.queue_minutes = 0.0
        self.midnight_sum = 0.0
        self.midnights = 0

    def advance(self, now: float) -> None:
        a, b = max(self.last, self.t0), min(now, self.t1)
        if b > a:
            self.bed_minutes += self.occupied * (b - a)
            self.escalation_minutes += self.escalation * (b - a)
            self.queue_minutes += self.waiting * (b - a)
        while self.next_midnight < now:
            if self.t0 <= self.next_midnight < self.t1:
                self.midnight_sum += self.occupied
                self.midnights += 1
            self.next_midnight += DAY
        self.last = now


class Model:
    def __init__(self, inp: I.EngineInputs, rng: np.random.Generator) -> None:
        self.env = simpy.Environment()
        self.inp = inp
        self.rng = rng
        self.draw = Sampler(rng)
        p = inp.params
        self.t0, self.t1, self.t_stop = p[I.P_T0], p[I.P_T1], p[I.P_TSTOP]
        self.track = Tracker(self.t0, self.t1)
        n_days = len(inp.day_admitted)
        shape = p[I.P_DAILY_SHAPE]
        self.day_mult = rng.gamma(shape, 1 / shape, n_days) if shape > 0 else np.ones(n_days)
        # ED
        self.cubicles, self.corridor = int(p[I.P_CUBICLES]), int(p[I.P_CORRIDOR])
        self.treating = self.boarding = 0
        self.ed_queue: deque = deque()
        # UTC
        clinicians = int(p[I.P_UTC_CLINICIANS])
        self.utc = simpy.Resource(self.env, clinicians) if clinicians else None
        # beds
        k = len(inp.pool_beds)
        self.free = [int(b) for b in inp.pool_beds]
        self.esc_free = [int(b) for b in inp.pool_escalation]
        self.queues: list[deque] = [deque() for _ in range(k)]
        self.stays: list[tuple[float, float]] = []  # (start, length) of stays started
        # patients: arrival, decision to admit, departure, kind (0 direct, 1, 3), admitted
        self.patients: list[list] = []

    # ------------------------------------------------------------------ arrivals
    def next_arrival(self, t: float, rate: np.ndarray, mult: np.ndarray | None) -> float:
        end = min(self.t_stop, len(rate) * HOUR)
        while t < end:
            h = int(t // HOUR)
            lam = rate[h] * (mult[h // 24] if mult is not None else 1.0)
            edge = (h + 1) * HOUR
            if lam > 0:
                t2 = t + self.rng.exponential(1 / lam)
                if t2 < edge:
                    return t2
            t = edge
        return math.inf

    def arrivals(self, direct: bool):
        rate = self.inp.direct_rate if direct else self.inp.hour_rate
        mult = None if direct else self.day_mult
        t = 0.0
        while True:
            t = self.next_arrival(t, rate, mult)
            if t >= self.t_stop:
                return
            yield self.env.timeout(t - self.env.now)
            if direct:
                rec = [t, t, -1.0, 0, 0]
                self.patients.append(rec)
                self.request_bed(rec)
            else:
                self.env.process(self.attendance())

    # ------------------------------------------------------------------ A&E and UTC
    def attendance(self):
        p = self.inp.params
        now = self.env.now
        minor = self.rng.random() < p[I.P_MINOR_SHARE]
        streamed = minor and p[I.P_STREAMING] > 0 and self.rng.random() < p[I.P_STREAMING]
        rec = [now, -1.0, -1.0, 3 if streamed else 1, 0]
        self.patients.append(rec)
        if streamed:
            d = self.inp.durations[I.D_UTC]
            if self.utc is None:
                yield self.env.timeout(self.draw.duration(*d))
            else:
                with self.utc.request() as req:
                    yield req
                    yield self.env.timeout(self.draw.duration(*d))
            rec[2] = self.env.now
            return
        seen = self.env.event()
        self.ed_queue.append(seen)
        self.start_treatment()
        yield seen
        d = self.inp.durations[I.D_MINORS if minor else I.D_MAJORS]
        yield self.env.timeout(self.draw.duration(*d))
        self.treating -= 1
        day = min(int(self.env.now // DAY), len(self.inp.day_admitted) - 1)
        prob = (p[I.P_MINORS_ADMITTED] if minor else p[I.P_MAJORS_ADMITTED]) * (
            self.inp.day_admitted[day]
        )
        if self.rng.random() < prob:
            rec[1] = self.env.now
            self.request_bed(rec)  # sets the departure when a bed (or a transfer) comes
        else:
            rec[2] = self.env.now
        self.start_treatment()

    def start_treatment(self) -> None:
        while self.ed_queue and (
            self.cubicles == 0
            or self.treating + max(0, self.boarding - self.corridor) < self.cubicles
        ):
            self.treating += 1
            self.ed_queue.popleft().succeed()

    # ------------------------------------------------------------------ beds
    def request_bed(self, rec: list) -> None:
        inp, now = self.inp, self.env.now
        u = self.rng.random()
        k = 0
        while k < len(inp.pool_beds) - 1 and u >= inp.pool_cum_share[k]:
            k += 1
        rec.append(k)  # rec[5]: the patient's pool
        slot = None
        if self.free[k] > 0:
            slot = (k, 0)
        elif not inp.pool_ring_fenced[k]:
            best = 0
            for j in range(len(self.free)):
                if j != k and not inp.pool_ring_fenced[j] and self.free[j] > best:
                    best, slot = self.free[j], (j, 0)
        if slot is None and self.esc_free[k] > 0:
            slot = (k, 1)
        if slot is None and inp.params[I.P_TRANSFER] > 0.5:
            rec[4] = 2
            rec[2] = now
        elif slot is None:
            self.track.advance(now)
            self.track.waiting += 1
            self.queues[k].append(rec)
            if rec[3] == 1:
                self.boarding += 1
        else:
            if slot[1]:
                self.esc_free[slot[0]] -= 1
            else:
                self.free[slot[0]] -= 1
            self.begin_stay(rec, slot)

    def begin_stay(self, rec: list, slot: tuple[int, int]) -> None:
        now, inp = self.env.now, self.inp
        self.track.advance(now)
        self.track.occupied += 1
        self.track.escalation += slot[1]
        rec[2] = now
        rec[4] = 1
        los = self.draw.duration(*inp.pool_los[rec[5]])
        leave = self.discharge_time(now + los)
        if self.t0 <= now < self.t1:
            self.stays.append((now, leave - now))
        self.env.process(self.stay(slot, leave))

    def discharge_time(self, ready: float) -> float:
        p = self.inp.params
        w0, w1, weekend = p[I.P_WINDOW_OPEN], p[I.P_WINDOW_CLOSE], p[I.P_WEEKEND]
        if w0 <= 0 and w1 >= DAY and weekend >= 1:
            return ready
        day = math.floor(ready / DAY)
        minute = ready - day * DAY
        t = ready
        if minute < w0:
            t = day * DAY + w0 + self.rng.random() * (w1 - w0)
        elif minute >= w1:
            day += 1
            t = day * DAY + w0 + self.rng.random() * (w1 - w0)
        while weekend < 1 and (day + int(p[I.P_WEEKDAY0])) % 7 >= 5:
            if self.rng.random() < weekend:
                break
            day += 1
            t = day * DAY + w0 + self.rng.random() * (w1 - w0)
        return t

    def stay(self, slot: tuple[int, int], leave: float):
        yield self.env.timeout(leave - self.env.now)
        self.track.advance(self.env.now)
        self.track.occupied -= 1
        self.track.escalation -= slot[1]
        turnaround = self.inp.params[I.P_TURNAROUND]
        if turnaround > 0:
            yield self.env.timeout(turnaround)
        self.bed_free(slot)

    def bed_free(self, slot: tuple[int, int]) -> None:
        k, esc = slot
        rf = self.inp.pool_ring_fenced
        queue = self.queues[k] if self.queues[k] else None
        if queue is None and not esc and not rf[k]:
            heads = [q for j, q in enumerate(self.queues) if j != k and not rf[j] and q]
            if heads:
                queue = min(heads, key=lambda q: q[0][1])
        if queue is None:
            if esc:
                self.esc_free[k] += 1
            else:
                self.free[k] += 1
            return
        rec = queue.popleft()
        self.track.advance(self.env.now)
        self.track.waiting -= 1
        if rec[3] == 1:
            self.boarding -= 1
        self.begin_stay(rec, slot)
        self.start_treatment()

    # ------------------------------------------------------------------ run
    def census(self) -> None:
        inp = self.inp
        for k, n in enumerate(inp.pool_census):
            for j in range(int(n)):
                esc = int(j >= inp.pool_beds[k])
                if esc:
                    self.esc_free[k] -= 1
                else:
                    self.free[k] -= 1
                self.track.occupied += 1
                self.track.escalation += esc
                rest = self.draw.residual(*inp.pool_los[k])
                self.env.process(self.stay((k, esc), self.discharge_time(rest)))

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        self.census()
        self.env.process(self.arrivals(direct=False))
        self.env.process(self.arrivals(direct=True))
        self.env.run(until=self.t_stop)
        self.track.advance(self.t_stop)
        return self.measures()

    def measures(self) -> tuple[np.ndarray, np.ndarray]:
        m = dict.fromkeys(METRICS, 0.0)
        t0, t1, stop = self.t0, self.t1, self.t_stop
        if self.patients:
            a = np.array([r[:5] for r in self.patients], dtype=float)
        else:
            a = np.zeros((0, 5))
        arr, dta, dep, kind, admit = a.T
        left = np.where(dep >= 0, dep, stop)
        req = (dta >= 0) & (dta >= t0) & (dta < t1)
        m["bed_requests"] = req.sum()
        m["bed_request_wait_minutes"] = (left - dta)[req].sum()
        m["direct"] = (req & (kind == 0)).sum()
        seen = (kind != 0) & (arr >= t0) & (arr < t1)
        m["censored"] = (seen & (dep < 0)).sum()
        whole = np.floor(left - arr).astype(np.int64)
        hist = np.zeros((2, HIST_MINUTES + 1), np.int64)
        np.add.at(hist[0], np.minimum(whole[seen], HIST_MINUTES), 1)
        for k, tag in ((1, "type1"), (3, "type3")):
            sel = seen & (kind == k)
            m[f"att_{tag}"] = sel.sum()
            m[f"br_{tag}"] = (sel & (whole > BREACH_MINUTES)).sum()
            m[f"over_12h_{tag}"] = (sel & (whole > TWELVE_HOURS)).sum()
        t1_sel = seen & (kind == 1)
        np.add.at(hist[1], np.minimum(whole[t1_sel], HIST_MINUTES), 1)
        m["type1_minutes"] = (left - arr)[t1_sel].sum()
        adm = t1_sel & (dta >= 0)
        wait = left - dta
        wait_whole = np.floor(wait).astype(np.int64)
        m["dta"] = adm.sum()
        m["dta_wait_minutes"] = wait[adm].sum()
        m["dta_waited"] = (adm & (wait > 0)).sum()
        m["dta_over_12h"] = (adm & (wait_whole > TWELVE_HOURS)).sum()
        m["dta_4_12h"] = (adm & (wait_whole > BREACH_MINUTES) & (wait_whole <= TWELVE_HOURS)).sum()
        m["transfers"] = (adm & (admit == 2)).sum()
        tr = self.track
        m["bed_minutes"], m["escalation_minutes"] = tr.bed_minutes, tr.escalation_minutes
        m["queue_minutes"] = tr.queue_minutes
        m["midnight_occupied"], m["midnights"] = tr.midnight_sum, tr.midnights
        m["bed_starts"] = len(self.stays)
        m["bed_stay_minutes"] = sum(length for _, length in self.stays)
        return np.array([float(m[k]) for k in METRICS]), hist


def simulate_reference(
    scenario: Scenario, replications: int, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Replications of the SimPy model, one after another: metrics[R, N], histograms[R, 2, B].
    Replication r draws from SeedSequence(seed).spawn(replications)[r] (PCG64)."""
    inp = I.engine_inputs(scenario)
    seq = np.random.SeedSequence(scenario.seed if seed is None else seed)
    out, hists = [], []
    for child in seq.spawn(replications):
        metrics, hist = Model(inp, np.random.default_rng(child)).run()
        out.append(metrics)
        hists.append(hist)
    return np.array(out), np.array(hists)
