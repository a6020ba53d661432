import type { Stats } from "../api/types";

export interface Counters {
  active: number;
  waiting: number;
  missed: number;
  hangupPending: number;
  slaBreached: number;
  totalToday: number;
  completed: number;
  failed: number;
  avgDuration: number;
}

/** The dashboard's counters, overall (`dept` undefined) or for one department. */
export function counters(s: Stats | undefined, dept?: string): Counters {
  const zero: Counters = {
    active: 0,
    waiting: 0,
    missed: 0,
    hangupPending: 0,
    slaBreached: 0,
    totalToday: 0,
    completed: 0,
    failed: 0,
    avgDuration: 0,
  };
  if (!s) return zero;
  const lives = dept ? [s.live[dept]] : Object.values(s.live);
  for (const l of lives) {
    if (!l) continue;
    zero.active += l.active;
    zero.waiting += l.waiting + l.ringing;
  }
  if (dept) {
    const d = s.departments[dept];
    zero.hangupPending = s.hangup_pending[dept] ?? 0;
    if (d) {
      zero.missed = d.missed_today;
      zero.slaBreached = d.sla_breached;
      zero.totalToday = d.total_today;
      zero.completed = d.completed_today;
      zero.failed = d.failed_today;
      zero.avgDuration = d.avg_duration;
    }
  } else {
    zero.hangupPending = Object.values(s.hangup_pending).reduce((n, v) => n + v, 0);
    zero.missed = s.missed_today;
    zero.slaBreached = s.sla_breached;
    zero.totalToday = s.total_today;
    zero.completed = s.completed_today;
    zero.failed = s.failed_today;
    zero.avgDuration = s.avg_duration;
  }
  return zero;
}

/** The IVR Live badge: calls waiting, ringing, talking, and missed calls nobody has taken. */
export function liveCount(s: Stats | undefined, dept?: string): number {
  if (!s) return 0;
  const rows = dept ? [s.live[dept]] : Object.values(s.live);
  return rows.reduce((n, c) => n + (c ? c.waiting + c.ringing + c.active + c.missed : 0), 0);
}

/** The IVR Hangup badge: missed and hung-up callers nobody has taken yet. */
export function pendingCount(s: Stats | undefined, dept?: string): number {
  if (!s) return 0;
  const rows = dept ? [s.hangup_pending[dept]] : Object.values(s.hangup_pending);
  return rows.reduce<number>((n, c) => n + (c ?? 0), 0);
}
