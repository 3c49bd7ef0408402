"""Worked solutions to the exercises of lecture 16 (AIOps: logs and tool sensors).

    deepfab exercise L16 1 --smoke
"""
from __future__ import annotations

INJECT = {"unseen": 3, "burst": 3, "order": 3, "missing": 3}


def _plan(smoke: bool) -> dict:
    return dict(sizes=(10,), ks=(1, 3, 9), epochs=2) if smoke else dict(sizes=(20,), ks=(1, 2, 3, 5, 9), epochs=30)


def exercise_1(smoke: bool = False, seed: int = 0) -> dict:
    """Train through the boot: move the Thunderbird split so that the node boot is in the training part.

    Section 3 split Thunderbird at 60 % / 80 %, which put the node boot (lines 1,200-1,600) in the
    validation part. Split at 80 % / 90 % instead and compare the false-alarm rate on normal test
    windows, the test F1 and the k that validation chooses (both splits with two anomalies of each kind
    but "missing": the 200-line parts hold no more, 25 lines apart)."""
    from ..aiops.loganomaly import log_anomaly_study

    out = {}
    for split in ((0.6, 0.8), (0.8, 0.9)):
        study = log_anomaly_study("Thunderbird", split=split, per_kind={"unseen": 2, "burst": 2, "order": 2},
                                  seed=seed, **_plan(smoke))
        key = f"{split[0]:.0%}/{split[1]:.0%}"
        out[key] = {r["method"]: {"f1": r["f1"], "false_alarm_rate": r["false_alarm_rate"],
                                  "k": r["k"] if r["method"] == "DeepLog" else 0} for r in study["rows"]}
        out[key]["unseen_share_val"] = study["unseen_share"]["val"]
        print(f"split {key}: unseen lines in validation {study['unseen_share']['val']:.0%}; " + "; ".join(
            f"{m} F1 {v['f1']:.3f}, false alarms {v['false_alarm_rate']:.0%}" for m, v in out[key].items()
            if isinstance(v, dict)) + f"; DeepLog's k {out[key]['DeepLog']['k']}")
    return out


def exercise_2(smoke: bool = False, seed: int = 0) -> dict:
    """How much history does DeepLog need? Histories 1, 3 and 10 on Thunderbird with injected anomalies.

    Rerun section 3's Thunderbird study with DeepLog's history h = 1, 3, 10 (window 20) and compare
    its test F1 and its recall on each injected kind, the "order" kind above all."""
    from ..aiops.loganomaly import log_anomaly_study

    out = {}
    for h in ((1, 10) if smoke else (1, 3, 10)):
        study = log_anomaly_study("Thunderbird", per_kind=INJECT, history=h, seed=seed, **_plan(smoke))
        row = next(r for r in study["rows"] if r["method"] == "DeepLog")
        out[f"h{h}"] = {"f1": row["f1"], "k": row["k"], **study["kind_recall"]["DeepLog"]}
        print(f"history {h:>2}: test F1 {row['f1']:.3f} (k {row['k']}), recall by kind " +
              ", ".join(f"{k} {v:.0%}" for k, v in study["kind_recall"]["DeepLog"].items()))
    return out


def exercise_3(smoke: bool = False, seed: int = 0) -> dict:
    """The tool on a log: deepfab logs detect on Thunderbird, first 1,200 lines normal, the rest new.

    Write the first 1,200 Thunderbird lines to normal.log and the other 800 to new.log, run
    `deepfab logs detect --train normal.log --data new.log --format Thunderbird --out scores.csv`,
    and count how many flagged windows fall in the node boot (sample lines 1,200-1,600, lines 1-400 of
    new.log) and which templates were unexpected most often."""
    from collections import Counter

    from ..aiops.logformat import LOGHUB_FORMATS
    from ..aiops.logmodel import train_log_model
    from ..data import load_loghub

    raw = load_loghub("Thunderbird").raw            # what the command does, as library calls
    lm = train_log_model(raw[:1200], LOGHUB_FORMATS["Thunderbird"], epochs=2 if smoke else 30, seed=seed)
    table = lm.score_lines(raw[1200:])
    flagged = table[table.flag == 1]
    in_boot = int((flagged.last_line <= 400).sum())
    odd = Counter(t for row in flagged.unexpected for t in row.split(" | ") if t)
    print(f"{len(flagged)} of {len(table)} windows flagged; {in_boot} of them inside the boot (new.log lines 1-400)")
    for t, n in odd.most_common(3):
        print(f"  {n:>3} windows: {t[:100]}")
    return {"windows": len(table), "flagged": len(flagged), "flagged_in_boot": in_boot,
            "flagged_after_boot": len(flagged) - in_boot}
