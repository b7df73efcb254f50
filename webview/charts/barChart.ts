/** One bar per task (the Conflicts view's norms and weights). */
import { Chart } from "chart.js";
import type { Palette } from "../theme";

export class TaskBarChart {
  readonly chart: Chart<"bar", number[], string>;

  constructor(canvas: HTMLCanvasElement, palette: Palette, label: string) {
    this.chart = new Chart(canvas, {
      type: "bar",
      data: { labels: [], datasets: [{ label, data: [], backgroundColor: [] }] },
      options: {
        scales: {
          x: { grid: { display: false }, ticks: { color: palette.foreground } },
          y: {
            beginAtZero: true,
            ticks: { maxTicksLimit: 5, color: palette.foreground },
            grid: { color: palette.grid },
          },
        },
        plugins: { legend: { display: false }, gcBackground: { color: palette.background } },
      },
    });
  }

  setData(tasks: string[], values: number[], colors: string[]): void {
    this.chart.data.labels = tasks;
    this.chart.data.datasets[0].data = values;
    this.chart.data.datasets[0].backgroundColor = colors;
    this.chart.update("none");
  }

  destroy(): void {
    this.chart.destroy();
  }
}
