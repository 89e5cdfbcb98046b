/** The router's metrics, in the Prometheus text format (checked with promtool in the tests). */
import { ERROR_REASONS } from './rules.ts';
import type { ErrorReason } from './rules.ts';


function labelText(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

export const DECISION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/** The label values known at start: the strategies of the rules (and `default`), the targets. */
export interface KnownLabels {
  readonly strategies: readonly string[];
  readonly targets: readonly string[];
}

export class RouterMetrics {
  /** By strategy, then target. */
  private readonly decisions = new Map<string, Map<string, number>>();
  private readonly errors = new Map<string, number>(ERROR_REASONS.map((r) => [r, 0]));
  private readonly refusals = new Map<string, number>([['unauthorized', 0], ['forbidden', 0]]);
  private readonly durations = new Map<string, { buckets: number[]; sum: number; count: number }>();

  /**
   * Every series the known labels can make starts at 0, as the errors do: a ratio or rate over
   * router_decisions_total then has a denominator before the first success (a router failing
   * every decision from its start still reads 100% errors, not nothing), and an idle router's
   * panels show 0 rather than no data.
   */
  constructor(known: KnownLabels = { strategies: [], targets: [] }) {
    for (const strategy of known.strategies) {
      this.decisions.set(strategy, new Map(known.targets.map((t) => [t, 0])));
      this.histogram(strategy);
    }
    this.histogram('none');
  }

  private histogram(strategy: string): { buckets: number[]; sum: number; count: number } {
    let series = this.durations.get(strategy);
    if (!series) {
      series = { buckets: DECISION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.durations.set(strategy, series);
    }
    return series;
  }

  decided(strategy: string, target: string): void {
    // Hot path: no string is built; label text is built only when scraped.
    let byTarget = this.decisions.get(strategy);
    if (!byTarget) this.decisions.set(strategy, (byTarget = new Map()));
    byTarget.set(target, (byTarget.get(target) ?? 0) + 1);
  }

  failed(reason: ErrorReason): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
  }

  refused(status: 401 | 403): void {
    const reason = status === 401 ? 'unauthorized' : 'forbidden';
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  observe(strategy: string, seconds: number): void {
    const series = this.histogram(strategy);
    DECISION_BUCKETS.forEach((le, i) => { if (seconds <= le) series.buckets[i]++; });
    series.sum += seconds;
    series.count++;
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP router_decisions_total Routing decisions, by the strategy that decided and the target it named.', '# TYPE router_decisions_total counter');
    for (const [strategy, byTarget] of this.decisions) {
      for (const [target, value] of byTarget) out.push(`router_decisions_total${labelText({ strategy, target })} ${value}`);
    }
    out.push('# HELP router_decision_errors_total Requests the router could not decide, by reason.', '# TYPE router_decision_errors_total counter');
    for (const [reason, value] of this.errors) out.push(`router_decision_errors_total${labelText({ reason })} ${value}`);
    out.push('# HELP router_refusals_total Requests the router answered 401 or 403.', '# TYPE router_refusals_total counter');
    for (const [reason, value] of this.refusals) out.push(`router_refusals_total${labelText({ reason })} ${value}`);
    out.push('# HELP router_decision_duration_seconds Time to decide one request, by the strategy that decided (none: no rule did).', '# TYPE router_decision_duration_seconds histogram');
    for (const [strategy, s] of this.durations) {
      DECISION_BUCKETS.forEach((le, i) => out.push(`router_decision_duration_seconds_bucket${labelText({ strategy, le: String(le) })} ${s.buckets[i]}`));
      out.push(`router_decision_duration_seconds_bucket${labelText({ strategy, le: '+Inf' })} ${s.count}`);
      out.push(`router_decision_duration_seconds_sum${labelText({ strategy })} ${s.sum}`);
      out.push(`router_decision_duration_seconds_count${labelText({ strategy })} ${s.count}`);
    }
    return `${out.join('\n')}\n`;
  }
}

