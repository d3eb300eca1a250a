import type { Dimensions } from '../lib/model/resources';
import type { Vm } from '../lib/model/vm';
import { loadImbalance, meanUtilisation } from '../lib/scheduling/metrics';
import type { Decision } from '../lib/scheduling/types';
import type { AlgorithmMetricsBody, MetricsEvent } from '../lib/schemas/http';

interface Tally {
  decided: number;
  placed: number;
  rejected: number;
  /** Placed tasks whose duration fitted before their deadline when they were placed. */
  onTime: number;
  utilisationSum: number;
  cvSum: number;
  samples: number;
}

/**
 * The dashboard's comparison of algorithms on the live fleet: decision counts per algorithm, and
 * fleet balance sampled once a second and attributed to the algorithm in charge at that moment.
 */
export class RuntimeMetrics {
  private readonly tallies = new Map<string, Tally>();
  private decidedSinceSample = 0;
  private lastSampleAt: number;
  private throughput = 0;

  constructor(
    private readonly dimensions: Dimensions,
    now: number,
  ) {
    this.lastSampleAt = now;
  }

  recordDecisions(algorithm: string, decisions: readonly Decision[], now: number): void {
    const tally = this.tally(algorithm);
    for (const d of decisions) {
      tally.decided += 1;
      if (d.status === 'assigned') {
        tally.placed += 1;
        if (now / 1000 + d.task.duration <= d.task.deadline) tally.onTime += 1;
      } else {
        tally.rejected += 1;
      }
    }
    this.decidedSinceSample += decisions.length;
  }

  /** Samples fleet balance and the decision rate; call about once a second. */
  sample(algorithm: string, vms: readonly Vm[], now: number): void {
    const elapsedS = (now - this.lastSampleAt) / 1000;
    if (elapsedS > 0) this.throughput = this.decidedSinceSample / elapsedS;
    this.decidedSinceSample = 0;
    this.lastSampleAt = now;
    if (!vms.some((vm) => vm.state === 'active')) return;
    const tally = this.tally(algorithm);
    tally.utilisationSum += meanUtilisation(vms, this.dimensions);
    tally.cvSum += loadImbalance(vms, this.dimensions);
    tally.samples += 1;
  }

  event(algorithm: string, queueDepth: number, now: number): MetricsEvent {
    const byAlgorithm: Record<string, AlgorithmMetricsBody> = {};
    for (const [name, t] of this.tallies) {
      byAlgorithm[name] = {
        decided: t.decided,
        placed: t.placed,
        rejected: t.rejected,
        success_rate: t.decided > 0 ? t.placed / t.decided : null,
        imbalance_cv: t.samples > 0 ? t.cvSum / t.samples : null,
        deadline_compliance: t.placed > 0 ? t.onTime / t.placed : null,
        mean_utilisation: t.samples > 0 ? t.utilisationSum / t.samples : null,
      };
    }
    return {
      at: new Date(now).toISOString(),
      algorithm,
      queue_depth: queueDepth,
      throughput_per_s: this.throughput,
      by_algorithm: byAlgorithm,
    };
  }

  private tally(algorithm: string): Tally {
    let tally = this.tallies.get(algorithm);
    if (!tally) {
      tally = { decided: 0, placed: 0, rejected: 0, onTime: 0, utilisationSum: 0, cvSum: 0, samples: 0 };
      this.tallies.set(algorithm, tally);
    }
    return tally;
  }
}
