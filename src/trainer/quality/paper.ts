import type { QualityReport } from "./report";
import { meanOf } from "./statistics";

/** Our table beside the paper's: its published averages, and how closely the two rankings agree. */

/**
 * The paper's averages on WeChat Channels (6 tasks, PLE; Bai et al., KDD 2024, Table 2): mean
 * AUC and mean GAUC over tasks. "UC" is its name for UW, "IMTL" IMTL-G.
 */
export const PAPER_WECHAT: Readonly<Record<string, { auc: number; gauc: number }>> = {
  single: { auc: 0.8361, gauc: 0.677 },
  ew: { auc: 0.8369, gauc: 0.6798 },
  uw: { auc: 0.8358, gauc: 0.6824 },
  dwa: { auc: 0.8367, gauc: 0.6809 },
  mgda: { auc: 0.8309, gauc: 0.6718 },
  pcgrad: { auc: 0.8371, gauc: 0.683 },
  "pcgrad-plus": { auc: 0.8373, gauc: 0.6802 },
  gradvac: { auc: 0.8366, gauc: 0.679 },
  cagrad: { auc: 0.8369, gauc: 0.6815 },
  "imtl-g": { auc: 0.8367, gauc: 0.681 },
  "db-mtl": { auc: 0.835, gauc: 0.6796 },
  gradcraft: { auc: 0.8385, gauc: 0.6842 },
};

/** Ranks, 1 = largest; ties share their average rank. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => b.v - a.v);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && order[end].v === order[start].v) end++;
    for (let j = start; j < end; j++) out[order[j].i] = (start + 1 + end) / 2;
    start = end;
  }
  return out;
}

/** Spearman's ρ: Pearson's correlation of the ranks (null below three pairs or with no spread). */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} against ${b.length} values`);
  if (a.length < 3) return null;
  const ra = ranks(a);
  const rb = ranks(b);
  const ma = meanOf(ra) as number;
  const mb = meanOf(rb) as number;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < ra.length; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : null;
}

export interface PaperComparison {
  /** The paper's strategies present in the report (non-ablation rows), with both AVs and ranks. */
  readonly rows: Array<{
    label: string;
    ours: { auc: number; gauc: number | null };
    paper: { auc: number; gauc: number };
    rank: { ours: number; paper: number };
  }>;
  /** Spearman's ρ between our AV AUC and the paper's, and the same for GAUC. */
  readonly rhoAuc: number | null;
  readonly rhoGauc: number | null;
}

export function compareWithPaper(report: Pick<QualityReport, "rows">): PaperComparison {
  const rows = report.rows.filter((r) => !r.ablation && r.label in PAPER_WECHAT && r.avAuc.mean !== null);
  const ours = rows.map((r) => r.avAuc.mean as number);
  const paper = rows.map((r) => PAPER_WECHAT[r.label].auc);
  const oursRank = ranks(ours);
  const paperRank = ranks(paper);
  const withGauc = rows.filter((r) => r.avGauc.mean !== null);
  return {
    rows: rows.map((r, i) => ({
      label: r.label,
      ours: { auc: ours[i], gauc: r.avGauc.mean },
      paper: PAPER_WECHAT[r.label],
      rank: { ours: oursRank[i], paper: paperRank[i] },
    })),
    rhoAuc: spearman(ours, paper),
    rhoGauc: spearman(
      withGauc.map((r) => r.avGauc.mean as number),
      withGauc.map((r) => PAPER_WECHAT[r.label].gauc),
    ),
  };
}
