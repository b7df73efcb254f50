"""The paper's setup on real data: PLE with DeepFM's terms on KuaiRand-Pure, balanced by GradCraft.

    /usr/bin/python3 examples/pytorch/kuairand.py           # a terminal: records .gradcraft/runs/…
    GradCraft: Start Training → kuairand.gradcraft.json     # VS Code: the run streams to the panel

KuaiRand-Pure (Gao et al., CIKM 2022; CC BY-SA 4.0): Kuaishou's feed log, read from
``../shared/data/kuairand-pure`` beside the repository (or ``$GRADCRAFT_KUAIRAND_DIR``). As the
built-in ``kuairand`` preset: train on 2022-04-25..04-30 with a seeded 10 % held out for
validation, test on 2022-05-01..05-08; eight tasks, one per feedback signal; categorical features
of the log, the user and the video (columns that leak the labels are never used). The model is
examples/pytorch/ple.py: embeddings 16, experts [256, 128, 64], towers [32, 16].
"""

from __future__ import annotations

import csv
import gzip
import math
import os
import sys
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ple import PLE  # noqa: E402

try:
    from gradcraft_studio import Studio
except ImportError:  # a clone of the repository without `pip install ./python`
    sys.path.insert(0, str(HERE.parents[1] / "python"))
    from gradcraft_studio import Studio

TASKS = ["is_click", "long_view", "is_like", "is_profile_enter", "is_comment", "is_follow", "is_forward", "is_hate"]
LOG_FEATURES = ["user_id", "video_id", "hourmin", "tab"]
USER_FEATURES = [
    "user_active_degree",
    "is_live_streamer",
    "is_video_author",
    "follow_user_num_range",
    "fans_user_num_range",
    "friend_user_num_range",
    "register_days_range",
    *[f"onehot_feat{i}" for i in range(18)],
]
VIDEO_FEATURES = ["author_id", "video_type", "upload_type", "music_type", "tag"]
FEATURES = [*LOG_FEATURES, "duration_bucket", *USER_FEATURES, *VIDEO_FEATURES]


def data_dir() -> Path:
    given = os.environ.get("GRADCRAFT_KUAIRAND_DIR")
    path = Path(given) if given else HERE.parents[2] / "shared" / "data" / "kuairand-pure"
    if not (path / "kuairand_pure_standard_val_20220425_0430.csv.gz").exists():
        sys.exit(f"KuaiRand-Pure not found in {path}: set GRADCRAFT_KUAIRAND_DIR to its folder")
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", newline="") as file:
        return list(csv.DictReader(file))


def rows_of(log: Path, users: dict, videos: dict) -> list[dict[str, str]]:
    rows = []
    for row in read_csv(log):
        # The video's length, in log-spaced buckets: known before the impression, unlike play time.
        row["duration_bucket"] = str(int(math.log2(1 + int(row["duration_ms"]) / 1000)))
        row.update(users.get(row["user_id"], {}))
        row.update(videos.get(row["video_id"], {}))
        rows.append(row)
    return rows


def encode(rows, vocabularies: list[dict[str, int]], grow: bool):
    """Feature ids (0: not seen in training), labels and users of the rows, as tensors."""
    ids = []
    for row in rows:
        line = []
        for feature, vocabulary in zip(FEATURES, vocabularies):
            value = row.get(feature, "")
            if grow and value not in vocabulary:
                vocabulary[value] = len(vocabulary) + 1
            line.append(vocabulary.get(value, 0))
        ids.append(line)
    labels = torch.tensor([[float(row[t]) for t in TASKS] for row in rows])
    users = torch.tensor([int(row["user_id"]) for row in rows])
    return torch.tensor(ids), labels, users


def load():
    folder = data_dir()
    users = {row["user_id"]: {f: row[f] for f in USER_FEATURES} for row in read_csv(folder / "user_features_pure.csv.gz")}
    videos = {row["video_id"]: {f: row[f] for f in VIDEO_FEATURES} for row in read_csv(folder / "video_features_basic_pure.csv.gz")}
    train_validation = rows_of(folder / "kuairand_pure_standard_val_20220425_0430.csv.gz", users, videos)
    test = rows_of(folder / "kuairand_pure_standard_test_20220501_0508.csv.gz", users, videos)
    order = torch.randperm(len(train_validation), generator=torch.Generator().manual_seed(7)).tolist()
    held_out = len(order) // 10
    validation = [train_validation[i] for i in order[:held_out]]
    train = [train_validation[i] for i in order[held_out:]]
    vocabularies: list[dict[str, int]] = [{} for _ in FEATURES]
    splits = {"train": encode(train, vocabularies, grow=True)}
    splits["validation"] = encode(validation, vocabularies, grow=False)
    splits["test"] = encode(test, vocabularies, grow=False)
    return splits, [len(v) + 1 for v in vocabularies]


def main() -> None:
    torch.manual_seed(1)
    splits, vocabularies = load()
    model = PLE(vocabularies, len(TASKS), embedding_dim=16, experts=(256, 128, 64), towers=(32, 16), dropout=0.2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)

    def predict(split: str):
        ids, labels, users = splits[split]
        model.eval()
        with torch.no_grad():
            probabilities = torch.cat([torch.sigmoid(model(chunk)) for chunk in ids.split(8192)])
        model.train()
        return probabilities, labels, users

    with Studio(
        model,
        shared=model.shared,
        towers=dict(zip(TASKS, model.towers)),
        tasks=TASKS,
        strategy="gradcraft",
        params={"tau": 0.1, "eps": 1e-10},
        optimizer=optimizer,
        on_evaluate=predict,
        name="kuairand-pytorch",
    ) as studio:
        training = studio.config.get("training", {})
        batch_size = training.get("batchSize", 2048)
        ids, labels, _ = splits["train"]
        generator = torch.Generator().manual_seed(1)
        for epoch in range(training.get("epochs", 5)):
            batches = torch.randperm(len(ids), generator=generator).split(batch_size)
            for index, rows in enumerate(batches):
                batch_labels = labels[rows]
                losses = [  # one scalar per task, each from its own output
                    nn.functional.binary_cross_entropy_with_logits(logits.squeeze(1), batch_labels[:, t])
                    for t, logits in enumerate(model.task_logits(ids[rows]))
                ]
                studio.backward(losses)
                optimizer.step()
                optimizer.zero_grad()
                if not studio.end_step(epoch + (index + 1) / len(batches)):
                    break
            if studio.stop_requested:
                break
            studio.run_evaluation("validation")
        studio.evaluate("test", *predict("test"))


if __name__ == "__main__":
    main()
