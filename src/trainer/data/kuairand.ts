/**
 * The `kuairand` preset's data: KuaiRand-Pure (Gao et al., CIKM 2022; CC BY-SA 4.0), two complete
 * date slices of Kuaishou's standard feed log (docs/data.md). Train and validate on
 * 2022-04-25..04-30 (a seeded 10 % of it held out for validation), test on 2022-05-01..05-08.
 */
import { join } from "node:path";
import { type FileDataConfig, FileDataConfig as FileDataSchema } from "../../protocol/config";

export const KUAIRAND_FILES = {
  trainValidation: "kuairand_pure_standard_val_20220425_0430.csv.gz",
  test: "kuairand_pure_standard_test_20220501_0508.csv.gz",
  users: "user_features_pure.csv.gz",
  videos: "video_features_basic_pure.csv.gz",
} as const;

/** All eight feedback signals of the log, one task each. */
export const KUAIRAND_LABELS = [
  "is_click",
  "long_view",
  "is_like",
  "is_profile_enter",
  "is_comment",
  "is_follow",
  "is_forward",
  "is_hate",
] as const;

/**
 * Columns never used as features: play_time_ms, profile_stay_time and comment_stay_time are
 * measured after the impression and give the labels away; time_ms and date are the split key;
 * is_rand is 0 on every row of these slices.
 */
export const KUAIRAND_EXCLUDED = [
  "play_time_ms",
  "profile_stay_time",
  "comment_stay_time",
  "time_ms",
  "date",
  "is_rand",
] as const;

/** Bucketed and one-hot user attributes (the raw counts duplicate their *_range buckets). */
const USER_FEATURES = [
  "user_active_degree",
  "is_live_streamer",
  "is_video_author",
  "follow_user_num_range",
  "fans_user_num_range",
  "friend_user_num_range",
  "register_days_range",
  ...Array.from({ length: 18 }, (_, i) => `onehot_feat${i}`),
];

/** Video attributes known at upload time (video_duration has gaps; the log's duration_ms has none). */
const VIDEO_FEATURES = ["author_id", "video_type", "upload_type", "music_type", "tag"];

export function kuairandDataConfig(dataDir: string): FileDataConfig {
  return FileDataSchema.parse({
    source: "file",
    path: join(dataDir, KUAIRAND_FILES.trainValidation),
    format: "csv",
    features: ["user_id", "video_id", "hourmin", "tab"],
    numericFeatures: ["duration_ms"],
    logNumeric: ["duration_ms"],
    labels: [...KUAIRAND_LABELS],
    userColumn: "user_id",
    split: { by: "files", testPath: join(dataDir, KUAIRAND_FILES.test), validation: 0.1, seed: 7 },
    joins: [
      { path: join(dataDir, KUAIRAND_FILES.users), key: "user_id", features: USER_FEATURES },
      { path: join(dataDir, KUAIRAND_FILES.videos), key: "video_id", features: VIDEO_FEATURES },
    ],
    minCount: 1,
    onBadRow: "error",
  });
}
