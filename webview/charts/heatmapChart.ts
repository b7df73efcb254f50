/** The K×K cosine heatmap (chartjs-chart-matrix), each cell's value written in it. */
import { Chart, type Plugin } from "chart.js";
import { MatrixElement } from "chartjs-chart-matrix";
import { cosineColor, type Palette, textOn } from "../theme";

export interface HeatCell {
  x: string;
  y: string;
  v: number;
  fill: string;
}

export class HeatmapChart {
  readonly chart: Chart<"matrix", HeatCell[], string>;
  private k = 0;
  /** The run shown, named in the tooltip when several runs' heatmaps sit side by side. */
  runLabel = "";

  constructor(canvas: HTMLCanvasElement, palette: Palette) {
    // Each cell's cosine is written in it, so the value is read, not guessed from a hue.
    const cellText: Plugin<"matrix"> = { id: "gcCellText", afterDatasetsDraw: () => this.writeValues() };
    this.chart = new Chart(canvas, {
      type: "matrix",
      data: {
        datasets: [
          {
            label: "cosine",
            data: [],
            backgroundColor: ({ dataIndex }) => this.cells()[dataIndex]?.fill ?? "transparent",
            borderColor: palette.background,
            borderWidth: 1,
            width: ({ chart }) => (chart.chartArea?.width ?? 0) / Math.max(1, this.k) - 1,
            height: ({ chart }) => (chart.chartArea?.height ?? 0) / Math.max(1, this.k) - 1,
          },
        ],
      },
      options: {
        scales: {
          // The tasks are the data's xLabels and yLabels (setData).
          x: {
            type: "category",
            offset: true,
            grid: { display: false },
            ticks: { maxRotation: 45, color: palette.foreground },
          },
          y: {
            type: "category",
            offset: true,
            grid: { display: false },
            ticks: { color: palette.foreground },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: () => this.runLabel,
              label: ({ dataIndex }) => {
                const cell = this.cells()[dataIndex];
                return cell ? `cos(${cell.y}, ${cell.x}) = ${cell.v.toFixed(3)}` : "";
              },
            },
          },
          gcBackground: { color: palette.background },
        },
      },
      plugins: [cellText],
    });
  }

  setData(tasks: string[], cosines: number[] | null, palette: Palette, hidden: Set<number>): void {
    const visible = tasks.map((_, t) => t).filter((t) => !hidden.has(t));
    this.k = visible.length;
    this.chart.data.xLabels = visible.map((t) => tasks[t]);
    // The category y axis runs bottom-up: reversed labels put the first task on the top row.
    this.chart.data.yLabels = visible.map((t) => tasks[t]).reverse();
    const cells: HeatCell[] = [];
    const k = tasks.length;
    if (cosines && cosines.length === k * k) {
      for (const i of visible)
        for (const j of visible) {
          const v = cosines[i * k + j];
          cells.push({ x: tasks[j], y: tasks[i], v, fill: cosineColor(palette, v) });
        }
    }
    this.chart.data.datasets[0].data = cells;
    this.chart.update("none");
  }

  /** Canvas (CSS pixel) centre of the cell (row i, column j) among the drawn cells, for tests. */
  cellCenter(row: number, column: number): { x: number; y: number } | null {
    const element = this.chart.getDatasetMeta(0).data[row * this.k + column];
    return element instanceof MatrixElement ? element.getCenterPoint() : null;
  }

  destroy(): void {
    this.chart.destroy();
  }

  private cells(): HeatCell[] {
    return this.chart.data.datasets[0].data;
  }

  private writeValues(): void {
    const { chart } = this;
    const elements = chart.getDatasetMeta(0).data;
    const cells = this.cells();
    const first = elements[0];
    if (!(first instanceof MatrixElement)) return;
    const size = Math.min(first.width, first.height);
    if (size < 18) return;
    const { ctx } = chart;
    ctx.save();
    ctx.font = `${Math.max(9, Math.min(13, size / 4))}px ${Chart.defaults.font.family}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    elements.forEach((element, i) => {
      const cell = cells[i];
      if (!cell?.fill || !(element instanceof MatrixElement)) return;
      const { x, y } = element.getCenterPoint();
      ctx.fillStyle = textOn(cell.fill);
      ctx.fillText(cell.v.toFixed(2), x, y);
    });
    ctx.restore();
  }
}
