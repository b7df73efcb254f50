/** A bar per task of the run's latest value of a series (the Conflicts view's norms and weights). */
import { TaskBarChart } from "../charts/barChart";
import { valueAt } from "../cut";
import { taskColor } from "../theme";
import { type Card, type CardContext, canvasIn, cardShell, hiddenIndices, type Scene } from "./card";

export class BarsCard implements Card {
  readonly element: HTMLElement;
  private readonly chart: TaskBarChart;

  constructor(
    context: CardContext,
    readonly id: string,
    title: string,
    private readonly name: (task: string) => string,
  ) {
    this.element = cardShell(context, id, title, { csv: false });
    const canvas = canvasIn(this.element, `${title} per task, latest step`);
    this.chart = new TaskBarChart(canvas, context.palette, title);
  }

  render(scene: Scene): void {
    const run = scene.runs[0];
    if (!run) return;
    const hidden = hiddenIndices(run, scene.view.hiddenTasks);
    const shown = run.tasks.map((_, t) => t).filter((t) => !hidden.has(t));
    this.chart.setData(
      shown.map((t) => run.tasks[t]),
      shown.map((t) => {
        const name = this.name(run.tasks[t]);
        return valueAt(run.series.get(name), scene.cuts[0], name);
      }),
      shown.map((t) => taskColor(scene.palette, t)),
    );
  }

  png(): string {
    return this.chart.chart.toBase64Image("image/png", 1);
  }

  destroy(): void {
    this.chart.destroy();
  }
}
