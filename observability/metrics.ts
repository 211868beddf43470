/**
 * Prometheus metrics (prom-client), one registry a service. docs/operations.md ("Metrics") says what
 * each metric means. Labels carry kinds, routes and care teams only: never a pathway id or
 * anything about a patient.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type MessageKind = 'reminder' | 'notification' | 'referral' | 'digest';
/** sent: delivered (webhook or worklist); retried: an attempt failed, Temporal tries again; undelivered: given up. */
export type MessageOutcome = 'sent' | 'retried' | 'undelivered';

/** What the record store (PostgreSQL) tells the metrics at each scrape. */
export interface RecordStoreSnapshot {
  /** Pathways per care team, stage and status. */
  pathways: Array<{ careTeam: string; stage: string; status: string; count: number }>;
  /** Seconds between the oldest change Temporal has made and not yet written to the record store, and now; 0 when caught up. */
  writeLagSeconds: number | null;
}

export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  careTeamMessages: Counter<'kind' | 'outcome'>;
  /** The record store provides pathway counts and its write lag; read at each scrape, at most once a second. */
  readRecordStoreFrom(reader: () => Promise<RecordStoreSnapshot>): void;
}

export const METRIC_NAMES = {
  httpRequestDuration: 'pathway_http_request_duration_seconds',
  careTeamMessages: 'pathway_care_team_messages_total',
  pathways: 'pathway_pathways',
  recordStoreWriteLag: 'pathway_record_store_write_lag_seconds',
} as const;

export function messageKind(type: string): MessageKind {
  if (type.startsWith('reminder.')) return 'reminder';
  if (type.startsWith('referral.')) return 'referral';
  if (type.startsWith('digest.')) return 'digest';
  return 'notification';
}

/** `instance` labels every metric, so the replicas' series stay apart when summed or compared. */
export function createMetrics(opts: { instance?: string } = {}): Metrics {
  const registry = new Registry();
  if (opts.instance) registry.setDefaultLabels({ instance: opts.instance });
  collectDefaultMetrics({ register: registry });

  let reader: (() => Promise<RecordStoreSnapshot>) | undefined;
  let cached: { at: number; snapshot: Promise<RecordStoreSnapshot> } | undefined;
  // Both record-store gauges are filled from one read per scrape.
  const snapshot = () => {
    if (!cached || Date.now() - cached.at > 1000) cached = { at: Date.now(), snapshot: reader!() };
    return cached.snapshot;
  };

  new Gauge({
    name: METRIC_NAMES.pathways,
    help: 'Pathways in the record store by care team, stage and status',
    labelNames: ['care_team', 'stage', 'status'],
    registers: [registry],
    async collect() {
      if (!reader) return;
      const { pathways } = await snapshot();
      this.reset();
      for (const p of pathways) this.set({ care_team: p.careTeam, stage: p.stage, status: p.status }, p.count);
    },
  });
  new Gauge({
    name: METRIC_NAMES.recordStoreWriteLag,
    help: 'Seconds the record store is behind what Temporal has recorded (0 when caught up)',
    registers: [registry],
    async collect() {
      if (!reader) return;
      const { writeLagSeconds } = await snapshot();
      if (writeLagSeconds === null) this.reset();
      else this.set(writeLagSeconds);
    },
  });

  return {
    registry,
    httpRequestDuration: new Histogram({
      name: METRIC_NAMES.httpRequestDuration,
      help: 'HTTP requests to the API by method, route pattern and status, with their duration in seconds',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    careTeamMessages: new Counter({
      name: METRIC_NAMES.careTeamMessages,
      help: 'Delivery attempts of care-team messages by kind (reminder, notification, referral, digest) and outcome (sent, retried, undelivered)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    readRecordStoreFrom(r) {
      reader = r;
      cached = undefined;
    },
  };
}
