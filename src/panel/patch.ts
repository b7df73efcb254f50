/**
 * The host's half of a live panel update: remembers what one mirror (one webview) was sent of one
 * run model and tells what changed since, as a RunPatch (snapshot.ts) that the mirror continues
 * itself with (`RunModel.applyPatch`).
 */
import type { RunModel } from "./runModel";
import type { DownsampledSeries, SeriesTail } from "./series";
import type { RunPatch, StrategyChoice } from "./snapshot";

/**
 * Remembers what one mirror (one webview) was sent of one model, and tells what changed since.
 * Cheap: one look at each series' bucket count and merge count, no step is replayed.
 */
export class PatchCursor {
  private readonly sent = new Map<
    string,
    { series: DownsampledSeries; generation: number; buckets: number; appended: number }
  >();
  private revision = -1;
  private strategies: StrategyChoice[] | null = null;
  private markersAdded = 0;
  private evalsAdded = 0;
  private cosinesAdded = 0;
  private summary: unknown;

  /** Everything the model holds now counts as sent (a snapshot of it just went). */
  reset(model: RunModel): void {
    this.sent.clear();
    for (const [name, series] of model.series) this.remember(name, series);
    this.revision = model.revision;
    this.strategies = model.strategies;
    this.markersAdded = model.markersAdded;
    this.evalsAdded = model.evalsAdded;
    this.cosinesAdded = model.cosinesAdded;
    this.summary = model.summary;
  }

  /** The changes since the last patch (or reset); null when there are none. */
  next(model: RunModel): RunPatch | null {
    if (model.revision === this.revision) return null;
    this.revision = model.revision;
    const series: Record<string, SeriesTail> = {};
    for (const [name, s] of model.series) {
      const sent = this.sent.get(name);
      if (sent && sent.series === s && sent.appended === s.appended && sent.generation === s.generation)
        continue;
      // A resized series (a new object) is sent whole.
      series[name] = s.tail(sent?.series === s ? sent : undefined);
      this.remember(name, s);
    }
    const patch: RunPatch = { ...model.header(), series };
    if (model.strategies !== this.strategies) {
      patch.strategies = model.strategies;
      this.strategies = model.strategies;
    }
    if (model.markersAdded !== this.markersAdded) {
      patch.markers = [...model.markers];
      this.markersAdded = model.markersAdded;
    }
    if (model.cosinesAdded !== this.cosinesAdded) {
      const kept = model.recentCosines();
      patch.cosines = kept.slice(Math.max(0, kept.length - (model.cosinesAdded - this.cosinesAdded)));
      this.cosinesAdded = model.cosinesAdded;
    }
    if (model.evalsAdded !== this.evalsAdded) {
      patch.evals = model.evals.slice(Math.max(0, model.evals.length - (model.evalsAdded - this.evalsAdded)));
      patch.best = { ...model.best };
      patch.latestEval = { ...model.latestEval };
      this.evalsAdded = model.evalsAdded;
    }
    if (model.summary !== this.summary) {
      patch.summary = model.summary;
      this.summary = model.summary;
    }
    return patch;
  }

  private remember(name: string, series: DownsampledSeries): void {
    this.sent.set(name, {
      series,
      generation: series.generation,
      buckets: series.buckets,
      appended: series.appended,
    });
  }
}
