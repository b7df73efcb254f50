import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DownsampledSeries } from "../../../src/panel/series";
import { chartPoints, SeriesPoints } from "../../../webview/points";
import { mulberry32 } from "../helpers/random";

function seriesOf(values: number[], msPerStep = 250): DownsampledSeries {
  const series = new DownsampledSeries(100_000);
  values.forEach((y, i) => {
    series.append(i + 1, (i + 1) * msPerStep, y);
  });
  return series;
}

describe("points a chart draws", () => {
  it("under the limit, every kept point, by step or by time in seconds", () => {
    const series = seriesOf([3, 1, 2]);
    assert.deepEqual(chartPoints(series, "step", 0, 100), [
      { x: 1, y: 3 },
      { x: 2, y: 1 },
      { x: 3, y: 2 },
    ]);
    assert.deepEqual(
      chartPoints(series, "time", 0, 100).map((p) => p.x),
      [0.25, 0.5, 0.75],
    );
  });

  it("over the limit, about `limit` points that keep every minimum and maximum with its step", () => {
    const random = mulberry32(7);
    const values = Array.from({ length: 5000 }, () => random());
    values[1234] = 50;
    values[4321] = -50;
    const points = chartPoints(seriesOf(values), "step", 0, 400);
    assert.ok(points.length <= 400 && points.length > 300, `${points.length} points`);
    assert.ok(
      points.some((p) => p.x === 1235 && p.y === 50),
      "the spike, at its step",
    );
    assert.ok(
      points.some((p) => p.x === 4322 && p.y === -50),
      "the dip, at its step",
    );
    assert.ok(
      points.every((p, i) => i === 0 || p.x > points[i - 1].x),
      "in step order",
    );
  });

  it("smoothing is debiased: a constant series stays at its value from the first point", () => {
    const points = chartPoints(seriesOf([2, 2, 2, 2]), "step", 0.9, 100);
    for (const p of points) assert.ok(Math.abs(p.y - 2) < 1e-12, `${p.y}`);
    const step = chartPoints(seriesOf([0, 0, 1, 1]), "step", 0.5, 100).map((p) => p.y);
    assert.ok(step[2] > 0 && step[2] < 1 && step[3] > step[2] && step[3] < 1, "a step is smoothed in");
  });

  it("a chart whose series did not change gets the same points back; a new point makes new ones", () => {
    const cache = new SeriesPoints();
    const series = seriesOf([1, 2, 3]);
    const first = cache.of(series, "step", 0, 100);
    assert.equal(cache.of(series, "step", 0, 100), first);
    assert.notEqual(cache.of(series, "time", 0, 100), first, "another x axis");
    series.append(4, 1000, 4);
    const after = cache.of(series, "time", 0, 100);
    assert.equal(after.length, 4);
  });
});
