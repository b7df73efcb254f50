/**
 * Chart.js as the panel uses it: what is registered, the theme's defaults, and the panel's own
 * plugin, whose options are declared to Chart.js's types by module augmentation (as
 * chartjs-plugin-annotation and chartjs-plugin-zoom declare theirs).
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartType,
  Decimation,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  type Plugin,
  PointElement,
  Tooltip,
} from "chart.js";
import { MatrixController, MatrixElement } from "chartjs-chart-matrix";
import annotationPlugin from "chartjs-plugin-annotation";
import zoomPlugin from "chartjs-plugin-zoom";
import type { Palette } from "../theme";

export interface BackgroundOptions {
  /** The colour painted under the chart (the editor background). */
  color?: string;
}

// An augmentation repeats the interface's type parameter, used or not.
declare module "chart.js" {
  interface PluginOptionsByType<TType extends ChartType> {
    gcBackground: BackgroundOptions;
  }
}

/** Fills the canvas with the editor background first, so exported PNGs look like the panel. */
const backgroundPlugin: Plugin<ChartType, BackgroundOptions> = {
  id: "gcBackground",
  beforeDraw(chart, _args, options) {
    if (!options.color) return;
    const { ctx } = chart;
    ctx.save();
    ctx.globalCompositeOperation = "destination-over";
    ctx.fillStyle = options.color;
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

/** Registers what the panel draws with (once, when the app starts). */
export function registerCharts(): void {
  Chart.register(
    LineController,
    LineElement,
    PointElement,
    BarController,
    BarElement,
    LinearScale,
    LogarithmicScale,
    CategoryScale,
    Tooltip,
    Legend,
    Decimation,
    MatrixController,
    MatrixElement,
    annotationPlugin,
    zoomPlugin,
    backgroundPlugin,
  );
  // Live data: no animation, ever (each frame would otherwise start one).
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
}

export function applyThemeDefaults(palette: Palette, fontFamily: string): void {
  Chart.defaults.color = palette.foreground;
  Chart.defaults.borderColor = palette.grid;
  Chart.defaults.font.family = fontFamily;
  Chart.defaults.font.size = 11;
}
