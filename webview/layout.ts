/**
 * Which cards each surface shows, in order, and where: the dashboard's charts and table in the
 * grid, its controls in the side column (beside the charts, held in view while they scroll, or
 * above them in a narrow panel: styles.css); the Conflicts view's compact few. A new card is one
 * line here.
 */
import type { ReportData } from "../src/panel/reportData";
import type { RunModel } from "../src/panel/runModel";
import { seriesName } from "../src/panel/snapshot";
import { BarsCard } from "./cards/barsCard";
import type { Card, CardContext } from "./cards/card";
import { ConfigDiffCard } from "./cards/configDiffCard";
import { ControlsCard } from "./cards/controlsCard";
import { EvalTableCard, gaucNoteText } from "./cards/evalTableCard";
import { CompareHeatmapCard, HeatmapCard } from "./cards/heatmapCard";
import { InsightsCard } from "./cards/insightsCard";
import { ReportCard } from "./cards/reportCard";
import { perTask, type SeriesRef, single, TimeCard } from "./cards/timeCard";
import { select } from "./dom";

/** The cards of a page: the grid's, and the side column's (empty: no side column). */
export interface Layout {
  grid: Card[];
  side: Card[];
}

/** The dashboard's cards; a report's (`report` given) lead with the report card and have no controls. */
export function dashboardCards(context: CardContext, report?: ReportData): Layout {
  const { view } = context;
  const compare = context.runs().length > 1;
  const normScale = select(
    "norm-scale",
    [
      ["linear", "linear"],
      ["log", "log"],
    ],
    view.normLog ? "log" : "linear",
    (value) => context.setView({ normLog: value === "log" }),
  );
  normScale.setAttribute("aria-label", "Gradient norm scale");
  const time = (id: string, title: string, series: (run: RunModel) => SeriesRef[], smooth = true) =>
    new TimeCard(context, id, title, series, { smooth });
  const evalSeries = (metric: string) => (run: RunModel) =>
    run.tasks.map((task, t) => ({
      name: seriesName.evalMetric(view.evalSplit, metric, task),
      task: t,
      label: task,
    }));
  const grid = [
    ...(report ? [new ReportCard(context, report)] : []),
    time("loss", "Loss per task", perTask(seriesName.loss)),
    new TimeCard(context, "norm", "Gradient norm per task", perTask(seriesName.norm), {
      log: () => view.normLog,
      extra: [normScale],
    }),
    time("weight", "Weight in the update", perTask(seriesName.weight)),
    compare ? new CompareHeatmapCard(context) : new HeatmapCard(context, false),
    time("conflicting-pairs", "Conflicting pairs", single(seriesName.conflictingPairs, "pairs"), false),
    time("update-cosine", "cos(update, task gradient)", perTask(seriesName.updateCosine)),
    time("conflict-set", "Conflict set size", perTask(seriesName.conflictSet), false),
    time("correction", "Correction norm", perTask(seriesName.correction)),
    time("scale", "Magnitude scale", perTask(seriesName.scale)),
    time("auc", "AUC", evalSeries("auc"), false),
    new TimeCard(context, "gauc", "GAUC", evalSeries("gauc"), { smooth: false, note: gaucNoteText }),
    time("logloss", "Log loss", evalSeries("logloss"), false),
    new EvalTableCard(context),
    ...(compare ? [new ConfigDiffCard(context)] : []),
    time("step-time", "Step time (ms)", single(seriesName.stepTime, "step time")),
    time("steps-per-second", "Steps per second", single(seriesName.stepsPerSecond, "steps/s")),
  ];
  // The insights under the switch form: in view while the charts scroll, Apply beside Switch.
  return {
    grid,
    side: compare || report ? [] : [new ControlsCard(context, false), new InsightsCard(context)],
  };
}

export function conflictsCards(context: CardContext): Layout {
  const oneRun = context.runs().length <= 1;
  return {
    grid: [
      new HeatmapCard(context, true),
      ...(oneRun ? [new InsightsCard(context)] : []),
      new BarsCard(context, "norm-bars", "Gradient norm", seriesName.norm),
      new BarsCard(context, "weight-bars", "Weight in the update", seriesName.weight),
      ...(oneRun ? [new ControlsCard(context, true)] : []),
    ],
    side: [],
  };
}
